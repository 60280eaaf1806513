package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/triggers/awslambda/lambdatest"
)

// exampleDocs reads the YAML files of examples/<name>.
func exampleDocs(t *testing.T, name string) map[string]string {
	t.Helper()
	dir := filepath.Join("..", "..", "examples", name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		docs[e.Name()] = string(b)
	}
	return docs
}

// TestPodToLambda runs examples/k8s-resource-lambda unchanged under
// `flint dev --kubeconfig`: a Pod labelled app=my-pod is created in the API
// server, the resource source emits it, and the sensor invokes the Lambda
// function "hello" with {"name": "my-pod"}; a Pod without the label invokes
// nothing.
func TestPodToLambda(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	lambda := lambdatest.Start(t)
	lambda.Credentials("AKIDFLINTE2E", "e2e-secret")
	dev := startDev(t, exampleDocs(t, "k8s-resource-lambda"), []string{
		"AWS_ENDPOINT_URL_LAMBDA=" + lambda.URL,
		"FLINT_SECRET_AWS_SECRET_ACCESSKEY=AKIDFLINTE2E",
		"FLINT_SECRET_AWS_SECRET_SECRETKEY=e2e-secret",
	}, "--kubeconfig", env.Kubeconfig(t))

	ctx := context.Background()
	pods := env.Clients.Core.Pods("default")
	for _, p := range []struct{ name, app string }{{"other-pod", "other"}, {"my-pod", "my-pod"}} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Labels: map[string]string{"app": p.app}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
		}
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pods.Delete(context.Background(), p.name, metav1.DeleteOptions{}) })
	}

	deadline := time.Now().Add(30 * time.Second)
	for len(lambda.InvocationsOf("hello")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	dev.waitLog("trigger fired", map[string]string{"trigger": "hello"})
	time.Sleep(500 * time.Millisecond) // room for a wrong second invocation
	got := lambda.InvocationsOf("hello")
	if len(got) != 1 {
		t.Fatalf("hello invoked %d times, want 1 (only the app=my-pod Pod)\n%s", len(got), dev.output())
	}
	if string(got[0].Payload) != `{"name":"my-pod"}` {
		t.Fatalf("payload = %s, want {\"name\":\"my-pod\"}", got[0].Payload)
	}
	if got[0].AccessKeyID != "AKIDFLINTE2E" {
		t.Fatalf("signed with key id %q, want the one from the secret", got[0].AccessKeyID)
	}
}

// TestWebhookToWorkflow runs examples/webhook-workflow unchanged: a POST to
// the webhook submits an Argo Workflow whose "message" parameter is the
// body's message.
func TestWebhookToWorkflow(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, filepath.Join("..", "crds", "argo-workflows.yaml"))
	port := freeport.Port(t)
	docs := exampleDocs(t, "webhook-workflow")
	docs["eventsource.yaml"] = string(bytes.Replace([]byte(docs["eventsource.yaml"]), []byte(`"12001"`), []byte(fmt.Sprintf(`"%d"`, port)), 1))
	startDev(t, docs, nil, "--kubeconfig", env.Kubeconfig(t))
	waitListening(t, port)

	hook := fmt.Sprintf("http://127.0.0.1:%d/example", port)
	if code, resp := post(t, http.MethodPost, hook, "application/json", `{"message":"hello from flint"}`); code != http.StatusOK {
		t.Fatalf("POST = %d %q, want 200", code, resp)
	}
	workflows := env.Clients.Dynamic.Resource(schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}).Namespace("default")
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := workflows.List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) > 0 {
			if len(list.Items) != 1 {
				t.Fatalf("%d Workflows, want 1", len(list.Items))
			}
			wf := list.Items[0].Object
			b, _ := json.Marshal(wf["spec"])
			var spec struct {
				Arguments struct {
					Parameters []struct{ Name, Value string } `json:"parameters"`
				} `json:"arguments"`
			}
			if err := json.Unmarshal(b, &spec); err != nil {
				t.Fatal(err)
			}
			name := list.Items[0].GetName()
			if len(name) <= len("hello-world-") || name[:len("hello-world-")] != "hello-world-" {
				t.Fatalf("Workflow name %q, want generated from hello-world-", name)
			}
			if ps := spec.Arguments.Parameters; len(ps) != 1 || ps[0].Name != "message" || ps[0].Value != "hello from flint" {
				t.Fatalf("Workflow parameters = %+v, want message=hello from flint", ps)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no Workflow submitted within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

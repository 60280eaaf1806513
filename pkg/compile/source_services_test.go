package compile_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"knative.dev/pkg/apis"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/sources/host"
)

// TestSourcePorts compiles EventSources whose entries spread over ports
// (testdata/ports.yaml): each Knative Service has one container port, never
// one Knative reserves, runs the entries it names, and passes Knative's own
// validation; entries of one endpoint on two ports run in two Services.
func TestSourcePorts(t *testing.T) {
	t.Parallel()
	objs := mustCluster(t, load(t, "ports.yaml"))
	// want: Service name -> "port=<containerPort> entries=<FLINT_EVENT_NAMES>" and a word of its port's note.
	want := map[string][2]string{
		"github-github":    {"port=12000 entries=example", "routes the Service's URL to it"},
		"github-github-2":  {"port=13000 entries=example-without-api-credentials", "routes the Service's URL to it"},
		"spread-webhook":   {"port=8080 entries=", "on ports 12000 and 13000, but a Knative Service routes one port"},
		"clash-webhook":    {"port=8080 entries=first,other", "on ports 12000 and 13000"},
		"clash-webhook-2":  {"port=13000 entries=second", "routes the Service's URL to it"},
		"reserved-webhook": {"port=8080 entries=", "queue-proxy takes port 9090 in every pod"},
		"metrics-webhook":  {"port=8080 entries=", "the image serves its metrics on port 7777"},
		"single-webhook":   {"port=12000 entries=", "routes the Service's URL to it"},
	}
	if compile.DefaultSourcePort != 8080 {
		t.Fatalf("DefaultSourcePort = %d; the table above says 8080", compile.DefaultSourcePort)
	}
	ctx := apis.WithinCreate(context.Background())
	got := map[string]string{}
	for _, o := range objs {
		ksvc, ok := o.Value.(*servingv1.Service)
		if !ok {
			continue
		}
		c := ksvc.Spec.Template.Spec.Containers[0]
		if len(c.Ports) != 1 {
			t.Errorf("Service %s has %d container ports, want 1", ksvc.Name, len(c.Ports))
			continue
		}
		entries := ""
		for _, e := range c.Env {
			if e.Name == host.EnvEventNames {
				entries = e.Value
			}
		}
		got[ksvc.Name] = fmt.Sprintf("port=%d entries=%s", c.Ports[0].ContainerPort, entries)
		text, err := o.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := want[ksvc.Name]; ok && !strings.Contains(strings.ReplaceAll(string(text), "\n        # ", " "), w[1]) {
			t.Errorf("Service %s: its YAML does not say %q:\n%s", ksvc.Name, w[1], text)
		}
		// What Knative's admission webhook does: defaults, then validation.
		v := ksvc.DeepCopy()
		v.SetDefaults(ctx)
		if fe := v.Validate(ctx).Filter(apis.ErrorLevel); fe != nil {
			t.Errorf("Service %s is invalid for Knative: %v", ksvc.Name, fe)
		}
	}
	for name, w := range want {
		if got[name] != w[0] {
			t.Errorf("Service %s: %s, want %s", name, got[name], w[0])
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected Service %s (%s)", name, got[name])
		}
	}
}

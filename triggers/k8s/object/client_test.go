package object_test

import (
	"context"
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers/k8s/object"
)

// TestApplyPolicySteps reads an object that never gets the policy's labels
// (or has them) through client-go's fake dynamic client, standing in for an
// API server: the object is read once per step of policy.k8s.backoff, with
// Argo's defaults for what the backoff leaves out.
func TestApplyPolicySteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		backoff   string
		labelled  bool
		wantReads int
	}{
		{name: "three steps", backoff: `{steps: 3, duration: 1ms}`, wantReads: 3},
		{name: "steps 0 is 5", backoff: `{duration: 1ms, jitter: 0}`, wantReads: 5},
		{name: "one step", backoff: `{steps: 1}`, wantReads: 1},
		{name: "labels already there", backoff: `{steps: 3, duration: 1ms}`, labelled: true, wantReads: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := &unstructured.Unstructured{}
			obj.SetAPIVersion("v1")
			obj.SetKind("ConfigMap")
			obj.SetName("made")
			obj.SetNamespace("default")
			if tc.labelled {
				obj.SetLabels(map[string]string{"done": "true"})
			}
			gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
			client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
				map[schema.GroupVersionResource]string{gvr: "ConfigMapList"}, obj.DeepCopy())
			reads := 0
			client.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
				reads++
				return false, nil, nil
			})
			b := &v1alpha1.Backoff{}
			if err := yaml.Unmarshal([]byte(tc.backoff), b); err != nil {
				t.Fatal(err)
			}
			policy := &v1alpha1.TriggerPolicy{K8s: &v1alpha1.K8SResourcePolicy{
				Labels: map[string]string{"done": "true"}, Backoff: b, ErrorOnBackoffTimeout: true,
			}}
			_, err := object.ApplyPolicy(context.Background(), client.Resource(gvr).Namespace("default"), obj, policy)
			if reads != tc.wantReads {
				t.Errorf("read the object %d times, want %d", reads, tc.wantReads)
			}
			var timeout *object.LabelsTimeoutError
			if tc.labelled != (err == nil) || (!tc.labelled && !errors.As(err, &timeout)) {
				t.Errorf("ApplyPolicy = %v, want a labels timeout %v", err, !tc.labelled)
			}
		})
	}
}

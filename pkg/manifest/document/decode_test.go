package document

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDecodeSkipsOtherKinds(t *testing.T) {
	t.Parallel()
	in := []Input{{Name: "mixed.yaml", Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1"}
---
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: wf}
spec: {parallelism: 2, ratio: 0.5}
`)}}
	kinds := []Kind{{APIVersion: "argoproj.io/v1alpha1", Kind: "Sensor", New: func() metav1.Object { return &metav1.ObjectMeta{} }}}
	tests := []struct {
		name         string
		opts         Options
		wantSkipped  int
		wantProblems int
	}{
		{name: "skipped", opts: Options{SkipOtherKinds: true}, wantSkipped: 2},
		{name: "reported", opts: Options{}, wantProblems: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := NewDecoder("expected Sensor", tc.opts, kinds...).Decode(in)
			if len(res.Skipped) != tc.wantSkipped || len(res.Problems) != tc.wantProblems {
				t.Fatalf("Decode() skipped %d, problems %v; want %d skipped, %d problems",
					len(res.Skipped), res.Problems, tc.wantSkipped, tc.wantProblems)
			}
			if tc.wantSkipped == 0 {
				return
			}
			wf := res.Skipped[1]
			if wf.Origin.String() != "mixed.yaml#2" || wf.Kind != "WorkflowTemplate" || wf.Name != "wf" {
				t.Errorf("skipped = %+v", wf)
			}
			want := map[string]any{"parallelism": int64(2), "ratio": 0.5}
			if got := wf.Object["spec"]; !reflect.DeepEqual(got, want) {
				t.Errorf("spec = %#v, want %#v (integers as int64)", got, want)
			}
		})
	}
}

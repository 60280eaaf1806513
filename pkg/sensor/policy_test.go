package sensor

import (
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

func TestStatusAllowed(t *testing.T) {
	t.Parallel()
	allow := func(codes ...int32) *v1alpha1.TriggerPolicy {
		return &v1alpha1.TriggerPolicy{Status: &v1alpha1.StatusPolicy{Allow: codes}}
	}
	tests := []struct {
		name   string
		policy *v1alpha1.TriggerPolicy
		status int
		want   bool
	}{
		{"no policy allows 500", nil, 500, true},
		{"no status policy allows 500", &v1alpha1.TriggerPolicy{K8s: &v1alpha1.K8SResourcePolicy{}}, 500, true},
		{"nil allow list allows anything", &v1alpha1.TriggerPolicy{Status: &v1alpha1.StatusPolicy{}}, 404, true},
		{"listed status", allow(200, 201), 201, true},
		{"unlisted status", allow(200, 201), 202, false},
		{"unlisted error status", allow(200), 500, false},
		{"empty allow list allows nothing", allow([]int32{}...), 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := statusAllowed(tc.policy, tc.status); got != tc.want {
				t.Errorf("statusAllowed(%d) = %v, want %v", tc.status, got, tc.want)
			}
		})
	}
}

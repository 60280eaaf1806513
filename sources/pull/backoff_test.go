package pull

import (
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

func TestReconnect(t *testing.T) {
	t.Parallel()
	dur := func(s string) *v1alpha1.Int64OrString { v := v1alpha1.FromString(s); return &v }
	amount := func(s string) *v1alpha1.Amount { a := v1alpha1.NewAmount(s); return &a }
	tests := []struct {
		name string
		b    *v1alpha1.Backoff
		want Schedule
	}{
		{"no connectionBackoff keeps trying", nil, DefaultReconnect},
		{"Argo's defaults for what it leaves out, but no steps: never give up", &v1alpha1.Backoff{},
			Schedule{First: time.Second, Max: DefaultReconnect.Max, Factor: 1, Jitter: 1}},
		{"as written", &v1alpha1.Backoff{Duration: dur("2s"), Factor: amount("1.5"), Jitter: amount("0"), Steps: 10},
			Schedule{First: 2 * time.Second, Max: DefaultReconnect.Max, Factor: 1.5, Steps: 10}},
		{"no wait is still a wait", &v1alpha1.Backoff{Duration: dur("0s"), Steps: 3},
			Schedule{First: DefaultReconnect.First, Max: DefaultReconnect.Max, Factor: 1, Jitter: 1, Steps: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Reconnect(tc.b); got != tc.want {
				t.Errorf("Reconnect = %+v, want %+v", got, tc.want)
			}
		})
	}
}

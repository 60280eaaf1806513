package v1alpha1

import (
	"encoding/json"
	"testing"
	"time"
)

func TestBackoffDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		duration time.Duration
		factor   float64
		wantErr  bool
	}{
		{in: `{"duration": 1000000000, "factor": 2}`, duration: time.Second, factor: 2},
		{in: `{"duration": "1s", "factor": "1.5"}`, duration: time.Second, factor: 1.5},
		{in: `{"duration": "250", "factor": 0.5}`, duration: 250, factor: 0.5},
		{in: `{"duration": "3m", "factor": 1}`, duration: 3 * time.Minute, factor: 1},
		{in: `{"duration": "soon", "factor": 1}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			var b Backoff
			if err := json.Unmarshal([]byte(tc.in), &b); err != nil {
				t.Fatal(err)
			}
			d, err := b.Duration.Duration()
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Duration() = %v, want error", d)
				}
				return
			}
			if err != nil || d != tc.duration {
				t.Errorf("Duration() = %v, %v, want %v", d, err, tc.duration)
			}
			if f, err := b.Factor.Float64(); err != nil || f != tc.factor {
				t.Errorf("Factor = %v, %v, want %v", f, err, tc.factor)
			}
			out, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			var back Backoff
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatalf("round trip of %s: %v", out, err)
			}
			if d2, _ := back.Duration.Duration(); d2 != tc.duration {
				t.Errorf("round trip duration = %v, want %v", d2, tc.duration)
			}
		})
	}
}

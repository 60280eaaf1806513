package v1alpha1

import (
	"math"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// TestBackoffSchedule reads Backoffs as Argo Events does (Convert2WaitBackoff,
// with DefaultBackoff's values): the attempts, the waits before each retry at
// no and at full jitter, and the longest time all attempts of a minute each
// may take.
func TestBackoffSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string // "" is a nil Backoff
		want Schedule
		// waits are the waits before retries 1, 2, … without jitter.
		waits []time.Duration
		// longest is Longest(time.Minute).
		longest time.Duration
	}{
		{name: "absent: one attempt", want: Schedule{Attempts: 1, First: time.Second, Factor: 1, Jitter: 1}, longest: time.Minute},
		{name: "empty: Argo's DefaultBackoff", yaml: `{}`, want: DefaultSchedule(),
			waits: []time.Duration{time.Second, time.Second, time.Second, time.Second}, longest: 5*time.Minute + 8*time.Second},
		{name: "duration only: 5 attempts", yaml: `{duration: 30s}`, want: Schedule{Attempts: 5, First: 30 * time.Second, Factor: 1, Jitter: 1},
			waits: []time.Duration{30 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}, longest: 9 * time.Minute},
		{name: "one step", yaml: `{steps: 1, duration: 30s}`, want: Schedule{Attempts: 1, First: 30 * time.Second, Factor: 1, Jitter: 1}, longest: time.Minute},
		{name: "factor 2", yaml: `{steps: 4, duration: 1s, factor: 2}`, want: Schedule{Attempts: 4, First: time.Second, Factor: 2, Jitter: 1},
			waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, longest: 4*time.Minute + 14*time.Second},
		{name: "factor as a string, jitter 0", yaml: `{steps: 3, duration: "2s", factor: "1.5", jitter: 0}`,
			want:  Schedule{Attempts: 3, First: 2 * time.Second, Factor: 1.5, Jitter: 0},
			waits: []time.Duration{2 * time.Second, 3 * time.Second}, longest: 3*time.Minute + 5*time.Second},
		{name: "duration in nanoseconds", yaml: `{steps: 2, duration: 500000000, jitter: 0.5}`, want: Schedule{Attempts: 2, First: 500 * time.Millisecond, Factor: 1, Jitter: 0.5},
			waits: []time.Duration{500 * time.Millisecond}, longest: 2*time.Minute + 750*time.Millisecond},
		{name: "duration 0: no wait", yaml: `{steps: 3, duration: 0}`, want: Schedule{Attempts: 3, First: 0, Factor: 1, Jitter: 1},
			waits: []time.Duration{0, 0}, longest: 3 * time.Minute},
		{name: "factor 0 keeps the wait", yaml: `{steps: 3, factor: 0}`, want: Schedule{Attempts: 3, First: time.Second, Factor: 1, Jitter: 1},
			waits: []time.Duration{time.Second, time.Second}, longest: 3*time.Minute + 4*time.Second},
		{name: "values validation refuses take their default", yaml: `{steps: -2, duration: soon, factor: two, jitter: -1}`, want: DefaultSchedule(),
			waits: []time.Duration{time.Second, time.Second, time.Second, time.Second}, longest: 5*time.Minute + 8*time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b *Backoff
			if tc.yaml != "" {
				b = &Backoff{}
				if err := yaml.Unmarshal([]byte(tc.yaml), b); err != nil {
					t.Fatal(err)
				}
			}
			got := b.Schedule()
			if got != tc.want {
				t.Fatalf("Schedule() = %+v, want %+v", got, tc.want)
			}
			if len(tc.waits) != got.Attempts-1 {
				t.Fatalf("%d waits listed for %d attempts", len(tc.waits), got.Attempts)
			}
			longestWaits := time.Duration(0)
			for i, w := range tc.waits {
				if d := got.Wait(i+1, 0); d != w {
					t.Errorf("Wait(%d, 0) = %s, want %s", i+1, d, w)
				}
				full := w + time.Duration(got.Jitter*float64(w))
				if d := got.Wait(i+1, 1); d != full {
					t.Errorf("Wait(%d, 1) = %s, want %s", i+1, d, full)
				}
				longestWaits += full
			}
			if d := got.Longest(0); d != longestWaits {
				t.Errorf("Longest(0) = %s, want the waits' %s", d, longestWaits)
			}
			if d := got.Longest(time.Minute); d != tc.longest {
				t.Errorf("Longest(1m) = %s, want %s", d, tc.longest)
			}
		})
	}
}

// TestScheduleSaturates: a schedule longer than time.Duration can hold stops
// at its longest instead of wrapping to a negative or short time.
func TestScheduleSaturates(t *testing.T) {
	t.Parallel()
	s := (&Backoff{Steps: math.MaxInt32, Factor: &[]Amount{NewAmount("10")}[0]}).Schedule()
	if d := s.Longest(time.Minute); d != math.MaxInt64 {
		t.Errorf("Longest = %s, want the longest Duration", d)
	}
	if d := s.Wait(1000, 1); d != math.MaxInt64 {
		t.Errorf("Wait(1000, 1) = %s, want the longest Duration", d)
	}
	if d := s.Wait(0, 1); d != 0 {
		t.Errorf("Wait(0, 1) = %s, want 0", d)
	}
	slow := (&Backoff{Steps: math.MaxInt32}).Schedule()
	if d, want := slow.Longest(0), time.Duration(math.MaxInt32-1)*2*time.Second; d != want {
		t.Errorf("Longest(0) of %d waits of up to 2 s = %s, want %s", math.MaxInt32-1, d, want)
	}
}

package v1alpha1

import (
	"math"
	"time"
)

// Argo Events' defaults for what a Backoff leaves out (its DefaultBackoff):
// 5 attempts, 1 s between them, each wait the same as the last and up to
// twice as long with jitter.
const (
	// DefaultBackoffSteps is the number of attempts of a Backoff whose steps is 0.
	DefaultBackoffSteps = 5
	// DefaultBackoffDuration is the first wait of a Backoff without a duration.
	DefaultBackoffDuration = time.Second
	// DefaultBackoffFactor multiplies each next wait when a Backoff has no factor (or 0).
	DefaultBackoffFactor = 1.0
	// DefaultBackoffJitter is the most random fraction added to a wait when a
	// Backoff has no jitter.
	DefaultBackoffJitter = 1.0
)

// Schedule is a Backoff read with its defaults: how many attempts, and the
// waits between them. The wait before retry n is First × Factor^(n-1), plus
// up to Jitter times that, at random.
type Schedule struct {
	// Attempts is how many times the work is tried, at least 1.
	Attempts int
	// First is the wait before the first retry, without jitter.
	First time.Duration
	// Factor multiplies each next wait.
	Factor float64
	// Jitter is the most random fraction of a wait added to it; 0 adds none.
	Jitter float64
}

// DefaultSchedule is Argo Events' DefaultBackoff: what an absent
// `connectionBackoff` or `policy.k8s.backoff` means.
func DefaultSchedule() Schedule {
	return Schedule{Attempts: DefaultBackoffSteps, First: DefaultBackoffDuration, Factor: DefaultBackoffFactor, Jitter: DefaultBackoffJitter}
}

// Schedule reads b as Argo Events does: steps 0 means DefaultBackoffSteps
// attempts; no duration DefaultBackoffDuration (a duration of 0 means no
// wait); no factor, or 0, DefaultBackoffFactor; no jitter
// DefaultBackoffJitter (0 means none). A value that does not parse or is
// negative, which validation refuses, takes its default. A nil b means one
// attempt, as an absent `retryStrategy`; a caller for which absence means
// more (a `connectionBackoff`) uses DefaultSchedule.
func (b *Backoff) Schedule() Schedule {
	out := DefaultSchedule()
	if b == nil {
		out.Attempts = 1
		return out
	}
	if b.Steps > 0 {
		out.Attempts = int(b.Steps)
	}
	if b.Duration != nil {
		if d, err := b.Duration.Duration(); err == nil && d >= 0 {
			out.First = d
		}
	}
	if b.Factor != nil {
		if f, err := b.Factor.Float64(); err == nil && f > 0 {
			out.Factor = f
		}
	}
	if b.Jitter != nil {
		if j, err := b.Jitter.Float64(); err == nil && j >= 0 {
			out.Jitter = j
		}
	}
	return out
}

// Wait is the wait before retry n (n ≥ 1: after the n-th failed attempt):
// First × Factor^(n-1) plus the fraction r (in [0, 1]) of its jitter; r = 1
// gives the longest. It stops growing at the longest time.Duration.
func (s Schedule) Wait(n int, r float64) time.Duration {
	if n < 1 {
		return 0
	}
	base := float64(s.First) * math.Pow(s.Factor, float64(n-1))
	return saturate(base + base*s.Jitter*r)
}

// Longest is the longest time all attempts may take when each takes at most
// attempt: Attempts times attempt plus every wait at its longest jitter.
// Longest(0) is the longest all the waits may take. It stops growing at the
// longest time.Duration.
func (s Schedule) Longest(attempt time.Duration) time.Duration {
	n := max(s.Attempts, 1)
	// The waits are a geometric series: First × (1 + Jitter) × Σ Factor^k for k < n-1.
	sum := float64(n - 1)
	if s.Factor != 1 {
		sum = (math.Pow(s.Factor, float64(n-1)) - 1) / (s.Factor - 1)
	}
	waits := float64(s.First) * (1 + s.Jitter) * sum
	return saturate(float64(n)*float64(attempt) + waits)
}

// saturate converts nanoseconds to a Duration, none below 0 and none past the longest.
func saturate(ns float64) time.Duration {
	switch {
	case ns >= math.MaxInt64 || math.IsInf(ns, 1):
		return math.MaxInt64
	case ns > 0:
		return time.Duration(ns)
	default:
		return 0
	}
}

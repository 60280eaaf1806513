package pull

import (
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// Reconnect is the Reconnect schedule of an entry whose spec has Argo's
// `connectionBackoff` b: its first wait (each wait at most
// DefaultReconnect.Max, or the first when longer), factor and jitter, and
// its steps, when it sets them, as the failed dials in a row after which
// Run gives up (and the source's process ends, to be restarted, as Argo's
// source pod is). Without steps, or without b (DefaultReconnect), Run never
// gives up: a source outlives an outage of its origin instead of
// crash-looping through it, where Argo's default of 5 steps would stop it.
func Reconnect(b *v1alpha1.Backoff) Schedule {
	if b == nil {
		return DefaultReconnect
	}
	s := b.Schedule()
	first := s.First
	if first <= 0 {
		first = DefaultReconnect.First
	}
	out := Schedule{First: first, Max: max(first, DefaultReconnect.Max), Factor: s.Factor, Jitter: s.Jitter}
	if b.Steps > 0 {
		out.Steps = s.Attempts
	}
	return out
}

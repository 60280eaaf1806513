package nsq

import (
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources/pull"
)

// reconnectSchedule is the runner's wait between two connections of an
// entry, read from its `connectionBackoff`: its duration, factor and jitter,
// each wait at most pull.DefaultReconnect.Max (or the first wait, when
// longer). Its steps are not a limit: the source keeps connecting for as
// long as it runs. A nil b is the runner's default.
func reconnectSchedule(b *v1alpha1.Backoff) pull.Schedule {
	if b == nil {
		return pull.DefaultReconnect
	}
	s := b.Schedule()
	if s.First <= 0 {
		return pull.DefaultReconnect
	}
	return pull.Schedule{
		First:  s.First,
		Max:    max(pull.DefaultReconnect.Max, s.First),
		Factor: s.Factor,
		Jitter: s.Jitter,
	}
}

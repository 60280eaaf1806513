package sensor

import (
	"time"

	"golang.org/x/time/rate"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// newLimiter compiles a `rateLimit`: requestsPerUnit firings per unit
// (Second by default), with no burst; nil when there is no limit.
func newLimiter(rl *v1alpha1.RateLimit) *rate.Limiter {
	if rl == nil || rl.RequestsPerUnit <= 0 {
		return nil
	}
	unit := time.Second
	switch rl.Unit {
	case v1alpha1.Minute:
		unit = time.Minute
	case v1alpha1.Hour:
		unit = time.Hour
	}
	return rate.NewLimiter(rate.Every(unit/time.Duration(rl.RequestsPerUnit)), 1)
}

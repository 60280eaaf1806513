package http

import (
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// facts are what hosts read of the http type without building it: one
// firing takes at most its `timeout` (Argo's default when it names none),
// and a generated function test points it at a server of its own.
func facts() []triggers.Option {
	return []triggers.Option{
		triggers.AttemptTimeout(func(spec *v1alpha1.HTTPTrigger, _ *v1alpha1.Trigger) triggers.Attempt {
			secs := spec.Timeout
			if secs <= 0 {
				secs = v1alpha1.DefaultHTTPTriggerTimeout
			}
			return triggers.Attempt{Timeout: time.Duration(secs) * time.Second, Field: "template.http.timeout"}
		}),
		triggers.FiresInTest(triggers.TestFiresLocally),
	}
}

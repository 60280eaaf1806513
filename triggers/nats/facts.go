package nats

import (
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// facts are what hosts read of the nats type without building it: one
// firing takes at most AttemptTimeout, and a generated function test cannot
// stand in for a NATS server.
func facts() []triggers.Option {
	return []triggers.Option{
		triggers.AttemptTimeout(func(_ *v1alpha1.NATSTrigger, _ *v1alpha1.Trigger) triggers.Attempt {
			return triggers.Attempt{Timeout: AttemptTimeout, Field: "template.nats"}
		}),
		triggers.FiresInTest(triggers.TestNotFired),
	}
}

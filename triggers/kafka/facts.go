package kafka

import (
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// facts are what hosts read of the kafka type without building it: one
// firing takes at most ProduceTimeout, which the type fixes, and a
// generated function test does not fire it, as it needs a Kafka cluster.
func facts() []triggers.Option {
	return []triggers.Option{
		triggers.AttemptTimeout(func(_ *v1alpha1.KafkaTrigger, _ *v1alpha1.Trigger) triggers.Attempt {
			return triggers.Attempt{Timeout: ProduceTimeout, Field: "template.kafka"}
		}),
		triggers.FiresInTest(triggers.TestNotFired),
	}
}

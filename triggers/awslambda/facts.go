package awslambda

import (
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// facts are what hosts read of the awsLambda type without building it: one
// invocation takes at most DefaultTimeout, and a generated function test
// cannot stand in for AWS.
func facts() []triggers.Option {
	return []triggers.Option{
		triggers.AttemptTimeout(func(_ *v1alpha1.AWSLambdaTrigger, _ *v1alpha1.Trigger) triggers.Attempt {
			return triggers.Attempt{Timeout: DefaultTimeout, Field: "template.awsLambda"}
		}),
		triggers.FiresInTest(triggers.TestNotFired),
	}
}

package log

import (
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// facts are what hosts read of the log type without building it: a firing
// only writes a log line, taking no time worth counting, and a generated
// function test fires it as written.
func facts() []triggers.Option {
	return []triggers.Option{
		triggers.AttemptTimeout(func(_ *v1alpha1.LogTrigger, _ *v1alpha1.Trigger) triggers.Attempt {
			return triggers.Attempt{Field: "template.log"}
		}),
		triggers.FiresInTest(triggers.TestFiresAsIs),
	}
}

// Package builtin registers every trigger type flint ships; hosts import it
// for its side effect.
package builtin

import (
	_ "github.com/flintevents/flint/triggers/argoworkflow" // key "argoWorkflow"
	_ "github.com/flintevents/flint/triggers/awslambda"    // key "awsLambda"
	_ "github.com/flintevents/flint/triggers/http"         // key "http"
	_ "github.com/flintevents/flint/triggers/k8s"          // key "k8s"
	_ "github.com/flintevents/flint/triggers/kafka"        // key "kafka"
	_ "github.com/flintevents/flint/triggers/log"          // key "log"
	_ "github.com/flintevents/flint/triggers/nats"         // key "nats"
)

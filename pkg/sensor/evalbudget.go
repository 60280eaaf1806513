package sensor

import "github.com/flintevents/flint/pkg/evallimit"

// ErrEvalOutput is wrapped by the error of an evaluation stopped because a
// function would have built a string or list beyond the output limits of
// package evallimit: 4 MiB for one result, 64 MiB for one evaluation.
var ErrEvalOutput = evallimit.ErrExceeded

package manifest

import "github.com/flintevents/flint/pkg/manifest/document"

// Origin says where an object was read from; see document.Origin.
type Origin = document.Origin

// Problem is one thing wrong with the manifests; see document.Problem.
type Problem = document.Problem

// Problems is a list of problems; as an error it prints one per line.
type Problems = document.Problems

// Skipped is a document of a kind flint does not read; see document.Skipped.
type Skipped = document.Skipped

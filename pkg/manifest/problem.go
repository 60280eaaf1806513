package manifest

import (
	"fmt"
	"sort"
	"strings"

	"knative.dev/pkg/apis"
)

// Problem is one thing wrong with the manifests: where (file, document, field
// path) and why. The CLI prints it as `<file>[#doc]: <path>: <reason>`.
type Problem struct {
	// File is the path the document was read from ("<stdin>" for stdin).
	File string
	// Doc is the 1-based number of the document among the file's non-empty
	// documents; 0 when the problem concerns the whole file.
	Doc int
	// Docs is the number of non-empty documents in File.
	Docs int
	// Path is the field path within the document, e.g.
	// "spec.triggers[0].template.http.url"; empty for a whole-document problem.
	Path string
	// Reason says what is wrong, in knative FieldError style, e.g. "missing field(s)".
	Reason string

	seq int // load order of the document, for stable ordering
}

// Location renders the file and, when the file holds several documents, the
// document number: "sensors.yaml" or "all.yaml#2".
func (p Problem) Location() string {
	return location(p.File, p.Doc, p.Docs)
}

func location(file string, doc, docs int) string {
	if docs > 1 && doc > 0 {
		return fmt.Sprintf("%s#%d", file, doc)
	}
	return file
}

// String renders the problem as `<file>[#doc]: <path>: <reason>`, leaving out
// the path when there is none.
func (p Problem) String() string {
	if p.Path == "" {
		return p.Location() + ": " + p.Reason
	}
	return p.Location() + ": " + p.Path + ": " + p.Reason
}

// Problems is a list of problems; as an error it prints one per line.
type Problems []Problem

// Error implements error.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sortProblems orders problems by document load order, keeping the order
// within a document.
func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].seq < ps[j].seq })
}

// fieldErrorProblems flattens a knative FieldError into problems at origin o,
// one per path; details follow the message after "; ".
func fieldErrorProblems(o Origin, fe *apis.FieldError) Problems {
	var out Problems
	for _, e := range fe.Filter(apis.ErrorLevel).WrappedErrors() {
		reason := e.Message
		if e.Details != "" {
			reason += "; " + strings.Join(strings.Fields(e.Details), " ")
		}
		paths := e.Paths
		if len(paths) == 0 {
			paths = []string{""}
		}
		for _, p := range paths {
			out = append(out, o.problem(p, reason))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

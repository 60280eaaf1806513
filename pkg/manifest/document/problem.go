package document

import (
	"fmt"
	"sort"
	"strings"

	"knative.dev/pkg/apis"
)

// Origin says where an object was read from.
type Origin struct {
	// File is the path the document was read from ("<stdin>" for stdin).
	File string
	// Doc is the 1-based number of the document among the file's non-empty documents.
	Doc int
	// Docs is the number of non-empty documents in File.
	Docs int

	seq int
}

// String renders the origin as "file" or, for a multi-document file, "file#doc".
func (o Origin) String() string {
	return location(o.File, o.Doc, o.Docs)
}

// Problem returns a problem at path of the document o names.
func (o Origin) Problem(path, reason string) Problem {
	return Problem{File: o.File, Doc: o.Doc, Docs: o.Docs, Path: path, Reason: reason, seq: o.seq}
}

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

// Sort orders problems by document load order, keeping the order within a document.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].seq < ps[j].seq })
}

// FieldErrorProblems flattens a knative FieldError into problems at origin o,
// one per path, sorted by path; details follow the message after "; ".
func FieldErrorProblems(o Origin, fe *apis.FieldError) Problems {
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
			out = append(out, o.Problem(p, reason))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/flintevents/flint/pkg/manifest/document"
)

// StdinName is the file name problems and origins use for standard input.
const StdinName = document.StdinName

// Loader reads manifests.
type Loader struct {
	// Stdin is what the path "-" reads (nothing when nil).
	Stdin io.Reader
	// Strict makes unknown fields problems instead of the set's Warnings.
	Strict bool
}

// Load reads and strictly decodes the manifests at paths with os.Stdin as "-";
// see Loader.Load.
func Load(paths ...string) (*Set, error) {
	return Loader{Stdin: os.Stdin}.Load(paths...)
}

// Check loads, defaults and validates the manifests at paths with os.Stdin as
// "-"; see Loader.Check.
func Check(ctx context.Context, paths ...string) (*Set, Problems, error) {
	return Loader{Stdin: os.Stdin}.Check(ctx, paths...)
}

// LoadReader decodes the manifests of r, naming it name in origins and
// problems. It is strict: unknown fields are problems, since what a program
// reads this way (the EventSource `flint compile` wrote for a source image)
// was encoded from the typed objects and has none.
func LoadReader(r io.Reader, name string) (*Set, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return finishLoad(loadInputs([]document.Input{{Name: name, Data: data}}, true))
}

// CheckReader loads, defaults and validates the manifests of r, naming it
// name; unknown fields are problems, as in LoadReader.
func CheckReader(ctx context.Context, r io.Reader, name string) (*Set, Problems, error) {
	set, err := LoadReader(r, name)
	return check(ctx, set, err)
}

// Load reads and strictly decodes the manifests at paths: files (any name),
// directories (recursively, files ending in .yaml, .yml or .json, in lexical
// order, skipping hidden directories) and "-" for l.Stdin. Documents that are
// empty are skipped, and so are documents of other kinds (Set.Skipped).
// Unknown fields are the set's Warnings, or problems when l.Strict. An error
// is either an input error (missing file, unreadable stdin) or, when
// documents are malformed, a Problems value listing them; the returned Set
// then holds the documents that decoded.
func (l Loader) Load(paths ...string) (*Set, error) {
	inputs, err := document.Reader{Stdin: l.Stdin}.Read(paths...)
	if err != nil {
		return nil, err
	}
	return finishLoad(loadInputs(inputs, l.Strict))
}

// Check is Load followed by Set.Check: it returns the set, every problem
// found (decoding, validation and across objects) in input order, and an
// error only when an input cannot be read.
func (l Loader) Check(ctx context.Context, paths ...string) (*Set, Problems, error) {
	set, err := l.Load(paths...)
	return check(ctx, set, err)
}

func check(ctx context.Context, set *Set, loadErr error) (*Set, Problems, error) {
	var problems Problems
	if loadErr != nil && !errors.As(loadErr, &problems) {
		return nil, nil, loadErr
	}
	problems = append(problems, set.Check(ctx)...)
	problems.Sort()
	return set, problems, nil
}

func finishLoad(set *Set, problems Problems) (*Set, error) {
	if len(problems) > 0 {
		return set, problems
	}
	return set, nil
}

func loadInputs(inputs []document.Input, strict bool) (*Set, Problems) {
	opts := document.Options{Strict: strict, SkipOtherKinds: true}
	res := document.NewDecoder(expectedKinds, opts, kinds()...).Decode(inputs)
	set := &Set{Objects: make([]Object, 0, len(res.Documents)), Warnings: res.Warnings, Skipped: res.Skipped}
	for _, d := range res.Documents {
		set.Objects = append(set.Objects, newObject(d))
	}
	return set, res.Problems
}

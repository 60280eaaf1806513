package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// StdinName is the file name problems and origins use for standard input.
const StdinName = "<stdin>"

// Loader reads manifests; Stdin is what the path "-" reads (nothing when nil).
type Loader struct {
	Stdin io.Reader
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

// LoadReader decodes the manifests of r, naming it name in origins and problems.
func LoadReader(r io.Reader, name string) (*Set, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return finishLoad(loadInputs(newDecoder(), []input{{name: name, data: data}}))
}

// CheckReader loads, defaults and validates the manifests of r, naming it name.
func CheckReader(ctx context.Context, r io.Reader, name string) (*Set, Problems, error) {
	set, err := LoadReader(r, name)
	return check(ctx, set, err)
}

// Load reads and strictly decodes the manifests at paths: files (any name),
// directories (recursively, files ending in .yaml, .yml or .json, in lexical
// order, skipping hidden directories) and "-" for l.Stdin. Documents that are
// empty are skipped. An error is either an input error (missing file,
// unreadable stdin) or, when documents are malformed, a Problems value listing
// them; the returned Set then holds the documents that decoded.
func (l Loader) Load(paths ...string) (*Set, error) {
	inputs, err := l.readInputs(paths)
	if err != nil {
		return nil, err
	}
	return finishLoad(loadInputs(newDecoder(), inputs))
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
	sortProblems(problems)
	return set, problems, nil
}

func finishLoad(set *Set, problems Problems) (*Set, error) {
	if len(problems) > 0 {
		return set, problems
	}
	return set, nil
}

// input is the content of one file to decode.
type input struct {
	name string
	data []byte
	// problem, when set, replaces decoding (e.g. a directory without manifests).
	problem string
}

func loadInputs(d *decoder, inputs []input) (*Set, Problems) {
	set := &Set{}
	var problems Problems
	for _, in := range inputs {
		if in.problem != "" {
			d.seq++
			problems = append(problems, Problem{File: in.name, Reason: in.problem, seq: d.seq})
			continue
		}
		objs, ps := d.decodeFile(in.name, in.data)
		set.Objects = append(set.Objects, objs...)
		problems = append(problems, ps...)
	}
	return set, problems
}

func (l Loader) readInputs(paths []string) ([]input, error) {
	if len(paths) == 0 {
		return nil, errors.New("reading manifests: no file, directory or - given")
	}
	var (
		inputs    []input
		seen      = map[string]bool{}
		stdinRead bool
	)
	for _, p := range paths {
		if p == "-" {
			if stdinRead {
				return nil, errors.New("reading manifests: - given more than once")
			}
			stdinRead = true
			var data []byte
			if l.Stdin != nil {
				var err error
				if data, err = io.ReadAll(l.Stdin); err != nil {
					return nil, fmt.Errorf("reading stdin: %w", err)
				}
			}
			inputs = append(inputs, input{name: StdinName, data: data})
			continue
		}
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			inputs = append(inputs, input{name: p, problem: "no .yaml, .yml or .json files in directory"})
			continue
		}
		for _, f := range files {
			clean := filepath.Clean(f)
			if seen[clean] {
				continue
			}
			seen[clean] = true
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading manifests: %w", err)
			}
			inputs = append(inputs, input{name: f, data: data})
		}
	}
	return inputs, nil
}

// expand returns p itself for a file, or the manifest files under directory p.
func expand(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	return files, nil
}

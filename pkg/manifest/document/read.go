package document

import (
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

// Input is the content of one file to decode.
type Input struct {
	// Name is the file's path, or StdinName.
	Name string
	// Data is the file's content.
	Data []byte
	// Problem, when set, replaces decoding (e.g. a directory without manifests).
	Problem string
}

// Reader reads manifest files; Stdin is what the path "-" reads (nothing when nil).
type Reader struct {
	Stdin io.Reader
}

// Read returns the inputs at paths: files (any name), directories
// (recursively, files ending in .yaml, .yml or .json, in lexical order,
// skipping hidden directories) and "-" for r.Stdin. A file named twice is
// read once; a directory without manifests becomes an Input with a Problem.
func (r Reader) Read(paths ...string) ([]Input, error) {
	if len(paths) == 0 {
		return nil, errors.New("reading manifests: no file, directory or - given")
	}
	var (
		inputs    []Input
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
			if r.Stdin != nil {
				var err error
				if data, err = io.ReadAll(r.Stdin); err != nil {
					return nil, fmt.Errorf("reading stdin: %w", err)
				}
			}
			inputs = append(inputs, Input{Name: StdinName, Data: data})
			continue
		}
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			inputs = append(inputs, Input{Name: p, Problem: "no .yaml, .yml or .json files in directory"})
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
			inputs = append(inputs, Input{Name: f, Data: data})
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

package compile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FunctionsDir is the directory of the output that holds the kn func projects.
const FunctionsDir = "functions"

// File is one file of the compiled output.
type File struct {
	// Path is relative to the output directory, with forward slashes.
	Path string
	Data []byte
}

// Files lays out the compiled output: one YAML file per object at the top
// of the directory (or in its Dir), named "<namespace>_<kind>_<name>.yaml"
// ("cluster_…" for cluster-scoped objects), so that `kubectl apply -f DIR`
// applies those at the top and nothing else; and each project under
// "functions/<name>/" (or "functions/<namespace>/<name>/" when two
// namespaces hold a function of that name). The result depends only on its arguments.
func Files(objs []Object, projects []*Project) ([]File, error) {
	var out []File
	taken := map[string]bool{}
	for _, o := range objs {
		ns := o.Value.GetNamespace()
		if ns == "" {
			ns = "cluster"
		}
		dir := ""
		if o.Dir != "" {
			dir = o.Dir + "/"
		}
		name := fmt.Sprintf("%s%s_%s_%s.yaml", dir, ns, strings.ToLower(o.Kind()), o.Value.GetName())
		if taken[name] {
			// Two kinds of one name in different groups, e.g. a Knative and a core Service.
			group := o.Value.GetObjectKind().GroupVersionKind().Group
			name = fmt.Sprintf("%s%s_%s.%s_%s.yaml", dir, ns, strings.ToLower(o.Kind()), group, o.Value.GetName())
		}
		if taken[name] {
			return nil, fmt.Errorf("writing %s %s/%s: another object has that kind, namespace and name", o.Kind(), ns, o.Value.GetName())
		}
		taken[name] = true
		data, err := o.YAML()
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: name, Data: data})
	}
	names := map[string]int{}
	for _, p := range projects {
		names[p.Name]++
	}
	for _, p := range projects {
		dir := FunctionsDir + "/" + p.Name
		if names[p.Name] > 1 {
			dir = FunctionsDir + "/" + p.Namespace + "/" + p.Name
		}
		files := make([]string, 0, len(p.Files))
		for f := range p.Files {
			files = append(files, f)
		}
		sort.Strings(files)
		for _, f := range files {
			out = append(out, File{Path: dir + "/" + f, Data: p.Files[f]})
		}
	}
	return out, nil
}

// Write writes files under dir, creating directories as needed and
// replacing files of the same name; it leaves other files alone.
func Write(dir string, files []File) error {
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	}
	return nil
}

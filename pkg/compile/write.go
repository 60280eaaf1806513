package compile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// FunctionsDir is the directory of the output that holds the kn func projects.
const FunctionsDir = "functions"

// ManifestFile is the file of an output directory that lists, one a line,
// the files Write wrote there: the next Write into the directory replaces
// them and removes those it no longer writes. `kubectl apply -f` and `ko
// apply -f` read only .yaml, .yml and .json files, so they skip it.
const ManifestFile = ".flint-compile"

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
	dirs := ProjectDirs(projects)
	for i, p := range projects {
		dir := dirs[i]
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

// ProjectDirs are the directories of the output, with forward slashes,
// that hold projects, in order: "functions/<name>", or
// "functions/<namespace>/<name>" when two namespaces have a function of that name.
func ProjectDirs(projects []*Project) []string {
	names := map[string]int{}
	for _, p := range projects {
		names[p.Name]++
	}
	out := make([]string, len(projects))
	for i, p := range projects {
		out[i] = FunctionsDir + "/" + p.Name
		if names[p.Name] > 1 {
			out[i] = FunctionsDir + "/" + p.Namespace + "/" + p.Name
		}
	}
	return out
}

// WriteOptions say how Write treats a directory that holds files already.
type WriteOptions struct {
	// Force writes into a directory that holds files no earlier Write wrote,
	// replacing those of the same name as an output file and leaving the
	// others alone.
	Force bool
}

// Written is what Write did besides writing the files.
type Written struct {
	// Removed are the files of the earlier output in the directory that this
	// one no longer has, sorted.
	Removed []string
	// Others are the files no earlier Write wrote that Force left in the
	// directory, sorted; files that `kn func` keeps in a project directory
	// are not counted.
	Others []string
}

// Write writes files under dir, creating directories as needed and
// replacing files of the same names, and lists them in dir's ManifestFile,
// so that the directory holds one output that `kubectl apply -f DIR`
// applies again without stale objects: the files an earlier Write listed
// there and files no longer has are removed. Write never removes a file no
// earlier Write wrote, and unless opts.Force it refuses, before writing
// anything, a directory that holds one of another name than files have,
// apart from those `kn func` keeps in a project directory (see withinProject).
func Write(dir string, files []File, opts WriteOptions) (Written, error) {
	var w Written
	earlier, err := readManifest(dir)
	if err != nil {
		return w, err
	}
	now := map[string]bool{}
	for _, f := range files {
		now[f.Path] = true
	}
	others, err := otherFiles(dir, earlier, now)
	if err != nil {
		return w, err
	}
	if len(others) > 0 && !opts.Force {
		shown := others
		if len(shown) > 3 {
			shown = append(shown[:3:3], "…")
		}
		return w, fmt.Errorf("writing output: %s holds %d files that flint compile did not write (%s): "+
			"`kubectl apply -f %s` would apply them with the output; use an empty directory, or --force to write beside them",
			dir, len(others), strings.Join(shown, ", "), dir)
	}
	w.Others = others
	for p := range earlier {
		if !now[p] {
			w.Removed = append(w.Removed, p)
		}
	}
	sort.Strings(w.Removed)
	// Until the end the manifest lists both outputs, so that an interrupted
	// Write leaves no file unaccounted for.
	if err := writeManifest(dir, union(earlier, now)); err != nil {
		return w, err
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return w, fmt.Errorf("writing output: %w", err)
		}
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return w, fmt.Errorf("writing output: %w", err)
		}
	}
	for _, rel := range w.Removed {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return w, fmt.Errorf("removing %s of the earlier output: %w", rel, err)
		}
		removeEmptyParents(dir, path.Dir(rel))
	}
	return w, writeManifest(dir, now)
}

// readManifest returns the files dir's ManifestFile lists, none when it has
// none. Only paths within dir count.
func readManifest(dir string) (map[string]bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the earlier output's %s: %w", ManifestFile, err)
	}
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || !filepath.IsLocal(filepath.FromSlash(line)) || line == ManifestFile {
			continue
		}
		out[line] = true
	}
	return out, sc.Err()
}

// writeManifest lists files in dir's ManifestFile.
func writeManifest(dir string, files map[string]bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b bytes.Buffer
	b.WriteString("# The files `flint compile` wrote here. The next compile into this directory\n" +
		"# replaces them and removes those it no longer writes; it leaves other files alone.\n")
	for _, p := range paths {
		b.WriteString(p + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// otherFiles lists the files under dir, sorted, that neither the earlier
// output nor this one has, leaving out those within a project directory of
// either, where `kn func` keeps files of its own (see withinProject).
func otherFiles(dir string, earlier, now map[string]bool) ([]string, error) {
	projects := map[string]bool{}
	for _, set := range []map[string]bool{earlier, now} {
		for p := range set {
			if strings.HasPrefix(p, FunctionsDir+"/") {
				projects[path.Dir(p)] = true
			}
		}
	}
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == ManifestFile || earlier[rel] || now[rel] || withinProject(rel, projects) {
			return nil
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading output directory: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

// withinProject tells whether rel lies under one of the project
// directories, or under FunctionsDir in a directory `kn func` keeps its
// build state in (.func), which outlives a project compile removed.
func withinProject(rel string, projects map[string]bool) bool {
	if !strings.HasPrefix(rel, FunctionsDir+"/") {
		return false
	}
	for d := path.Dir(rel); d != "." && d != "/"; d = path.Dir(d) {
		if projects[d] || path.Base(d) == funcStateDir {
			return true
		}
	}
	return false
}

// funcStateDir is the directory of a kn func project where `kn func` keeps
// its build state.
const funcStateDir = ".func"

// removeEmptyParents removes rel and its parents under dir while they are empty.
func removeEmptyParents(dir, rel string) {
	for ; rel != "." && rel != "/" && rel != ""; rel = path.Dir(rel) {
		if os.Remove(filepath.Join(dir, filepath.FromSlash(rel))) != nil {
			return
		}
	}
}

func union(a, b map[string]bool) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for p := range a {
		out[p] = true
	}
	for p := range b {
		out[p] = true
	}
	return out
}

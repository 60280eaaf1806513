package compile

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/tidwall/sjson"
	"sigs.k8s.io/yaml"

	fntemplate "github.com/flintevents/flint/functions/template"
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// Defaults of the kn func projects Function writes.
const (
	// FlintModule is the module path of flint, which every project requires.
	FlintModule = "github.com/flintevents/flint"
	// DefaultGoVersion is the go directive of a project when FunctionOptions names none.
	DefaultGoVersion = "1.26.0"
	// SensorTarget is the concurrency target of a sensor's pods: a delivery
	// lasts as long as the sensor's triggers take, so a pod takes a few at once.
	SensorTarget = 10
	// created is the fixed creation time of every func.yaml, so that
	// compiling the same input twice writes the same files.
	created = "2024-01-01T00:00:00Z"
)

// Module is one module requirement of a generated project.
type Module struct {
	Path, Version string
	// Indirect marks a requirement the project does not import itself.
	Indirect bool
}

// FunctionOptions say how a generated project reaches flint.
type FunctionOptions struct {
	// FlintVersion is the version of flint's module that go.mod requires:
	// the compiling binary's own, so that the function runs the engine that
	// checked its Sensor. "v0.0.0" when empty, which no proxy serves.
	FlintVersion string
	// FlintSums are the go.sum lines of flint's module at FlintVersion (its
	// zip and its go.mod); without them go.sum lacks flint's own checksums.
	FlintSums []string
	// GoSum is flint's own go.sum, the checksums of every module flint
	// requires; with FlintSums it makes the project's go.sum complete.
	GoSum []byte
	// FlintSource, when set, is the absolute path of a flint checkout that
	// go.mod replaces the flint module with, so that `go test` in the
	// project runs against it. It is a development aid: func's builders drop
	// replace lines, so a deployed function still needs FlintVersion served.
	FlintSource string
	// GoVersion is go.mod's go directive; DefaultGoVersion when empty.
	GoVersion string
	// Requires are flint's own module requirements, copied into go.mod so
	// that the project resolves flint's dependencies at flint's versions.
	Requires []Module
	// Triggers looks up the trigger types the Sensor uses (triggers.Lookup):
	// the function imports the package of each, and no other.
	Triggers func(key string) (triggers.Type, bool)
	// NATSURL is the NATS whose JetStream keeps the sensor's state, shared
	// by every pod of the function (FLINT_NATS_URL); DefaultNATSURL when empty.
	NATSURL string
	// StateReplicas is the replica count of the function's state bucket
	// (FLINT_STATE_REPLICAS); DefaultStateReplicas when zero.
	StateReplicas int
}

// DefaultStateReplicas is the replica count of a sensor function's state
// bucket (FLINT_STATE_REPLICAS): the servers of config/'s NATS cluster, as
// config-flint's stream-replicas gives the broker streams.
const DefaultStateReplicas = 3

// CheckoutOptions returns the FunctionOptions of the flint checkout at dir:
// its requirements, go directive and go.sum, with a replace to dir; the
// caller sets FlintVersion, FlintSums and Triggers.
func CheckoutOptions(dir string) (FunctionOptions, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return FunctionOptions{}, fmt.Errorf("locating flint source: %w", err)
	}
	mod, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		return FunctionOptions{}, fmt.Errorf("reading flint source: %w", err)
	}
	module, goVersion, requires, err := parseGoMod(mod)
	if err != nil {
		return FunctionOptions{}, fmt.Errorf("reading %s: %w", filepath.Join(abs, "go.mod"), err)
	}
	if module != FlintModule {
		return FunctionOptions{}, fmt.Errorf("reading flint source: %s is module %q, not %s", abs, module, FlintModule)
	}
	sum, err := os.ReadFile(filepath.Join(abs, "go.sum"))
	if err != nil && !os.IsNotExist(err) {
		return FunctionOptions{}, fmt.Errorf("reading flint source: %w", err)
	}
	return FunctionOptions{FlintSource: abs, FlintVersion: "v0.0.0", GoVersion: goVersion, Requires: requires, GoSum: sum}, nil
}

// parseGoMod reads the module path, go directive and requirements of a go.mod.
func parseGoMod(data []byte) (module, goVersion string, requires []Module, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	inRequire := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		indirect := strings.HasSuffix(line, "// indirect")
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case inRequire && fields[0] == ")":
			inRequire = false
		case inRequire && len(fields) == 2:
			requires = append(requires, Module{Path: fields[0], Version: fields[1], Indirect: indirect})
		case fields[0] == "module" && len(fields) == 2:
			module = strings.Trim(fields[1], `"`)
		case fields[0] == "go" && len(fields) == 2:
			goVersion = fields[1]
		case fields[0] == "require" && len(fields) == 2 && fields[1] == "(":
			inRequire = true
		case fields[0] == "require" && len(fields) == 3:
			requires = append(requires, Module{Path: fields[1], Version: fields[2], Indirect: indirect})
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", nil, err
	}
	if module == "" {
		return "", "", nil, fmt.Errorf("no module directive")
	}
	return module, goVersion, requires, nil
}

// Project is one generated kn func project.
type Project struct {
	// Namespace and Name are the function's, which `kn func deploy` gives its Knative Service.
	Namespace, Name string
	// Sensor is the Sensor's name.
	Sensor string
	// Files maps a file name in the project directory to its content.
	Files map[string][]byte
}

// testEvent is one CloudEvent the generated test sends.
type testEvent struct {
	ID, Source, Subject, Type, Data string
}

// functionData is what the project templates are filled with.
type functionData struct {
	Name, Sensor, Namespace, Broker string
	Created                         string
	Envs                            []envVar
	NATSSecret                      string
	Secrets                         []string
	SecretsDir                      string
	Target                          int
	GoVersion, FlintVersion         string
	FlintSource                     string
	Requires                        []Module
	Events                          []testEvent
	Fire, HasLog                    bool
	NotFired                        string
	// Cluster lists the trigger types that need a cluster to build, e.g. "k8s".
	Cluster string
	// Triggers are the packages of the trigger types the Sensor uses.
	Triggers []triggerImport
	// ServiceAccount is the account the function runs as; "" for the namespace's default.
	ServiceAccount string
}

// SensorNATSSecret is the Secret, in a sensor function's namespace, whose
// keys user and password the function connects to NATS as: a copy of the
// Secret of the same name that config/ installs in flint-system, for the one
// user of the account that holds sensor state.
const SensorNATSSecret = "flint-nats-sensor"

// The variables that carry the function's NATS user (functions/sensor.NATSFromEnv).
const (
	envNATSUser      = "FLINT_NATS_USER"
	envNATSPassword  = "FLINT_NATS_PASSWORD"
	envStateReplicas = "FLINT_STATE_REPLICAS"
)

type envVar struct{ Name, Value string }

// funcSecretRef is func.yaml's reference to the key of a Secret in the
// function's namespace, which `kn func deploy` turns into a secretKeyRef.
func funcSecretRef(name, key string) string {
	return "{{ secret:" + name + ":" + key + " }}"
}

// triggerImport is one trigger type's package that handle.go imports.
type triggerImport struct{ Key, Package string }

// Function renders the kn func project of compiled sensor s from
// functions/template: func.yaml, go.mod, go.sum (when opts has one),
// handle.go, handle_test.go and sensor.yaml, the Sensor that handle.go
// embeds. eventSources are the EventSources of the input, which name the
// type of the events the generated test sends.
func Function(s Sensor, eventSources []*v1alpha1.EventSource, opts FunctionOptions) (*Project, error) {
	sensor := s.Sensor
	m, err := toMap(sensor)
	if err != nil {
		return nil, fmt.Errorf("encoding sensor %s: %w", sensor.Name, err)
	}
	clean(m)
	setNamespace(m, s.Namespace)
	sensorYAML, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding sensor %s: %w", sensor.Name, err)
	}
	data := functionData{
		Name: SensorServiceName(sensor.Name), Sensor: sensor.Name, Namespace: s.Namespace, Broker: s.Broker,
		Created: created, SecretsDir: SecretsDir, Target: SensorTarget,
		GoVersion: opts.GoVersion, FlintVersion: opts.FlintVersion, FlintSource: opts.FlintSource,
		Envs: []envVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: envNATSURL, Value: opts.NATSURL},
			{Name: envNATSUser, Value: funcSecretRef(SensorNATSSecret, "user")},
			{Name: envNATSPassword, Value: funcSecretRef(SensorNATSSecret, "password")},
			{Name: envStateReplicas, Value: strconv.Itoa(cmp.Or(opts.StateReplicas, DefaultStateReplicas))}},
		NATSSecret: SensorNATSSecret,
	}
	if opts.NATSURL == "" {
		data.Envs[1].Value = DefaultNATSURL
	}
	if data.GoVersion == "" {
		data.GoVersion = DefaultGoVersion
	}
	if data.FlintVersion == "" {
		data.FlintVersion = "v0.0.0"
	}
	for _, r := range opts.Requires {
		if r.Path != FlintModule {
			data.Requires = append(data.Requires, r)
		}
	}
	data.Secrets = sensorSecrets(sensor)
	if len(data.Secrets) > 0 {
		data.Envs = append(data.Envs, envVar{Name: envSecretsDir, Value: SecretsDir})
	}
	data.Events = testEvents(sensor, s.Namespace, eventSources)
	data.Fire, data.HasLog, data.NotFired = fireable(sensor)
	if data.Triggers, data.Cluster, err = triggerImports(sensor, opts.Triggers); err != nil {
		return nil, fmt.Errorf("sensor %s: %w", sensor.Name, err)
	}
	data.ServiceAccount = SensorServiceAccount(sensor)

	p := &Project{Namespace: s.Namespace, Name: data.Name, Sensor: sensor.Name,
		Files: map[string][]byte{"sensor.yaml": append([]byte("# The Sensor this function runs, as `flint compile` read it.\n"), sensorYAML...)}}
	if sum := goSum(opts.GoSum, opts.FlintSums); len(sum) > 0 {
		p.Files["go.sum"] = sum
	}
	tmpls := fntemplate.Files()
	names, err := fs.Glob(tmpls, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("listing function templates: %w", err)
	}
	for _, name := range names {
		text, err := fs.ReadFile(tmpls, name)
		if err != nil {
			return nil, fmt.Errorf("reading function template %s: %w", name, err)
		}
		t, err := template.New(name).Option("missingkey=error").Funcs(template.FuncMap{"join": strings.Join}).Parse(string(text))
		if err != nil {
			return nil, fmt.Errorf("parsing function template %s: %w", name, err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, data); err != nil {
			return nil, fmt.Errorf("rendering %s for sensor %s: %w", name, sensor.Name, err)
		}
		p.Files[strings.TrimSuffix(name, ".tmpl")] = out.Bytes()
	}
	return p, nil
}

// fireable says whether the generated test can fire every trigger of s
// (each type's registration says how: triggers.FiresInTest), whether one of
// them fires as written (a log trigger), and otherwise which types it cannot.
func fireable(s *v1alpha1.Sensor) (fire, hasLog bool, notFired string) {
	var others []string
	for i := range s.Spec.Triggers {
		t := &s.Spec.Triggers[i]
		if t.Template == nil {
			continue
		}
		key := t.Template.TypeKey()
		typ, _ := triggers.Lookup(key)
		switch typ.TestFiring {
		case triggers.TestFiresLocally:
		case triggers.TestFiresAsIs:
			hasLog = true
		default:
			others = append(others, key)
		}
	}
	if len(others) > 0 {
		sort.Strings(others)
		return false, hasLog, strings.Join(others, ", ")
	}
	return true, hasLog, ""
}

// triggerImports lists the packages of the trigger types of s, dlqTriggers
// included, sorted by key, and the keys of those that act on a cluster.
func triggerImports(s *v1alpha1.Sensor, types func(string) (triggers.Type, bool)) ([]triggerImport, string, error) {
	if types == nil {
		return nil, "", fmt.Errorf("no trigger types to look the Sensor's triggers up in")
	}
	var (
		imports []triggerImport
		cluster []string
	)
	for _, key := range triggerKeys(s) {
		t, ok := types(key)
		if !ok || t.Package == "" {
			return nil, "", fmt.Errorf("trigger type %q has no runtime in this build of flint", key)
		}
		imports = append(imports, triggerImport{Key: key, Package: t.Package})
		if t.Connect != nil {
			cluster = append(cluster, key)
		}
	}
	return imports, strings.Join(cluster, ", "), nil
}

// goSum merges flint's go.sum with the lines of flint's own module, sorted
// as the go command writes them.
func goSum(flint []byte, own []string) []byte {
	lines := map[string]bool{}
	for _, l := range strings.Split(string(flint), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines[l] = true
		}
	}
	for _, l := range own {
		lines[l] = true
	}
	if len(lines) == 0 {
		return nil
	}
	sorted := make([]string, 0, len(lines))
	for l := range lines {
		sorted = append(sorted, l)
	}
	sort.Strings(sorted)
	return []byte(strings.Join(sorted, "\n") + "\n")
}

// clusterTriggers lists the trigger types of s, dlqTriggers included, that
// act on a cluster: those registered with triggers.NeedsCluster.
func clusterTriggers(s *v1alpha1.Sensor) string {
	var keys []string
	for _, key := range triggerKeys(s) {
		if t, ok := triggers.Lookup(key); ok && t.Connect != nil {
			keys = append(keys, key)
		}
	}
	return strings.Join(keys, ", ")
}

// triggerKeys are the distinct type keys of the triggers of s, dlqTriggers
// included, sorted.
func triggerKeys(s *v1alpha1.Sensor) []string {
	seen := map[string]bool{}
	var keys []string
	add := func(t *v1alpha1.TriggerTemplate) {
		if t == nil {
			return
		}
		if key := t.TypeKey(); key != "" && !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	}
	for i := range s.Spec.Triggers {
		add(s.Spec.Triggers[i].Template)
		if d := s.Spec.Triggers[i].DlqTrigger; d != nil {
			add(d.Template)
		}
	}
	sort.Strings(keys)
	return keys
}

// testEvents is one event per distinct (event source, event name) of s's
// dependencies, whose data holds every data key its triggers read from it.
func testEvents(s *v1alpha1.Sensor, ns string, eventSources []*v1alpha1.EventSource) []testEvent {
	types := map[string]string{} // eventSourceName/eventName -> type key
	for _, es := range eventSources {
		if namespace(es.Namespace) != ns {
			continue
		}
		for _, key := range es.Spec.TypeKeys() {
			for _, n := range es.Spec.EventNames(key) {
				types[es.Name+"/"+n] = key
			}
		}
	}
	keys := dataKeys(s)
	var out []testEvent
	seen := map[string]int{}
	for _, d := range s.Spec.Dependencies {
		pair := d.EventSourceName + "/" + d.EventName
		i, ok := seen[pair]
		if !ok {
			typ := types[pair]
			if typ == "" {
				typ = v1alpha1.TypeWebhook
			}
			i = len(out)
			seen[pair] = i
			out = append(out, testEvent{ID: fmt.Sprintf("test-%d", i+1), Source: d.EventSourceName, Subject: d.EventName,
				Type: typ, Data: `{"header":{},"body":{}}`})
		}
		for _, k := range keys[d.Name] {
			if v, err := sjson.Set(out[i].Data, k, "test"); err == nil {
				out[i].Data = v
			}
		}
	}
	return out
}

var parameterSourceType = reflect.TypeOf(v1alpha1.TriggerParameterSource{})

// dataKeys lists, per dependency name, the data keys the triggers of s read.
func dataKeys(s *v1alpha1.Sensor) map[string][]string {
	out := map[string][]string{}
	walk(reflect.ValueOf(s.Spec.Triggers), func(v reflect.Value) bool {
		if v.Type() != parameterSourceType {
			return false
		}
		src := v.Interface().(v1alpha1.TriggerParameterSource)
		if src.DataKey != "" && !strings.ContainsAny(src.DataKey, "#*?|@") {
			out[src.DependencyName] = append(out[src.DependencyName], src.DataKey)
		}
		return true
	})
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// sensorSecrets lists the Secrets the triggers of s reference, sorted.
func sensorSecrets(s *v1alpha1.Sensor) []string {
	refs := collectSecrets(reflect.ValueOf(s.Spec.Triggers))
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.name
	}
	return names
}

// walk visits every struct in v; visit returns true when it consumed one
// and its fields need no visit.
func walk(v reflect.Value, visit func(reflect.Value) bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walk(v.Elem(), visit)
		}
	case reflect.Struct:
		if visit(v) {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walk(v.Field(i), visit)
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			walk(iter.Value(), visit)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walk(v.Index(i), visit)
		}
	}
}

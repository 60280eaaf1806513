package conformance

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"knative.dev/pkg/apis"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	"github.com/flintevents/flint/pkg/compile"
)

// argoExamplesEnv names the directory holding a copy of Argo Events'
// examples/ directory at argoExamplesRevision; the examples are not part of
// this repository.
const argoExamplesEnv = "FLINT_ARGO_EXAMPLES"

// argoExamplesRevision is the revision of argoproj/argo-events whose
// examples/event-sources and examples/sensors testdata/argo-examples-v1.9.txt
// lists, file for file.
const argoExamplesRevision = "v1.9.11 (d13fde07d944c081c25574305911908c80faa98e)"

// argoExamplesDir is $FLINT_ARGO_EXAMPLES, which `make test` sets from
// hack/argo-examples.sh. Without it the test fails under CI and skips,
// saying so, elsewhere.
func argoExamplesDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(argoExamplesEnv)
	if dir == "" {
		msg := fmt.Sprintf("$%s is not set: run `make test`, or set it to the output of hack/argo-examples.sh (the examples/ directory of Argo Events %s)", argoExamplesEnv, argoExamplesRevision)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("ARGO EXAMPLES NOT LOADED: " + msg)
	}
	return dir
}

// argoExampleNotRunnable are the Argo examples that load but use an option
// of a runnable type that this build cannot run yet, each with the warning
// `flint validate` prints (and `flint dev` refuses with); docs/compat.md
// lists them as "not yet". Examples whose whole source or trigger type is not
// runnable yet are not listed.
var argoExampleNotRunnable = map[string]string{
	"sensors/complete-trigger-parameterization.yaml": "spec.triggers[0].template.k8s.source.s3: not runnable yet",
	"sensors/context-filter-webhook.yaml":            "spec.triggers[0].template.k8s.source.s3: not runnable yet",
	"sensors/multi-trigger-sensor.yaml":              "spec.triggers[0].template.k8s.source.s3: not runnable yet",
	"sensors/trigger-source-git.yaml":                "spec.triggers[0].template.k8s.source.git: not runnable yet",
	"sensors/special-workflow-trigger.yaml":          `spec.triggers[0].template.argoWorkflow.args[0]: not runnable yet: argo CLI flag "--node-field-selector"`,
}

// argoExampleRefused are the Argo examples that flint refuses, each with the
// problem `flint validate` prints. trigger-openwhisk.yaml spells its trigger
// type `openwhisk:`; Argo's CRD keeps the unknown key and its validation
// passes a template without a type, so the Sensor is accepted and its
// trigger fails at every firing ("could not find an implementation"); flint
// refuses the template at load, naming the key that was meant
// (docs/compat.md §1).
var argoExampleRefused = map[string]string{
	"sensors/trigger-openwhisk.yaml": `spec.triggers[0].template: expected exactly one of [argoWorkflow, awsLambda, azureEventHubs, ` +
		`azureServiceBus, custom, email, http, k8s, kafka, log, nats, openWhisk, pulsar, slack], got none; ` +
		`openwhisk: unknown field, did you mean "openWhisk"?`,
}

// argoExampleList reads testdata/argo-examples-v1.9.txt.
func argoExampleList(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/argo-examples-v1.9.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestArgoExamples loads each of Argo's example YAMLs at
// argoExamplesRevision as `flint validate` does, unchanged: unknown fields
// are warnings, other kinds are skipped and what this build cannot run yet
// is a warning, so every one loads but those argoExampleRefused lists, which
// are refused with the problem it names.
func TestArgoExamples(t *testing.T) {
	dir := argoExamplesDir(t)
	t.Parallel()
	files := argoExampleList(t)
	for _, table := range []map[string]string{argoExampleNotRunnable, argoExampleRefused} {
		for name := range table {
			if !slices.Contains(files, name) {
				t.Errorf("%s is not in testdata/argo-examples-v1.9.txt", name)
			}
		}
	}
	loaded, refused := 0, 0
	for _, name := range files {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v (is $%s the examples/ directory of %s?)", name, err, argoExamplesEnv, argoExamplesRevision)
			continue
		}
		set, problems, notRunnable := checkRunnable(t, path)
		if want, listed := argoExampleRefused[name]; listed {
			if len(problems) != 1 || problems[0].Path+": "+problems[0].Reason != want {
				t.Errorf("%s: problems =\n%v\nwant exactly\n%s", name, problems, want)
				continue
			}
			refused++
			continue
		}
		if len(problems) > 0 || len(set.Objects)+len(set.Skipped) == 0 {
			t.Errorf("%s: problems:\n%v", name, problems)
			continue
		}
		loaded++
		if want, listed := argoExampleNotRunnable[name]; listed && !strings.Contains(notRunnable.Error(), want) {
			t.Errorf("%s: not runnable =\n%v\nwant one containing %q", name, notRunnable, want)
		}
	}
	t.Logf("%d of %d Argo examples of %s load; %d refused as expected", loaded, len(files), argoExamplesRevision, refused)
	if loaded+refused < len(files) {
		t.Errorf("%d of %d Argo examples load and %d are refused as expected; want all accounted for", loaded, len(files), refused)
	}
}

// TestArgoExampleEventSourcesCompile compiles, as `flint compile` does,
// every Argo example EventSource whose types this build runs: each becomes
// Knative Services of one container port, never one Knative reserves, that
// Knative's own validation accepts. Argo's webhook, github (entries on 12000
// and 13000) and resource examples must be among them.
func TestArgoExampleEventSourcesCompile(t *testing.T) {
	dir := argoExamplesDir(t)
	t.Parallel()
	ctx := apis.WithinCreate(context.Background())
	var compiled []string
	for _, name := range argoExampleList(t) {
		if !strings.HasPrefix(name, "event-sources/") {
			continue
		}
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		set, problems, notRunnable := checkRunnable(t, path)
		if len(problems) > 0 || len(notRunnable) > 0 || len(set.EventSources()) == 0 {
			continue // TestArgoExamples tells why
		}
		g, err := compile.Compile(compile.Input{EventSources: set.EventSources()}, compile.Options{SensorRef: compile.ServiceRef})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		objs, err := compile.Cluster(g, compile.ClusterOptions{})
		if err != nil {
			t.Errorf("%s: flint compile refuses it: %v", name, err)
			continue
		}
		services := 0
		for _, o := range objs {
			ksvc, ok := o.Value.(*servingv1.Service)
			if !ok {
				continue
			}
			services++
			v := ksvc.DeepCopy()
			v.SetDefaults(ctx)
			if fe := v.Validate(ctx).Filter(apis.ErrorLevel); fe != nil {
				t.Errorf("%s: Service %s is invalid for Knative: %v", name, ksvc.Name, fe)
			}
		}
		if services == 0 {
			t.Errorf("%s: no Knative Service compiled", name)
			continue
		}
		compiled = append(compiled, name)
	}
	t.Logf("compiled: %v", compiled)
	for _, want := range []string{"event-sources/github.yaml", "event-sources/resource.yaml", "event-sources/webhook.yaml"} {
		if !slices.Contains(compiled, want) {
			t.Errorf("%s did not compile", want)
		}
	}
}

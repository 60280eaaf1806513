package compile_test

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	"knative.dev/eventing/pkg/apis/feature"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/manifest"
)

// load reads, defaults and validates testdata/<name> as flint does before compiling.
func load(t *testing.T, name string) compile.Input {
	t.Helper()
	set, problems, err := manifest.Loader{}.Check(context.Background(), "testdata/"+name)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("testdata/%s: %v", name, problems)
	}
	return compile.Input{EventSources: set.EventSources(), Sensors: set.Sensors(), Brokers: set.Brokers(), Triggers: set.Triggers()}
}

func clusterURL(ns, name string) *apis.URL {
	return &apis.URL{Scheme: "http", Host: name + "." + ns + ".svc.cluster.local"}
}

func mustCompile(t *testing.T, in compile.Input) *compile.Graph {
	t.Helper()
	g, err := compile.Compile(in, compile.Options{SensorURL: clusterURL})
	if err != nil {
		t.Fatalf("Compile() error = %v", err)
	}
	return g
}

// summary renders what a user sees of a graph, one line per object.
func summary(g *compile.Graph) []string {
	var out []string
	for _, b := range g.Brokers {
		out = append(out, fmt.Sprintf("broker %s/%s class=%s", b.Namespace, b.Name, b.Annotations[compile.BrokerClassAnnotation]))
	}
	for _, tr := range g.Triggers {
		line := fmt.Sprintf("trigger %s/%s broker=%s -> %s", tr.Namespace, tr.Name, tr.Spec.Broker, tr.Spec.Subscriber.URI)
		if f := tr.Spec.Filter; f != nil {
			line += fmt.Sprintf(" source=%s subject=%s", f.Attributes["source"], f.Attributes["subject"])
		}
		out = append(out, line)
	}
	for _, s := range g.Sensors {
		out = append(out, fmt.Sprintf("sensor %s broker=%s/%s triggers=%v", s.Path, s.Namespace, s.Broker, s.Triggers))
	}
	for _, s := range g.Sources {
		out = append(out, fmt.Sprintf("source %s/%s %s -> %s", s.Namespace, s.EventSource.Name, s.Key, s.SinkPath))
	}
	return out
}

func TestCompileGraph(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{file: "graph.yaml", want: []string{
			"broker team/declared class=flint-jetstream",
			"broker default/default class=flint-jetstream",
			"broker team/orders-bus class=flint-jetstream",
			"trigger team/audit broker=declared -> http://audit.team.svc.cluster.local",
			"trigger default/webhook-example broker=default -> http://webhook.default.svc.cluster.local source=webhook subject=example",
			"trigger default/webhook-tick broker=default -> http://webhook.default.svc.cluster.local source=webhook subject=tick",
			"trigger team/orders-created broker=orders-bus -> http://orders.team.svc.cluster.local source=orders subject=created",
			"sensor /default/webhook broker=default/default triggers=[webhook-example webhook-tick]",
			"sensor /team/orders broker=team/orders-bus triggers=[orders-created]",
			"source default/webhook calendar -> /default/default",
			"source default/webhook webhook -> /default/default",
			"source team/orders webhook -> /team/orders-bus",
		}},
		{file: "collision.yaml", want: []string{
			"broker default/default class=flint-jetstream",
			"trigger /webhook-example broker=default -> http://elsewhere",
			"trigger default/webhook-example-e6818691 broker=default -> http://webhook.default.svc.cluster.local source=webhook subject=example",
			"sensor /default/webhook broker=default/default triggers=[webhook-example-e6818691]",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			got := summary(mustCompile(t, load(t, tc.file)))
			if !slices.Equal(got, tc.want) {
				t.Errorf("graph =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

var hashed = regexp.MustCompile(`-[0-9a-f]{8}$`)

func TestTriggerNamesAreLabels(t *testing.T) {
	t.Parallel()
	g := mustCompile(t, load(t, "nasty-names.yaml"))
	seen := map[string]bool{}
	var names []string
	for _, tr := range g.Triggers {
		names = append(names, tr.Name)
		if msgs := validation.IsDNS1123Label(tr.Name); len(msgs) > 0 {
			t.Errorf("trigger name %q is not a DNS-1123 label: %v", tr.Name, msgs)
		}
		if seen[tr.Namespace+"/"+tr.Name] {
			t.Errorf("trigger name %q used twice", tr.Name)
		}
		seen[tr.Namespace+"/"+tr.Name] = true
	}
	if len(names) != 8 {
		t.Fatalf("got %d triggers, want 8: %v", len(names), names)
	}
	for _, n := range names[:7] {
		if !hashed.MatchString(n) || !strings.HasPrefix(n, "my-sensor-") {
			t.Errorf("sanitised name %q lacks the readable prefix or the hash suffix", n)
		}
	}
	if names[7] != "my-sensor-mydep-1" {
		t.Errorf("already valid name = %q, want it unchanged", names[7])
	}
}

func TestTriggerName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 70)
	tests := []struct{ sensor, dep, want string }{
		{"webhook", "example", "webhook-example"},
		{"webhook", "myDep_1", "webhook-mydep-1-" + compile.TriggerName("webhook", "myDep_1")[16:]},
		{"s", long, "s-" + long[:52] + "-" + compile.TriggerName("s", long)[55:]},
	}
	for _, tc := range tests {
		got := compile.TriggerName(tc.sensor, tc.dep)
		if got != tc.want || len(got) > 63 || len(validation.IsDNS1123Label(got)) > 0 {
			t.Errorf("TriggerName(%q, %q) = %q, want %q (a label of at most 63 characters)", tc.sensor, tc.dep, got, tc.want)
		}
		if again := compile.TriggerName(tc.sensor, tc.dep); again != got {
			t.Errorf("TriggerName(%q, %q) not deterministic: %q then %q", tc.sensor, tc.dep, got, again)
		}
	}
	if compile.TriggerName("s", "myDep_1") == compile.TriggerName("s", "mydep-1") {
		t.Error("names that sanitise alike must differ")
	}
}

func TestCompiledObjectsValidate(t *testing.T) {
	t.Parallel()
	// Knative's default features, as a cluster runs them (delivery timeouts enabled).
	flags, err := feature.NewFlagsConfigFromMap(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := feature.ToContext(context.Background(), flags)
	for _, file := range []string{"graph.yaml", "nasty-names.yaml", "retry.yaml", "collision.yaml"} {
		g := mustCompile(t, load(t, file))
		for _, b := range g.Brokers {
			if err := b.Validate(ctx); err != nil {
				t.Errorf("%s: broker %s/%s: %v", file, b.Namespace, b.Name, err)
			}
		}
		for _, tr := range g.Triggers {
			if err := tr.Validate(ctx); err != nil {
				t.Errorf("%s: trigger %s/%s: %v", file, tr.Namespace, tr.Name, err)
			}
		}
	}
}

func TestCompileIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"graph.yaml", "nasty-names.yaml"} {
		first, err := yaml.Marshal(mustCompile(t, load(t, file)))
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			again, err := yaml.Marshal(mustCompile(t, load(t, file)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(first, again) {
				t.Fatalf("%s: compiling twice gave different graphs:\n%s\n---\n%s", file, first, again)
			}
		}
	}
}

// TestDelivery is the delivery spec of each Sensor of testdata/retry.yaml and
// the warnings `flint compile` prints for it: a delivery timeout never longer
// than the sensor revision's request timeout, and a warning naming the field
// that makes the triggers take longer.
func TestDelivery(t *testing.T) {
	t.Parallel()
	in := load(t, "retry.yaml")
	g := mustCompile(t, in)
	tests := []struct {
		sensor  string
		timeout string
		// warnings are the paths of TimeoutWarnings, each with a word of its message.
		warnings map[string]string
	}{
		// 3 attempts of 60 s and two waits of 1 s to 2 s (jitter 1 by default) fit in the default.
		{sensor: "quick", timeout: "PT5M"},
		// 4 attempts of 120 s, waits of 10, 20 and 40 s, each up to twice as long with jitter: 620 s.
		{sensor: "patient", timeout: "PT5M", warnings: map[string]string{"spec.triggers[0].retryStrategy": "10m20s"}},
		{sensor: "slow-http", timeout: "PT5M", warnings: map[string]string{"spec.triggers[0].template.http.timeout": "10m0s"}},
		{sensor: "at-limit", timeout: "PT5M"},
		// 120 s each, 360 s one after the other.
		{sensor: "many", timeout: "PT5M", warnings: map[string]string{"spec.triggers": "6m0s"}},
		{sensor: "slow-dlq", timeout: "PT5M", warnings: map[string]string{"spec.triggers[0].dlqTrigger.template.http.timeout": "6m40s"}},
	}
	sensors := map[string]*v1alpha1.Sensor{}
	for _, s := range in.Sensors {
		sensors[s.Name] = s
	}
	for _, tc := range tests {
		t.Run(tc.sensor, func(t *testing.T) {
			t.Parallel()
			found := false
			for _, tr := range g.Triggers {
				if tr.Name != tc.sensor+"-d" {
					continue
				}
				found = true
				d := tr.Spec.Delivery
				got := fmt.Sprintf("timeout=%s retry=%d policy=%s delay=%s", *d.Timeout, *d.Retry, *d.BackoffPolicy, *d.BackoffDelay)
				want := "timeout=" + tc.timeout + " retry=1448 policy=exponential delay=PT0.2S"
				if got != want {
					t.Errorf("delivery = %s, want %s", got, want)
				}
			}
			if !found {
				t.Fatalf("no Trigger %s-d", tc.sensor)
			}
			fe := compile.TimeoutWarnings(sensors[tc.sensor])
			got := map[string]string{}
			if fe != nil {
				if errs := fe.Filter(apis.ErrorLevel); errs != nil {
					t.Errorf("errors where warnings were due: %v", errs)
				}
				for _, w := range fe.WrappedErrors() {
					for _, p := range w.Paths {
						got[p] = w.Message
					}
				}
			}
			if len(got) != len(tc.warnings) {
				t.Fatalf("warnings %v, want paths %v", got, tc.warnings)
			}
			for path, word := range tc.warnings {
				msg, ok := got[path]
				if !ok {
					t.Errorf("no warning at %s; got %v", path, got)
					continue
				}
				for _, w := range []string{word, "5m0s", "PT5M"} {
					if !strings.Contains(msg, w) {
						t.Errorf("warning at %s = %q, want it to say %q", path, msg, w)
					}
				}
			}
		})
	}
}

func TestCompileNeedsSensorURL(t *testing.T) {
	t.Parallel()
	if _, err := compile.Compile(compile.Input{}, compile.Options{}); err == nil {
		t.Fatal("Compile() without SensorURL returned no error")
	}
}

func TestCompileLeavesInputAlone(t *testing.T) {
	t.Parallel()
	in := load(t, "graph.yaml")
	mustCompile(t, in)
	if a := in.Brokers[0].Annotations; a != nil {
		t.Errorf("declared broker annotations = %v after Compile, want them untouched", a)
	}
}

package manifest

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
)

func TestLoadTree(t *testing.T) {
	t.Parallel()
	set, err := Loader{}.Load("testdata/tree")
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	var got []string
	for _, o := range set.Objects {
		got = append(got, o.Origin.String()+" "+o.Kind+" "+o.Namespace()+"/"+o.Name())
	}
	want := []string{
		"testdata/tree/a-eventsource.yaml EventSource default/webhook",
		"testdata/tree/b-multi.yaml#1 Sensor default/webhook",
		"testdata/tree/b-multi.yaml#2 Broker default/default",
		"testdata/tree/nested/c-trigger.json Trigger default/webhook-sensor",
	}
	if !slices.Equal(got, want) {
		t.Errorf("objects =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if n := len(set.EventSources()) + len(set.Sensors()) + len(set.Brokers()) + len(set.Triggers()); n != 4 {
		t.Errorf("typed accessors found %d objects, want 4", n)
	}
	if got := set.Triggers()[0].Spec.Subscriber.URI.String(); got != "http://localhost:8080" {
		t.Errorf("trigger subscriber = %q", got)
	}
	if got := *set.Brokers()[0].Spec.Delivery.Retry; got != 3 {
		t.Errorf("broker retry = %d", got)
	}
}

func TestLoadInputs(t *testing.T) {
	t.Parallel()
	const sensor = `
apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: from-stdin}
spec:
  dependencies: [{name: d, eventSourceName: webhook, eventName: example}]
  triggers: [{template: {name: t, log: {}}}]
`
	tests := []struct {
		name      string
		loader    Loader
		paths     []string
		wantNames []string
		wantErr   string
	}{
		{name: "stdin", loader: Loader{Stdin: strings.NewReader(sensor)}, paths: []string{"-"}, wantNames: []string{"<stdin>:from-stdin"}},
		{name: "stdin and a file", loader: Loader{Stdin: strings.NewReader(sensor)},
			paths:     []string{"testdata/tree/a-eventsource.yaml", "-"},
			wantNames: []string{"testdata/tree/a-eventsource.yaml:webhook", "<stdin>:from-stdin"}},
		{name: "no stdin", paths: []string{"-"}},
		{name: "a file twice", paths: []string{"testdata/tree/a-eventsource.yaml", "testdata/tree/../tree/a-eventsource.yaml"},
			wantNames: []string{"testdata/tree/a-eventsource.yaml:webhook"}},
		{name: "stdin twice", loader: Loader{Stdin: strings.NewReader(sensor)}, paths: []string{"-", "-"},
			wantErr: "reading manifests: - given more than once"},
		{name: "missing file", paths: []string{"testdata/nope.yaml"},
			wantErr: "reading manifests: stat testdata/nope.yaml: no such file or directory"},
		{name: "nothing", wantErr: "reading manifests: no file, directory or - given"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set, err := tc.loader.Load(tc.paths...)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Load() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			var got []string
			for _, o := range set.Objects {
				got = append(got, o.Origin.File+":"+o.Name())
			}
			if !slices.Equal(got, tc.wantNames) {
				t.Errorf("objects = %v, want %v", got, tc.wantNames)
			}
		})
	}
}

func TestLoadErrorKinds(t *testing.T) {
	t.Parallel()
	_, err := Loader{}.Load("testdata/nope")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing input: error %v does not wrap fs.ErrNotExist", err)
	}
	set, err := Loader{}.Load("testdata/cases/cross-1.yaml", "testdata/cases/port-number.yaml")
	var problems Problems
	if !errors.As(err, &problems) {
		t.Fatalf("malformed document: error %T %v, want Problems", err, err)
	}
	if len(problems) != 1 || len(set.Objects) != 2 {
		t.Errorf("Load() = %d objects, problems %v; want the 2 good objects and 1 problem", len(set.Objects), problems)
	}
	if _, _, err := (Loader{}).Check(context.Background(), "testdata/nope"); err == nil {
		t.Error("Check() of a missing file returned no error")
	}
}

func TestLoadReader(t *testing.T) {
	t.Parallel()
	in := "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: cal}\nspec:\n  calendar:\n    tick: {interval: 10s}\n"
	set, err := LoadReader(strings.NewReader(in), "inline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if o := set.Objects[0]; o.Origin.String() != "inline.yaml" || o.EventSource.Spec.Calendar["tick"].Interval != "10s" {
		t.Errorf("object = %+v", o)
	}
	_, problems, err := CheckReader(context.Background(), strings.NewReader(in+"    bad: {}\n"), "inline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := problems.Error(); got != "inline.yaml: spec.calendar[bad]: expected schedule or interval" {
		t.Errorf("problems = %q", got)
	}
}

func TestCheckReaderIsStrict(t *testing.T) {
	t.Parallel()
	doc := "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: default\nspec:\n  colour: blue\n"
	tests := []struct {
		name string
		load func() (*Set, Problems)
		want int
	}{
		{name: "CheckReader: a problem", want: 1, load: func() (*Set, Problems) {
			set, ps, err := CheckReader(context.Background(), strings.NewReader(doc), "cm.yaml")
			if err != nil {
				t.Fatal(err)
			}
			return set, ps
		}},
		{name: "Loader: a warning", load: func() (*Set, Problems) {
			set, ps, err := Loader{Stdin: strings.NewReader(doc)}.Check(context.Background(), "-")
			if err != nil {
				t.Fatal(err)
			}
			return set, ps
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set, ps := tc.load()
			if len(ps) != tc.want || len(ps)+len(set.Warnings) != 1 {
				t.Fatalf("problems %v, warnings %v; want %d problem(s) of 1 unknown field", ps, set.Warnings, tc.want)
			}
		})
	}
}

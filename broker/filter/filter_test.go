package filter

import (
	"slices"
	"sync"
	"testing"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

func TestNewSelectsFilters(t *testing.T) {
	t.Parallel()
	legacyWebhook := &eventingv1.TriggerFilter{Attributes: map[string]string{"type": "dev.flint.webhook"}}
	legacySQS := &eventingv1.TriggerFilter{Attributes: map[string]string{"type": "dev.flint.sqs"}}
	cases := []struct {
		name  string
		spec  *eventingv1.TriggerSpec
		event string
		want  bool
	}{
		{name: "nil spec matches all", spec: nil, event: "full", want: true},
		{name: "empty spec matches all", spec: &eventingv1.TriggerSpec{}, event: "nil-context", want: true},
		{name: "nil filter attributes matches all", spec: &eventingv1.TriggerSpec{Filter: &eventingv1.TriggerFilter{}}, event: "bare", want: true},
		{name: "empty filters list falls back to filter", spec: &eventingv1.TriggerSpec{Filter: legacySQS, Filters: []eventingv1.SubscriptionsAPIFilter{}}, event: "full", want: false},
		{name: "filters override filter (pass)", spec: &eventingv1.TriggerSpec{
			Filter:  legacySQS,
			Filters: []eventingv1.SubscriptionsAPIFilter{exact(map[string]string{"type": "dev.flint.webhook"})},
		}, event: "full", want: true},
		{name: "filters override filter (fail)", spec: &eventingv1.TriggerSpec{
			Filter:  legacyWebhook,
			Filters: []eventingv1.SubscriptionsAPIFilter{exact(map[string]string{"type": "dev.flint.sqs"})},
		}, event: "full", want: false},
		{name: "empty element overrides filter and matches all", spec: &eventingv1.TriggerSpec{
			Filter:  legacySQS,
			Filters: []eventingv1.SubscriptionsAPIFilter{{}},
		}, event: "full", want: true},
		{name: "mixed dialects ANDed", spec: filters(
			exact(map[string]string{"type": "dev.flint.webhook"}),
			prefix(map[string]string{"source": "https://github.com/"}),
			suffix(map[string]string{"subject": "_example"}),
			cesqlOf("team = 'payments'"),
			not(exact(map[string]string{"urgent": "false"})),
			anyOf(exact(map[string]string{"priority": "1"}), exact(map[string]string{"priority": "7"})),
		), event: "full", want: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := mustNew(t, tc.spec)
			if got := f.Match(eventNamed(t, tc.event)); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		spec      *eventingv1.TriggerSpec
		want      error
		wantPaths []string
	}{
		{
			name:      "two dialects in one element",
			spec:      filters(exact(map[string]string{"type": "a"}), exact(map[string]string{"type": "b"}), eventingv1.SubscriptionsAPIFilter{Exact: map[string]string{"type": "a"}, CESQL: "TRUE"}),
			want:      ErrMultipleDialects,
			wantPaths: []string{"filters[2].cesql", "filters[2].exact"},
		},
		{
			name:      "two dialects nested",
			spec:      filters(allOf(exact(map[string]string{"type": "a"}), anyOf(exact(map[string]string{"type": "a"}), eventingv1.SubscriptionsAPIFilter{Prefix: map[string]string{"type": "a"}, Suffix: map[string]string{"type": "b"}}))),
			want:      ErrMultipleDialects,
			wantPaths: []string{"filters[0].all[1].any[1].prefix", "filters[0].all[1].any[1].suffix"},
		},
		{
			name:      "empty exact",
			spec:      filters(exact(map[string]string{})),
			want:      ErrEmptyDialect,
			wantPaths: []string{"filters[0].exact"},
		},
		{
			name:      "empty prefix",
			spec:      filters(cesqlOf("TRUE"), prefix(map[string]string{})),
			want:      ErrEmptyDialect,
			wantPaths: []string{"filters[1].prefix"},
		},
		{
			name:      "empty suffix",
			spec:      filters(suffix(map[string]string{})),
			want:      ErrEmptyDialect,
			wantPaths: []string{"filters[0].suffix"},
		},
		{
			name:      "empty all",
			spec:      filters(allOf()),
			want:      ErrEmptyDialect,
			wantPaths: []string{"filters[0].all"},
		},
		{
			name:      "empty any",
			spec:      filters(not(anyOf())),
			want:      ErrEmptyDialect,
			wantPaths: []string{"filters[0].not.any"},
		},
		{
			name:      "empty not",
			spec:      filters(not(eventingv1.SubscriptionsAPIFilter{})),
			want:      ErrEmptyDialect,
			wantPaths: []string{"filters[0].not"},
		},
		{
			name:      "empty map next to another dialect",
			spec:      filters(eventingv1.SubscriptionsAPIFilter{Exact: map[string]string{}, CESQL: "TRUE"}),
			want:      ErrMultipleDialects,
			wantPaths: []string{"filters[0].cesql", "filters[0].exact"},
		},
		{
			name:      "exact attribute name with upper case",
			spec:      filters(exact(map[string]string{"Type": "a"})),
			want:      ErrInvalidAttributeName,
			wantPaths: []string{"filters[0].exact[Type]"},
		},
		{
			name:      "prefix attribute name with a dash",
			spec:      filters(prefix(map[string]string{"my-ext": "a"})),
			want:      ErrInvalidAttributeName,
			wantPaths: []string{"filters[0].prefix[my-ext]"},
		},
		{
			name:      "suffix attribute name starting with a digit",
			spec:      filters(suffix(map[string]string{"1ext": "a"})),
			want:      ErrInvalidAttributeName,
			wantPaths: []string{"filters[0].suffix[1ext]"},
		},
		{
			name:      "every invalid name is reported",
			spec:      filters(exact(map[string]string{"type": "a", "Zed": "b", "A_b": "c"})),
			want:      ErrInvalidAttributeName,
			wantPaths: []string{"filters[0].exact[A_b]", "filters[0].exact[Zed]"},
		},
		{
			name:      "empty attribute name",
			spec:      filters(exact(map[string]string{"": "a"})),
			want:      ErrInvalidAttributeName,
			wantPaths: []string{"filters[0].exact[]"},
		},
		{
			name:      "exact empty value",
			spec:      filters(exact(map[string]string{"type": ""})),
			want:      ErrEmptyValue,
			wantPaths: []string{"filters[0].exact[type]"},
		},
		{
			name:      "prefix empty value",
			spec:      filters(prefix(map[string]string{"source": ""})),
			want:      ErrEmptyValue,
			wantPaths: []string{"filters[0].prefix[source]"},
		},
		{
			name:      "suffix empty value nested",
			spec:      filters(anyOf(cesqlOf("TRUE"), suffix(map[string]string{"subject": ""}))),
			want:      ErrEmptyValue,
			wantPaths: []string{"filters[0].any[1].suffix[subject]"},
		},
		{
			name:      "bad cesql",
			spec:      filters(exact(map[string]string{"type": "a"}), exact(map[string]string{"type": "a"}), cesqlOf("subject = ")),
			want:      ErrInvalidExpression,
			wantPaths: []string{"filters[2].cesql"},
		},
		{
			name:      "bad cesql nested",
			spec:      filters(not(cesqlOf("LIKE LIKE"))),
			want:      ErrInvalidExpression,
			wantPaths: []string{"filters[0].not.cesql"},
		},
		{
			name:      "legacy attribute name",
			spec:      attrs(map[string]string{"type": "a", "Source": "b"}),
			want:      ErrInvalidAttributeName,
			wantPaths: []string{"filter.attributes[Source]"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := New(tc.spec)
			if err == nil {
				t.Fatalf("New = %T, want an error", f)
			}
			if f != nil {
				t.Errorf("New returned a filter (%T) with its error", f)
			}
			problems := err.WrappedErrors()
			if len(problems) != 1 {
				t.Fatalf("error %q holds %d problems, want 1", err, len(problems))
			}
			if got := problems[0]; got.Message != tc.want.Error() || !slices.Equal(got.Paths, tc.wantPaths) {
				t.Errorf("problem = %q at %q, want %q at %q", got.Message, got.Paths, tc.want, tc.wantPaths)
			}
		})
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := New(filters(
		exact(map[string]string{"type": "a"}),
		exact(map[string]string{"Type": "a", "source": ""}),
		anyOf(cesqlOf("subject = "), allOf()),
		eventingv1.SubscriptionsAPIFilter{Prefix: map[string]string{"type": "a"}, Not: &eventingv1.SubscriptionsAPIFilter{}},
	))
	want := `dialect is set but empty: filters[2].any[1].all
invalid CESQL expression: filters[2].any[0].cesql
"subject = ": ` + cesqlReason(t, "subject = ") + `
invalid attribute name, must match ^[a-z][a-z0-9]*$: filters[1].exact[Type]
multiple dialects set, a filter takes exactly one: filters[3].not, filters[3].prefix
value must not be empty: filters[1].exact[source]`
	if err == nil || err.Error() != want {
		t.Errorf("New error =\n%v\nwant\n%s", err, want)
	}
}

// cesqlReason is the parser's reason for refusing expression.
func cesqlReason(t *testing.T, expression string) string {
	t.Helper()
	_, err := parseCESQL(expression)
	if err == nil {
		t.Fatalf("%q parses", expression)
	}
	return err.Error()
}

func TestNewLegacyAllowsEmptyValue(t *testing.T) {
	t.Parallel()
	if _, err := New(attrs(map[string]string{"subject": ""})); err != nil {
		t.Fatalf("New: %v", err)
	}
}

// TestMatchDoesNotAllocate pins the allocation-free paths: exact, prefix,
// suffix and legacy attributes on CloudEvents 1.0 context attributes and
// extensions, and the all/any/not combinators over them. It is not parallel:
// testing.AllocsPerRun refuses to run in parallel tests.
func TestMatchDoesNotAllocate(t *testing.T) {
	cases := []struct {
		name string
		spec *eventingv1.TriggerSpec
	}{
		{name: "legacy type+source+subject", spec: attrs(map[string]string{"type": "dev.flint.webhook", "source": "https://github.com/flintevents/flint", "subject": "webhook_example"})},
		{name: "legacy any value", spec: attrs(map[string]string{"subject": "", "team": ""})},
		{name: "exact string extension", spec: filters(exact(map[string]string{"team": "payments"}))},
		{name: "exact integer extension", spec: filters(exact(map[string]string{"priority": "7"}))},
		{name: "exact binary extension", spec: filters(exact(map[string]string{"blob": "AQID"}))},
		{name: "exact timestamp extension", spec: filters(exact(map[string]string{"when": "2024-05-01T10:00:00Z"}))},
		{name: "exact uri extension", spec: filters(exact(map[string]string{"ref": "https://example.com/ref?x=1"}))},
		{name: "exact time", spec: filters(exact(map[string]string{"time": "2024-05-01T12:34:56.789Z"}))},
		{name: "exact dataschema", spec: filters(exact(map[string]string{"dataschema": "https://schemas.flint.dev/webhook.json"}))},
		{name: "exact datamediatype", spec: filters(exact(map[string]string{"datamediatype": "application/json"}))},
		{name: "prefix source", spec: filters(prefix(map[string]string{"source": "https://github.com/"}))},
		{name: "suffix time", spec: filters(suffix(map[string]string{"time": "Z"}))},
		{name: "all any not", spec: filters(allOf(
			exact(map[string]string{"type": "dev.flint.webhook"}),
			anyOf(exact(map[string]string{"subject": "x"}), prefix(map[string]string{"source": "https://github.com/"})),
			not(suffix(map[string]string{"subject": "_other"})),
		))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := mustNew(t, tc.spec)
			ev := fullEvent(t)
			if !f.Match(ev) {
				t.Fatal("Match = false, want true")
			}
			if n := testing.AllocsPerRun(100, func() { f.Match(ev) }); n != 0 {
				t.Errorf("Match allocates %v times per run, want 0", n)
			}
		})
	}
}

// TestMatchConcurrent matches one compiled filter from many goroutines; run
// with -race it shows Match keeps no shared mutable state.
func TestMatchConcurrent(t *testing.T) {
	t.Parallel()
	f := mustNew(t, filters(
		anyOf(exact(map[string]string{"type": "dev.flint.webhook"}), cesqlOf("type = 'x'")),
		cesqlOf("source LIKE 'https://github.com/%'"),
		not(prefix(map[string]string{"subject": "sqs_"})),
	))
	full, bare := fullEvent(t), bareEvent(t)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if !f.Match(full) || f.Match(bare) {
					errs <- "inconsistent Match result"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/spf13/cobra"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/manifest"
	"github.com/flintevents/flint/pkg/sensor"
)

// Exit codes of `flint test`.
const (
	testFires   = 0 // a trigger would fire
	testNoFire  = 1 // no trigger would fire
	testBadArgs = 2 // bad input: unreadable file, invalid sensor, bad event
)

// maxEventFile bounds the size of an --event file.
const maxEventFile = 16 << 20

// testFlags are the options of `flint test`.
type testFlags struct {
	files   []string
	sensor  string
	events  []string
	data    string
	source  string
	subject string
	typ     string
	id      string
	at      string
	output  string
	// withData is true when --data was given: the flags build one more event.
	withData bool
}

const testLong = `test runs events through a Sensor as the engine does, without firing anything
(no trigger type is built, no network call is made), and explains what happened:
for each event and each dependency, whether the event matched and why (for each
filter that ran: which filter, the path, the value found and what it was compared
with); the condition state of every trigger after the event (which dependencies
are satisfied, by which event, and which are waiting); and for every trigger that
would fire, its template after parameters and its payload. Condition state carries
from one event to the next, in the order given.

Events are CloudEvents in JSON structured mode (--event, repeatable; a file holds
one event or a JSON array of them; data as JSON or data_base64; a missing time is
now), then the one event built from --data, --source, --subject, --type, --id and
--time. An omitted --source or --subject is the eventSourceName or eventName
that all the dependencies (those matching the other flag, when given) name, e.g.
those of the sensor's only dependency; --type defaults to the type of that event
in its EventSource when -f holds it, else "test".

-f reads files, directories or - (stdin) as validate does; a sensor that validate
refuses is refused here. With several Sensors, --sensor names the one to test.

Exit status: 0 when a trigger would fire, 1 when none would, 2 on bad input
(unreadable file, invalid sensor, bad event JSON).

--output json prints one JSON document:
  {"sensor": NAME, "wouldFire": [TRIGGER...],
   "events": [{
     "event": {"id", "source", "subject", "type", "time", "datacontenttype"},
     "dependencies": [{"name", "eventSourceName", "eventName",
        "forEvent": bool (the event is for it), "passed": bool,
        "reason", "error", "transformed": data after the transform,
        "filters": [{"filter": "filters.data[0]", "path", "type", "found",
                     "comparator", "want", "result": "pass"|"fail"|"error",
                     "message"}]}],
     "triggers": [{"name", "condition",
        "satisfied": [{"dependency", "eventId"}], "waiting": [DEPENDENCY...],
        "fires": bool, "alreadyFired": bool, "template": {...}, "payload": JSON,
        "error": why firing would fail, "note"}]}]}`

func newTestCommand(streams IO) *cobra.Command {
	var fl testFlags
	cmd := &cobra.Command{
		Use:   "test -f SENSOR.yaml (--event EVENT.json... | --data JSON)",
		Short: "Explain why a Sensor would or would not fire for given events (a dry run)",
		Long:  testLong,
		Example: `  flint test -f examples/webhook/sensor.yaml --data '{"body":{"message":"hello"}}'
  flint test -f sensor.yaml --event order.json --event payment.json --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			code, err := runTest(cmd, streams, &fl)
			if err != nil {
				fmt.Fprintln(streams.Err, "flint test:", err)
			}
			if code != testFires {
				return exitError{code: code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&fl.files, "filename", "f", nil, "file, directory or - (stdin) holding the Sensor; repeatable")
	f.StringVar(&fl.sensor, "sensor", "", "name of the Sensor to test when -f holds several")
	f.StringArrayVar(&fl.events, "event", nil, "CloudEvent JSON file (structured mode; - is stdin); repeatable, taken in order")
	f.StringVar(&fl.data, "data", "", "JSON data of one event built from the flags below")
	f.StringVar(&fl.source, "source", "", "the event's source, the EventSource name (default: the dependencies' eventSourceName)")
	f.StringVar(&fl.subject, "subject", "", "the event's subject, the event name (default: the dependencies' eventName)")
	f.StringVar(&fl.typ, "type", "", "the event's type, the EventSource type (default: from the EventSource in -f, else test)")
	f.StringVar(&fl.id, "id", "flint-test", "the event's id")
	f.StringVar(&fl.at, "time", "", "the event's time, RFC 3339 (default: now)")
	f.StringVarP(&fl.output, "output", "o", "text", "text or json")
	return cmd
}

// testReport is the JSON document of `flint test --output json`.
type testReport struct {
	Sensor    string                    `json:"sensor"`
	WouldFire []string                  `json:"wouldFire"`
	Events    []sensor.EventExplanation `json:"events"`
}

// runTest runs `flint test` and returns its exit code; err is the message
// to print for bad input.
func runTest(cmd *cobra.Command, streams IO, fl *testFlags) (int, error) {
	if fl.output != "text" && fl.output != "json" {
		return testBadArgs, fmt.Errorf("--output %q: want text or json", fl.output)
	}
	if len(fl.files) == 0 {
		return testBadArgs, errors.New("-f: the file, directory or - holding the Sensor is required")
	}
	fl.withData = cmd.Flags().Changed("data")
	if len(fl.events) == 0 && !fl.withData {
		return testBadArgs, errors.New("no event: give --event FILE (repeatable) or --data JSON")
	}
	stdinUsed := false
	for _, f := range fl.files {
		stdinUsed = stdinUsed || f == "-"
	}
	for _, e := range fl.events {
		if e == "-" && stdinUsed {
			return testBadArgs, errors.New("--event - and -f - cannot both read stdin")
		}
		stdinUsed = stdinUsed || e == "-"
	}

	set, problems := loadManifests(cmd.Context(), fl.files, streams.In)
	warnUnknown(streams.Err, set)
	if len(problems) == 0 {
		problems, _ = dev.Validate(cmd.Context(), set, problems, dev.Options{})
	}
	if len(problems) > 0 {
		problems.Sort()
		for _, p := range problems {
			fmt.Fprintln(streams.Err, p.String())
		}
		return testBadArgs, errors.New("the input has problems (see above)")
	}
	s, err := pickSensor(set, fl.sensor)
	if err != nil {
		return testBadArgs, err
	}
	events, err := testEvents(fl, s, set, streams.In)
	if err != nil {
		return testBadArgs, err
	}
	x, err := sensor.NewExplainer(s)
	if err != nil {
		return testBadArgs, fmt.Errorf("sensor %s: %w", s.Name, err)
	}
	report := testReport{Sensor: s.Name, Events: make([]sensor.EventExplanation, 0, len(events))}
	for i, ev := range events {
		out, err := x.Explain(cmd.Context(), ev)
		if err != nil {
			return testBadArgs, fmt.Errorf("event %d: %w", i+1, err)
		}
		report.Events = append(report.Events, out)
	}
	report.WouldFire = sensor.WouldFire(report.Events)
	if fl.output == "json" {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return testBadArgs, fmt.Errorf("writing the report: %w", err)
		}
	} else {
		writeTestReport(streams.Out, &report)
	}
	if len(report.WouldFire) == 0 {
		return testNoFire, nil
	}
	return testFires, nil
}

// pickSensor returns the Sensor of set named name, or its only one.
func pickSensor(set *manifest.Set, name string) (*v1alpha1.Sensor, error) {
	var all []*v1alpha1.Sensor
	var names []string
	for i := range set.Objects {
		if s := set.Objects[i].Sensor; s != nil {
			all = append(all, s)
			names = append(names, s.Name)
		}
	}
	switch {
	case len(all) == 0:
		return nil, errors.New("-f holds no Sensor")
	case name != "":
		for _, s := range all {
			if s.Name == name {
				return s, nil
			}
		}
		return nil, fmt.Errorf("--sensor %q: -f holds no such Sensor (it holds %s)", name, strings.Join(names, ", "))
	case len(all) > 1:
		return nil, fmt.Errorf("-f holds several Sensors (%s): name one with --sensor", strings.Join(names, ", "))
	}
	return all[0], nil
}

// testEvents reads the --event files, then builds the --data event.
func testEvents(fl *testFlags, s *v1alpha1.Sensor, set *manifest.Set, stdin io.Reader) ([]*event.Event, error) {
	var out []*event.Event
	for _, path := range fl.events {
		evs, err := readEventFile(path, stdin)
		if err != nil {
			return nil, fmt.Errorf("--event %s: %w", path, err)
		}
		out = append(out, evs...)
	}
	if !fl.withData {
		return out, nil
	}
	ev, err := flagEvent(fl, s, set)
	if err != nil {
		return nil, err
	}
	return append(out, ev), nil
}

// readEventFile reads one CloudEvent, or a JSON array of them, in
// structured mode.
func readEventFile(path string, stdin io.Reader) ([]*event.Event, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("reading: %w", err)
		}
		defer func() { _ = f.Close() }()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxEventFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	if len(raw) > maxEventFile {
		return nil, fmt.Errorf("larger than %d bytes", maxEventFile)
	}
	raw = bytes.TrimSpace(raw)
	var docs []json.RawMessage
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &docs); err != nil {
			return nil, fmt.Errorf("not a JSON array of CloudEvents: %w", err)
		}
	} else {
		docs = []json.RawMessage{raw}
	}
	if len(docs) == 0 {
		return nil, errors.New("no event in the file")
	}
	out := make([]*event.Event, 0, len(docs))
	for i, doc := range docs {
		ev, err := decodeCloudEvent(doc)
		if err != nil {
			if len(docs) > 1 {
				return nil, fmt.Errorf("event %d: %w", i+1, err)
			}
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// decodeCloudEvent decodes one structured-mode CloudEvent; a missing time is now.
func decodeCloudEvent(doc []byte) (*event.Event, error) {
	var ce cloudevents.Event
	if err := json.Unmarshal(doc, &ce); err != nil {
		return nil, fmt.Errorf("not a CloudEvent in JSON structured mode: %w", err)
	}
	if err := ce.Validate(); err != nil {
		return nil, fmt.Errorf("invalid CloudEvent: %w", err)
	}
	if ce.Time().IsZero() {
		ce.SetTime(time.Now())
	}
	return event.FromCloudEvent(ce), nil
}

// flagEvent builds the event of --data and the attribute flags.
func flagEvent(fl *testFlags, s *v1alpha1.Sensor, set *manifest.Set) (*event.Event, error) {
	data := []byte(strings.TrimSpace(fl.data))
	if len(data) > 0 && !json.Valid(data) {
		return nil, fmt.Errorf("--data: not JSON: %s", shorten(fl.data))
	}
	source, subject, err := eventOf(s, fl.source, fl.subject)
	if err != nil {
		return nil, err
	}
	typ := fl.typ
	if typ == "" {
		typ = sourceType(set, source, subject)
	}
	at := time.Now()
	if fl.at != "" {
		var err error
		if at, err = time.Parse(time.RFC3339Nano, fl.at); err != nil {
			return nil, fmt.Errorf("--time %q: want RFC 3339, e.g. 2026-01-02T15:04:05Z", fl.at)
		}
	}
	return &event.Event{Context: event.Context{ID: fl.id, Source: source, Subject: subject, Type: typ,
		SpecVersion: cloudevents.VersionV1, DataContentType: cloudevents.ApplicationJSON, Time: at}, Data: data}, nil
}

// eventOf completes the source and subject of the --data event: an empty
// one is the value that every dependency matching the other one names.
func eventOf(s *v1alpha1.Sensor, source, subject string) (string, string, error) {
	if source != "" && subject != "" {
		return source, subject, nil
	}
	var sources, subjects []string
	for _, d := range s.Spec.Dependencies {
		if (source == "" || d.EventSourceName == source) && (subject == "" || d.EventName == subject) {
			sources = appendNew(sources, d.EventSourceName)
			subjects = appendNew(subjects, d.EventName)
		}
	}
	if source == "" && len(sources) == 1 {
		source = sources[0]
	}
	if subject == "" && len(subjects) == 1 {
		subject = subjects[0]
	}
	if len(sources) == 0 {
		return "", "", fmt.Errorf("--source %q --subject %q: no dependency of sensor %s is for that event (%s)",
			source, subject, s.Name, strings.Join(dependencyEvents(s), ", "))
	}
	if source == "" || subject == "" {
		return "", "", fmt.Errorf("--source and --subject are required: the dependencies of sensor %s are for several events (%s)",
			s.Name, strings.Join(dependencyEvents(s), ", "))
	}
	return source, subject, nil
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// dependencyEvents lists the dependencies as name=source/event.
func dependencyEvents(s *v1alpha1.Sensor) []string {
	out := make([]string, 0, len(s.Spec.Dependencies))
	for _, d := range s.Spec.Dependencies {
		out = append(out, d.Name+"="+d.EventSourceName+"/"+d.EventName)
	}
	return out
}

// sourceType is the type key of the event in the set's EventSource named
// source, or "test" when the set does not hold it.
func sourceType(set *manifest.Set, source, subject string) string {
	for i := range set.Objects {
		if es := set.Objects[i].EventSource; es != nil && es.Name == source {
			if key := es.Spec.TypeOf(subject); key != "" {
				return key
			}
		}
	}
	return "test"
}

// shorten cuts s for an error message.
func shorten(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// writeTestReport prints the report for people.
func writeTestReport(w io.Writer, r *testReport) {
	for i, e := range r.Events {
		if i > 0 {
			fmt.Fprintln(w)
		}
		ev := e.Event
		fmt.Fprintf(w, "event %d: id=%s source=%s subject=%s type=%s time=%s\n", i+1, ev.ID, ev.Source, ev.Subject, ev.Type,
			ev.Time.Format(time.RFC3339))
		for _, d := range e.Dependencies {
			writeDependency(w, &d)
		}
		for _, t := range e.Triggers {
			writeTrigger(w, &t)
		}
	}
	fmt.Fprintln(w)
	if len(r.WouldFire) == 0 {
		fmt.Fprintf(w, "sensor %s: no trigger would fire\n", r.Sensor)
		return
	}
	fmt.Fprintf(w, "sensor %s: would fire %s\n", r.Sensor, strings.Join(r.WouldFire, ", "))
}

func writeDependency(w io.Writer, d *sensor.DependencyExplanation) {
	switch {
	case !d.ForEvent:
		fmt.Fprintf(w, "  dependency %s: not for this event (it is for %s/%s)\n", d.Name, d.EventSourceName, d.EventName)
		return
	case d.Error != "":
		fmt.Fprintf(w, "  dependency %s: not matched, error: %s\n", d.Name, d.Error)
	case !d.Passed:
		fmt.Fprintf(w, "  dependency %s: not matched\n", d.Name)
	case d.Reason != "":
		fmt.Fprintf(w, "  dependency %s: matched (%s)\n", d.Name, d.Reason)
	default:
		fmt.Fprintf(w, "  dependency %s: matched\n", d.Name)
	}
	if d.Transformed != nil {
		fmt.Fprintf(w, "    transformed data: %s\n", d.Transformed)
	}
	if len(d.Filters) == 0 && d.Error == "" {
		fmt.Fprintln(w, "    no filters")
	}
	for _, c := range d.Filters {
		fmt.Fprintf(w, "    %s\n", c)
	}
}

func writeTrigger(w io.Writer, t *sensor.TriggerExplanation) {
	switch {
	case t.Fires:
		fmt.Fprintf(w, "  trigger %s: would fire\n", t.Name)
	case t.AlreadyFired:
		fmt.Fprintf(w, "  trigger %s: already fired for these events, not fired again\n", t.Name)
	case t.Error != "":
		fmt.Fprintf(w, "  trigger %s: would fail: %s\n", t.Name, t.Error)
	default:
		fmt.Fprintf(w, "  trigger %s: not firing\n", t.Name)
	}
	parts := make([]string, 0, len(t.Satisfied)+len(t.Waiting))
	for _, s := range t.Satisfied {
		parts = append(parts, fmt.Sprintf("%s satisfied (event %s)", s.Dependency, s.EventID))
	}
	for _, d := range t.Waiting {
		parts = append(parts, d+" waiting")
	}
	fmt.Fprintf(w, "    condition %q: %s\n", t.Condition, strings.Join(parts, ", "))
	if t.Template != nil {
		fmt.Fprintf(w, "    template: %s\n", indentJSON(t.Template))
	}
	if t.Payload != nil {
		fmt.Fprintf(w, "    payload: %s\n", indentJSON(t.Payload))
	}
	if t.Note != "" {
		fmt.Fprintf(w, "    note: %s\n", t.Note)
	}
}

// indentJSON indents a JSON value to sit under a report line.
func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "    ", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

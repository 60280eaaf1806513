package mqtt_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/mqtt"
	"github.com/flintevents/flint/sources/sourcetest"
)

// load reads an EventSource from testdata and points every entry at m.
func load(t testing.TB, file string, m *mosquitto) *v1alpha1.EventSource {
	t.Helper()
	es := sourcetest.Load(t, "testdata/"+file)
	for name, spec := range es.Spec.MQTT {
		spec.URL = m.url()
		es.Spec.MQTT[name] = spec
	}
	return es
}

// recorder keeps the stored events and tells when one arrived.
type recorder struct {
	refuse func(sources.Event) error

	mu     sync.Mutex
	events []sources.Event
	tried  int
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) emit(_ context.Context, ev sources.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tried++
	defer func() {
		select {
		case r.signal <- struct{}{}:
		default:
		}
	}()
	if r.refuse != nil {
		if err := r.refuse(ev); err != nil {
			return err
		}
	}
	r.events = append(r.events, ev)
	return nil
}

// take returns the events stored so far and forgets them.
func (r *recorder) take() []sources.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// waitFor waits until n events were stored (or tried, with tried), and
// returns them.
func (r *recorder) waitFor(t testing.TB, n int, tried bool) []sources.Event {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.events)
		if tried {
			got = r.tried
		}
		r.mu.Unlock()
		if got >= n {
			return r.take()
		}
		select {
		case <-r.signal:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%d of %d events in 15s", got, n)
		}
	}
}

// run runs src until the test ends or stop is called; stop returns Run's error.
func run(t testing.TB, src sources.Source, emit sources.Emitter) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, emit) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				err = errors.New("the source did not return 20s after its context ended")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func newSource(t testing.TB, es *v1alpha1.EventSource, secrets secret.Resolver) *mqtt.Source {
	t.Helper()
	src, err := mqtt.New(es, sources.Deps{Logger: zaptest.NewLogger(t), Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestEventData(t *testing.T) {
	m := startMosquitto(t, nil)
	es := load(t, "data.yaml", m)
	rec := newRecorder()
	stop := run(t, newSource(t, es, nil), rec.emit)
	// Each entry's first connection makes its session; once a message of
	// each arrived, what is published later is kept for it.
	for _, w := range []struct{ topic, body string }{{"plain/warmup", "w"}, {"json/warmup", `"w"`}, {"filtered", `{"level":9}`}} {
		untilSubscribedTo(t, m, w.topic, w.body, rec)
	}
	rec.take()

	tests := []struct {
		name, topic, payload string
		// want is the event data without messageId; nil for no event.
		want map[string]any
		// entry is the event name.
		entry string
	}{
		{name: "plain body is base64 with metadata", topic: "plain/a", payload: "hello", entry: "plain",
			want: map[string]any{"topic": "plain/a", "body": "aGVsbG8=", "metadata": map[string]any{"site": "lab"}}},
		{name: "jsonBody keeps JSON", topic: "json/a/b", payload: `{"a":[1,2],"b":"x"}`, entry: "json",
			want: map[string]any{"topic": "json/a/b", "body": map[string]any{"a": []any{1.0, 2.0}, "b": "x"}}},
		{name: "jsonBody drops a payload that is not JSON", topic: "json/bad", payload: "not json", entry: "json"},
		{name: "filter drops", topic: "filtered", payload: `{"level":1}`, entry: "filtered"},
		{name: "filter passes", topic: "filtered", payload: `{"level":3}`, entry: "filtered",
			want: map[string]any{"topic": "filtered", "body": map[string]any{"level": 3.0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.publish(t.Context(), tc.topic, []byte(tc.payload)); err != nil {
				t.Fatal(err)
			}
			// A marker after it on the same entry: once the marker is
			// there, the message was handled (acknowledgements go in order).
			marker := map[string]string{"plain": "plain/marker", "json": "json/marker", "filtered": "filtered"}[tc.entry]
			if err := m.publish(t.Context(), marker, []byte(`{"level":10,"marker":true}`)); err != nil {
				t.Fatal(err)
			}
			want := 2
			if tc.want == nil {
				want = 1
			}
			evs := rec.waitFor(t, want, false)
			if len(evs) != want {
				t.Fatalf("%d events, want %d: %v", len(evs), want, evs)
			}
			if tc.want == nil {
				return
			}
			ev := evs[0]
			if ev.Name != tc.entry {
				t.Errorf("event name %q, want %q", ev.Name, tc.entry)
			}
			if ev.ID == "" || ev.ID == evs[1].ID {
				t.Errorf("event ids %q and %q: want distinct and set", ev.ID, evs[1].ID)
			}
			var got map[string]any
			if err := json.Unmarshal(ev.Data, &got); err != nil {
				t.Fatal(err)
			}
			if id, ok := got["messageId"].(float64); !ok || id < 1 || id > 65535 {
				t.Errorf("messageId %v, want a packet id", got["messageId"])
			}
			delete(got, "messageId")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("event data %s, want %v", ev.Data, tc.want)
			}
		})
	}

	// Everything above was acknowledged, dropped messages too: a new source
	// on the same sessions gets nothing again, only what comes next.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	rec.take()
	run(t, newSource(t, es, nil), rec.emit)
	if err := m.publish(t.Context(), "plain/after", []byte("after")); err != nil {
		t.Fatal(err)
	}
	evs := rec.waitFor(t, 1, false)
	time.Sleep(300 * time.Millisecond)
	evs = append(evs, rec.take()...)
	if len(evs) != 1 || !strings.Contains(string(evs[0].Data), `"topic":"plain/after"`) {
		t.Errorf("after a restart got %d events %v, want only plain/after", len(evs), evs)
	}
}

// untilSubscribedTo publishes body to topic until rec stores an event.
func untilSubscribedTo(t testing.TB, m *mosquitto, topic, body string, rec *recorder) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		if err := m.publish(context.Background(), topic, []byte(body)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-rec.signal:
			if len(rec.take()) > 0 {
				return
			}
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no event from %s within 15s", topic)
		}
	}
}

// TestAckAfterStored: a message whose event the broker refuses stays at the
// origin, and comes to the next source.
func TestAckAfterStored(t *testing.T) {
	m := startMosquitto(t, nil)
	es := load(t, "data.yaml", m)
	delete(es.Spec.MQTT, "json")
	delete(es.Spec.MQTT, "filtered")
	warm := newRecorder()
	stop := run(t, newSource(t, es, nil), warm.emit)
	untilSubscribedTo(t, m, "plain/warmup", "w", warm)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	refusing := newRecorder()
	refusing.refuse = func(sources.Event) error { return errors.New("refused by the test") }
	stop = run(t, newSource(t, es, nil), refusing.emit)
	if err := m.publish(t.Context(), "plain/kept", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	refusing.waitFor(t, 2, true)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	rec := newRecorder()
	run(t, newSource(t, es, nil), rec.emit)
	evs := rec.waitFor(t, 1, false)
	var d struct {
		Topic string `json:"topic"`
		Body  []byte `json:"body"`
	}
	if err := json.Unmarshal(evs[0].Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Topic != "plain/kept" || string(d.Body) != "kept" {
		t.Errorf("redelivered %s, want the refused message", evs[0].Data)
	}
}

func TestAuth(t *testing.T) {
	m := startMosquitto(t, map[string]string{"flint": "s3cret"})
	tests := []struct {
		name, user, password string
		wantErr              string
	}{
		{name: "right password", user: "flint", password: "s3cret"},
		{name: "wrong password", user: "flint", password: "nope", wantErr: "not Authorized"},
		{name: "unknown user", user: "someone", password: "s3cret", wantErr: "not Authorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := load(t, "auth.yaml", m)
			secrets := secretsOf(map[string]string{"mqtt-auth/username": tc.user, "mqtt-auth/password": tc.password})
			rec := newRecorder()
			src := newSource(t, es, secrets)
			if tc.wantErr != "" {
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				err := src.Run(ctx, rec.emit)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Run returned %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			run(t, src, rec.emit)
			o := pahoOptions(m, "publisher-auth").SetUsername("flint").SetPassword("s3cret")
			deadline := time.After(15 * time.Second)
			for {
				if err := m.publishAs(t.Context(), o, "secured", []byte("x")); err != nil {
					t.Fatal(err)
				}
				select {
				case <-rec.signal:
					return
				case <-time.After(100 * time.Millisecond):
				case <-deadline:
					t.Fatal("no event in 15s")
				}
			}
		})
	}
}

func secretsOf(values map[string]string) secret.Resolver {
	env := map[string]string{}
	for k, v := range values {
		name, key, _ := strings.Cut(k, "/")
		env[secret.EnvName(name, key)] = v
	}
	return secret.Local{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{"invalid-bad-scheme.yaml", []string{"spec.mqtt[example].url"}},
		{"invalid-no-host.yaml", []string{"invalid value: tcp://: spec.mqtt[example].url", "no host"}},
		{"invalid-bad-topic.yaml", []string{"invalid value: a/#/b: spec.mqtt[example].topic", "'#' must be the last level"}},
		{"invalid-partial-wildcard.yaml", []string{"spec.mqtt[example].topic"}},
		{"invalid-filter.yaml", []string{"spec.mqtt[example].filter.expression"}},
		{"invalid-secrets.yaml", []string{"spec.mqtt[example].auth.username", "spec.mqtt[example].auth.password", "spec.mqtt[example].tls.caCertSecret"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			es := sourcetest.Load(t, "testdata/"+tc.file)
			_, err := mqtt.New(es, sources.Deps{Secrets: secretsOf(nil)})
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("New returned %v (%T), want a *apis.FieldError", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	if _, err := mqtt.New(nil, sources.Deps{}); err == nil {
		t.Error("New(nil) succeeded")
	}
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	typ, ok := sources.Lookup(mqtt.Type)
	if !ok {
		t.Fatalf("%s is not registered", mqtt.Type)
	}
	if typ.Kind != sources.Pull {
		t.Errorf("kind %v, want pull", typ.Kind)
	}
}

// TestBacklogOverBuffer: a broker that sends more kept messages at once than
// the source buffers, before it answers the SUBSCRIBE, does not stall it.
func TestBacklogOverBuffer(t *testing.T) {
	t.Setenv("FLINT_MQTT_INFLIGHT", "2000")
	m := startMosquitto(t, nil)
	es := load(t, "data.yaml", m)
	delete(es.Spec.MQTT, "json")
	delete(es.Spec.MQTT, "filtered")
	warm := newRecorder()
	stop := run(t, newSource(t, es, nil), warm.emit)
	untilSubscribedTo(t, m, "plain/warmup", "w", warm)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	const n = 1500
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = []byte(strings.Repeat("x", 100))
	}
	if err := m.publish(t.Context(), "plain/backlog", bodies...); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	run(t, newSource(t, es, nil), rec.emit)
	if got := len(rec.waitFor(t, n, false)); got < n {
		t.Errorf("%d of %d kept messages arrived", got, n)
	}
}

// TestDrain: drain mode works off what the broker kept for the session and
// returns once nothing more comes.
func TestDrain(t *testing.T) {
	m := startMosquitto(t, nil)
	es := load(t, "data.yaml", m)
	delete(es.Spec.MQTT, "json")
	delete(es.Spec.MQTT, "filtered")
	warm := newRecorder()
	stop := run(t, newSource(t, es, nil), warm.emit)
	untilSubscribedTo(t, m, "plain/warmup", "w", warm)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	const n = 50
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = []byte("kept")
	}
	if err := m.publish(t.Context(), "plain/drain", bodies...); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	d, err := newSource(t, es, nil).Drain(t.Context(), rec.emit, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if d.Count != n || !d.Empty {
		t.Errorf("drained %+v, want %d and empty", d, n)
	}
	if got := len(rec.take()); got != n {
		t.Errorf("%d events stored, want %d", got, n)
	}
}

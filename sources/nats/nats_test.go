package nats_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/nats"
	"github.com/flintevents/flint/sources/pull"
	"github.com/flintevents/flint/sources/sourcetest"
)

// load reads an EventSource and points every entry at url.
func load(t testing.TB, file, url string) *v1alpha1.EventSource {
	t.Helper()
	es := sourcetest.Load(t, file)
	for name, e := range es.Spec.NATS {
		e.URL = url
		es.Spec.NATS[name] = e
	}
	return es
}

// only keeps the entry name of es.
func only(es *v1alpha1.EventSource, name string) *v1alpha1.EventSource {
	es.Spec.NATS = map[string]v1alpha1.NATSEventsSource{name: es.Spec.NATS[name]}
	return es
}

// secrets is a secret.Local holding values (name/key → value).
func secrets(values map[string]string) secret.Resolver {
	env := map[string]string{}
	for k, v := range values {
		name, key, _ := strings.Cut(k, "/")
		env[secret.EnvName(name, key)] = v
	}
	return secret.Local{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

// collector is an emitter that keeps the stored events and lets a test wait
// for a count; refuse, when set, refuses an event before storing it.
type collector struct {
	refuse func() bool
	mu     sync.Mutex
	events []sources.Event
	more   chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1)} }

func (c *collector) emit(_ context.Context, ev sources.Event) error {
	if c.refuse != nil && c.refuse() {
		return fmt.Errorf("refused")
	}
	c.mu.Lock()
	c.events = append(c.events, ev)
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
	return nil
}

// wait returns the events once n were stored, failing after within.
func (c *collector) wait(t testing.TB, n int, within time.Duration) []sources.Event {
	t.Helper()
	deadline := time.After(within)
	for {
		c.mu.Lock()
		got := append([]sources.Event(nil), c.events...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("%d events stored after %v, want %d", len(got), within, n)
		}
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

// run runs the source of es until the test ends and checks it stops.
func run(t testing.TB, es *v1alpha1.EventSource, deps sources.Deps, emit sources.Emitter) {
	t.Helper()
	src, err := nats.New(es, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, emit) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return 10s after its context ended")
		}
	})
}

func isMintedID(id string) bool {
	b, err := hex.DecodeString(id)
	return err == nil && len(b) == 16
}

// TestEventData publishes one message per case and checks the event: the
// entry name, a minted id, and Argo's data byte for byte.
func TestEventData(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		file    string
		subject string
		header  natsgo.Header
		payload string
		want    string
	}{
		{
			name: "body base64 with metadata", file: "testdata/valid.yaml", subject: "orders",
			payload: `{"amount":12}`,
			want:    `{"subject":"orders","body":"eyJhbW91bnQiOjEyfQ==","metadata":{"team":"payments"}}`,
		},
		{
			name: "headers as lists", file: "testdata/valid.yaml", subject: "orders",
			header: natsgo.Header{"Trace-Id": {"a1"}, "Tag": {"x", "y"}}, payload: "hi",
			want: `{"subject":"orders","body":"aGk=","header":{"Tag":["x","y"],"Trace-Id":["a1"]},"metadata":{"team":"payments"}}`,
		},
		{
			name: "jsonBody spliced as JSON on a wildcard subject", file: "testdata/json-body.yaml", subject: "orders.eu",
			payload: `{"amount": 12}`,
			want:    `{"subject":"orders.eu","body":{"amount":12}}`,
		},
		{
			name: "queue group", file: "testdata/queue.yaml", subject: "orders",
			payload: "q",
			want:    `{"subject":"orders","body":"cQ=="}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, server.Options{})
			col := newCollector()
			run(t, load(t, tc.file, srv.URL()), sources.Deps{}, col.emit)
			srv.waitSubscribed(t, 1)
			nc := srv.connect(t)
			if err := nc.PublishMsg(&natsgo.Msg{Subject: tc.subject, Header: tc.header, Data: []byte(tc.payload)}); err != nil {
				t.Fatal(err)
			}
			evs := col.wait(t, 1, 10*time.Second)
			ev := evs[0]
			if ev.Name != "example" {
				t.Errorf("event name %q, want example", ev.Name)
			}
			if !isMintedID(ev.ID) {
				t.Errorf("event id %q, want 32 hex digits", ev.ID)
			}
			if !jsonEqual(t, ev.Data, tc.want) {
				t.Errorf("data\n got %s\nwant %s", ev.Data, tc.want)
			}
		})
	}
}

func jsonEqual(t testing.TB, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("data %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}

// TestDropsWhatArgoDrops: a message the filter refuses, and one whose
// payload is not JSON under jsonBody, emit nothing; the next one does.
func TestDropsWhatArgoDrops(t *testing.T) {
	t.Parallel()
	srv := startServer(t, server.Options{})
	col := newCollector()
	run(t, load(t, "testdata/json-body.yaml", srv.URL()), sources.Deps{}, col.emit)
	srv.waitSubscribed(t, 1)
	nc := srv.connect(t)
	for _, p := range []string{`{"amount": 3}`, `not json`, `{"amount": 99}`} {
		if err := nc.Publish("orders.us", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	evs := col.wait(t, 1, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := col.count(); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
	if !jsonEqual(t, evs[0].Data, `{"subject":"orders.us","body":{"amount":99}}`) {
		t.Errorf("data %s", evs[0].Data)
	}
}

// TestEveryMessageArrives publishes while the source runs through an
// emitter that refuses one event in five: every message is stored exactly
// once, each under an id of its own.
func TestEveryMessageArrives(t *testing.T) {
	t.Parallel()
	const n = 2000
	srv := startServer(t, server.Options{})
	col := newCollector()
	col.refuse = func() bool { return rand.IntN(5) == 0 }
	run(t, load(t, "testdata/queue.yaml", srv.URL()), sources.Deps{}, col.emit)
	srv.waitSubscribed(t, 1)
	nc := srv.connect(t)
	for i := range n {
		if err := nc.Publish("orders", []byte(fmt.Sprintf("m-%05d", i))); err != nil {
			t.Fatal(err)
		}
	}
	evs := col.wait(t, n, 30*time.Second)
	time.Sleep(200 * time.Millisecond)
	if got := col.count(); got != n {
		t.Fatalf("%d events stored, want %d", got, n)
	}
	bodies, ids := map[string]int{}, map[string]bool{}
	for _, ev := range evs {
		var d struct{ Body []byte }
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		bodies[string(d.Body)]++
		if ids[ev.ID] {
			t.Errorf("id %s used twice", ev.ID)
		}
		ids[ev.ID] = true
	}
	for i := range n {
		if b := fmt.Sprintf("m-%05d", i); bodies[b] != 1 {
			t.Errorf("%s stored %d times", b, bodies[b])
		}
	}
}

// TestBrokerRestart: after the server restarts on the same address, the
// source subscribes again and what is published then arrives.
func TestBrokerRestart(t *testing.T) {
	t.Parallel()
	srv := startServer(t, server.Options{})
	col := newCollector()
	es := load(t, "testdata/valid.yaml", srv.URL())
	run(t, es, sources.Deps{}, col.emit)
	srv.waitSubscribed(t, 1)
	if err := srv.connect(t).Publish("orders", []byte("before")); err != nil {
		t.Fatal(err)
	}
	col.wait(t, 1, 10*time.Second)
	srv.restart(t)
	srv.waitSubscribed(t, 1)
	if err := srv.connect(t).Publish("orders", []byte("after")); err != nil {
		t.Fatal(err)
	}
	evs := col.wait(t, 2, 10*time.Second)
	var d struct{ Body []byte }
	if err := json.Unmarshal(evs[1].Data, &d); err != nil || string(d.Body) != "after" {
		t.Fatalf("second event %s (%v), want the body after", evs[1].Data, err)
	}
}

// TestGivesUpAfterConnectionBackoff: with steps, Run returns the connect
// error after that many failures in a row.
func TestGivesUpAfterConnectionBackoff(t *testing.T) {
	t.Parallel()
	srv := startServer(t, server.Options{Authorization: "right"})
	es := load(t, "testdata/auth.yaml", srv.URL())
	e := es.Spec.NATS["token"]
	dur := v1alpha1.Int64OrString{Type: v1alpha1.String, StrVal: "10ms"}
	e.ConnectionBackoff = &v1alpha1.Backoff{Steps: 2, Duration: &dur}
	es.Spec.NATS = map[string]v1alpha1.NATSEventsSource{"token": e}
	src, err := nats.New(es, sources.Deps{Secrets: secrets(map[string]string{"nats/token": "wrong"})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = src.Run(ctx, newCollector().emit)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("Run = %v, want the authorization error after 2 failures", err)
	}
}

// TestAuth: each way of authenticating connects to a server that demands
// it, and the message published there arrives.
func TestAuth(t *testing.T) {
	t.Parallel()
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	pub, _ := user.PublicKey()
	vals := secrets(map[string]string{"nats/user": "flint", "nats/password": "s3cret", "nats/token": "t0ken", "nats/seed": string(seed)})
	cases := []struct {
		entry   string
		opts    server.Options
		publish []natsgo.Option
	}{
		{"basic", server.Options{Users: []*server.User{{Username: "flint", Password: "s3cret"}}}, []natsgo.Option{natsgo.UserInfo("flint", "s3cret")}},
		{"token", server.Options{Authorization: "t0ken"}, []natsgo.Option{natsgo.Token("t0ken")}},
		{"nkey", server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}}, []natsgo.Option{natsgo.Nkey(pub, user.Sign)}},
	}
	for _, tc := range cases {
		t.Run(tc.entry, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tc.opts)
			col := newCollector()
			run(t, only(load(t, "testdata/auth.yaml", srv.URL()), tc.entry), sources.Deps{Secrets: vals}, col.emit)
			srv.waitSubscribed(t, 1)
			if err := srv.connect(t, tc.publish...).Publish("orders", []byte("x")); err != nil {
				t.Fatal(err)
			}
			if ev := col.wait(t, 1, 10*time.Second)[0]; ev.Name != tc.entry {
				t.Errorf("event name %q, want %q", ev.Name, tc.entry)
			}
		})
	}
}

// TestRefusesBadSpecs: the factory names the field of each problem.
func TestRefusesBadSpecs(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"testdata/invalid-queue.yaml":  "spec.nats[example].queue",
		"testdata/invalid-filter.yaml": "spec.nats[example].filter.expression",
		"testdata/invalid-token.yaml":  "spec.nats[example].auth.token",
		"testdata/invalid-nkey.yaml":   "spec.nats[example].auth.nkey",
		"testdata/invalid-tls.yaml":    "spec.nats[example].tls.clientKeySecret",
	}
	deps := sources.Deps{Secrets: secrets(map[string]string{"nats/not-a-seed": "SUNOTASEED", "nats/cert": "x"})}
	for file, path := range cases {
		_, err := nats.New(sourcetest.Load(t, file), deps)
		fe, ok := err.(*apis.FieldError)
		if !ok {
			t.Errorf("%s: error %v (%T), want a field error", file, err, err)
			continue
		}
		if !strings.Contains(fe.Error(), path) {
			t.Errorf("%s: error %q does not name %s", file, fe.Error(), path)
		}
	}
}

// TestDrain: Drain emits what is delivered and returns once the subject is
// quiet for Idle, the origin being empty.
func TestDrain(t *testing.T) {
	t.Parallel()
	srv := startServer(t, server.Options{})
	src, err := nats.New(load(t, "testdata/valid.yaml", srv.URL()), sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	type result struct {
		d   pull.Drained
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := src.Drain(context.Background(), col.emit, time.Now().Add(20*time.Second))
		done <- result{d, err}
	}()
	srv.waitSubscribed(t, 1)
	nc := srv.connect(t)
	for i := range 10 {
		if err := nc.Publish("orders", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case r := <-done:
		if r.err != nil || !r.d.Empty || r.d.Count != 10 {
			t.Fatalf("Drain = %+v, %v; want 10 drained and empty", r.d, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Drain did not return")
	}
}

// TestConformance runs the suite every source type runs. Its valid
// EventSource (jsonBody, a filter) points at a server started here. The
// subtests' sources share the subject, so Trigger publishes only once the
// source of "rejects bad input" is gone, and Reject publishes what the
// filter drops and what is not JSON.
func TestConformance(t *testing.T) {
	srv := startServer(t, server.Options{})
	raw, err := os.ReadFile("testdata/json-body.yaml")
	if err != nil {
		t.Fatal(err)
	}
	valid := filepath.Join(t.TempDir(), "valid.yaml")
	if err := os.WriteFile(valid, []byte(strings.ReplaceAll(string(raw), "nats://127.0.0.1:4222", srv.URL())), 0o600); err != nil {
		t.Fatal(err)
	}
	rejected := make(chan struct{})
	publish := func(t *testing.T, payloads ...string) {
		nc := srv.connect(t)
		sub, err := nc.SubscribeSync("orders.eu")
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		for _, p := range payloads {
			if err := nc.Publish("orders.eu", []byte(p)); err != nil {
				t.Fatal(err)
			}
			if _, err := sub.NextMsg(5 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(300 * time.Millisecond) // the source's emit follows the delivery
		nc.Close()
	}
	sourcetest.Run(t, sourcetest.Case{
		Factory: func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) { return nats.New(es, deps) },
		Valid:   valid,
		Invalid: map[string]string{
			"testdata/invalid-queue.yaml":  "spec.nats[example].queue",
			"testdata/invalid-filter.yaml": "spec.nats[example].filter.expression",
			"testdata/invalid-token.yaml":  "spec.nats[example].auth.token",
		},
		Trigger: func(t *testing.T, _ *sourcetest.Running) {
			<-rejected
			srv.waitSubscriptions(t, 1)
			publish(t, `{"amount":12}`)
		},
		Check: func(t *testing.T, ev sources.Event) {
			if ev.Name != "example" || !jsonEqual(t, ev.Data, `{"subject":"orders.eu","body":{"amount":12}}`) {
				t.Errorf("event %s %s", ev.Name, ev.Data)
			}
		},
		Reject: func(t *testing.T, _ *sourcetest.Running) {
			defer close(rejected)
			srv.waitSubscribed(t, 1)
			publish(t, `{"amount":3}`, `not json`)
		},
	})
}

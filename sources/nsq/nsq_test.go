package nsq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/sourcetest"
)

// testSettings read the test's nsqlookupd often, so a restarted nsqd is
// found within the test's patience.
func testSettings() settings {
	s := defaultSettings()
	s.lookupdPoll = 100 * time.Millisecond
	return s
}

// entrySpec loads testdata/valid.yaml and points its entry at s, reading
// topic; edit changes the entry further.
func entrySpec(t testing.TB, s *server, topic string, edit func(*v1alpha1.NSQEventSource)) *v1alpha1.EventSource {
	t.Helper()
	es := sourcetest.Load(t, "testdata/valid.yaml")
	e := es.Spec.NSQ["example"]
	e.HostAddress = s.LookupdAddress()
	e.Topic = topic
	if edit != nil {
		edit(&e)
	}
	es.Spec.NSQ["example"] = e
	return es
}

// runSource builds es's source and runs it until the test ends.
func runSource(t testing.TB, es *v1alpha1.EventSource, set settings, emit sources.Emitter) {
	t.Helper()
	src, err := newSource(es, sources.Deps{Logger: testLogger(t)}, set)
	if err != nil {
		t.Fatalf("building the source: %v", err)
	}
	runBuilt(t, src, emit)
}

// runBuilt runs src until the test ends.
func runBuilt(t testing.TB, src sources.Source, emit sources.Emitter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, emit) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after its context ended", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return 10s after its context ended")
		}
	})
}

// waitFor polls cond until it holds, or fails after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settledAt waits until nsqd holds nothing of the channel: every message
// was finished.
func settledAt(t testing.TB, s *server, topic string) channelStats {
	t.Helper()
	var st channelStats
	waitFor(t, 10*time.Second, "nsqd to have every message finished", func() bool {
		st = s.Stats(topic, "flint")
		// The topic hands a published message to its channels on a goroutine
		// of its own: until the channel counts it, an empty channel says nothing.
		return st.Messages > 0 && st.Depth == 0 && st.InFlight == 0 && st.Deferred == 0
	})
	return st
}

func TestNewRejectsInvalidSpecs(t *testing.T) {
	cases := []struct {
		file, path string
	}{
		{"testdata/invalid-host.yaml", "spec.nsq[example].hostAddress"},
		{"testdata/invalid-url.yaml", "spec.nsq[example].hostAddress"},
		{"testdata/invalid-topic.yaml", "spec.nsq[example].topic"},
		{"testdata/invalid-channel.yaml", "spec.nsq[example].channel"},
		{"testdata/invalid-filter.yaml", "spec.nsq[example].filter.expression"},
		{"testdata/invalid-tls.yaml", "spec.nsq[example].tls.caCertSecret"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			_, err := New(sourcetest.Load(t, tc.file), sources.Deps{})
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *apis.FieldError", err, err)
			}
			if !hasPath(fe, tc.path) {
				t.Fatalf("error %q does not name %s", fe.Error(), tc.path)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		if _, err := New(sourcetest.Load(t, "testdata/valid.yaml"), sources.Deps{}); err != nil {
			t.Fatalf("building testdata/valid.yaml: %v", err)
		}
	})
}

func hasPath(fe *apis.FieldError, path string) bool {
	for _, e := range fe.WrappedErrors() {
		for _, p := range e.Paths {
			if p == path {
				return true
			}
		}
	}
	return false
}

// TestEmitsArgoEventData publishes one message per case and checks the
// event: Argo's data, the NSQ message id, the publish time, and the message
// finished at nsqd once stored (or, filtered, finished without an event).
func TestEmitsArgoEventData(t *testing.T) {
	s := startServer(t)
	cases := []struct {
		name     string
		edit     func(*v1alpha1.NSQEventSource)
		body     string
		wantBody string // the JSON of data.body; "" when no event is wanted
		wantMeta string
	}{
		{name: "plain body is base64", body: "hello\x00nsq", wantBody: `"aGVsbG8AbnNx"`},
		{name: "jsonBody keeps the JSON", edit: func(e *v1alpha1.NSQEventSource) { e.JSONBody = true },
			body: `{"total": 12, "items": ["a"]}`, wantBody: `{"total":12,"items":["a"]}`},
		{name: "metadata is copied", edit: func(e *v1alpha1.NSQEventSource) { e.Metadata = map[string]string{"team": "orders"} },
			body: "x", wantBody: `"eA=="`, wantMeta: `{"team":"orders"}`},
		{name: "filter passes", edit: func(e *v1alpha1.NSQEventSource) {
			e.JSONBody = true
			e.Filter = &v1alpha1.EventSourceFilter{Expression: "body.total > 10"}
		}, body: `{"total":12}`, wantBody: `{"total":12}`},
		{name: "filter drops and finishes", edit: func(e *v1alpha1.NSQEventSource) {
			e.JSONBody = true
			e.Filter = &v1alpha1.EventSourceFilter{Expression: "body.total > 10"}
		}, body: `{"total":3}`},
		{name: "jsonBody with a body that is not JSON is finished without an event",
			edit: func(e *v1alpha1.NSQEventSource) { e.JSONBody = true }, body: `not json`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topic := fmt.Sprintf("data-%d", i)
			s.CreateChannel(topic, "flint")
			rec := &sourcetest.Recorder{}
			runSource(t, entrySpec(t, s, topic, tc.edit), testSettings(), rec.Emit)
			before := time.Now()
			if err := s.Publish(t.Context(), topic, [][]byte{[]byte(tc.body)}); err != nil {
				t.Fatal(err)
			}
			st := settledAt(t, s, topic)
			if st.Requeues != 0 || st.Timeouts != 0 {
				t.Errorf("nsqd counted %d requeues and %d timeouts, want none", st.Requeues, st.Timeouts)
			}
			evs := rec.Take()
			if tc.wantBody == "" {
				if len(evs) != 0 {
					t.Fatalf("emitted %d events, want none: %s", len(evs), evs[0].Data)
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("emitted %d events, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Name != "example" {
				t.Errorf("event name %q, want example", ev.Name)
			}
			idRE := regexp.MustCompile(`^` + regexp.QuoteMeta(s.nsqdTCP+"/"+topic+"/flint/") + `[0-9a-f]{16}$`)
			if !idRE.MatchString(ev.ID) {
				t.Errorf("event id %q, want %s", ev.ID, idRE)
			}
			var data map[string]json.RawMessage
			if err := json.Unmarshal(ev.Data, &data); err != nil {
				t.Fatalf("event data %s: %v", ev.Data, err)
			}
			var ts string
			if err := json.Unmarshal(data["timestamp"], &ts); err != nil {
				t.Fatalf("timestamp %s: %v", data["timestamp"], err)
			}
			want := fmt.Sprintf(`{"body":%s,"timestamp":%q,"nsqdAddress":%q`, tc.wantBody, ts, s.nsqdTCP)
			if tc.wantMeta != "" {
				want += `,"metadata":` + tc.wantMeta
			}
			want += "}"
			if string(ev.Data) != want {
				t.Errorf("event data\n%s\nwant\n%s", ev.Data, want)
			}
			if ts != fmt.Sprint(ev.Time.UnixNano()) {
				t.Errorf("event time %v (%d), want the timestamp %s", ev.Time, ev.Time.UnixNano(), ts)
			}
			if ev.Time.Before(before.Add(-time.Second)) || ev.Time.After(time.Now()) {
				t.Errorf("event time %v is not the publish time (published after %v)", ev.Time, before)
			}
		})
	}
}

// idEmitter records the id of every emit and refuses the first refuse ones.
type idEmitter struct {
	mu     sync.Mutex
	refuse int
	slow   time.Duration
	calls  []string
	stored []sources.Event
}

func (e *idEmitter) Emit(ctx context.Context, ev sources.Event) error {
	e.mu.Lock()
	e.calls = append(e.calls, ev.ID)
	n := len(e.calls)
	e.mu.Unlock()
	if n <= e.refuse {
		return errors.New("refused by the test")
	}
	if n == 1 && e.slow > 0 {
		select {
		case <-time.After(e.slow):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stored = append(e.stored, ev)
	return nil
}

func (e *idEmitter) snapshot() (calls []string, stored []sources.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...), append([]sources.Event(nil), e.stored...)
}

// TestRefusedEventIsRequeuedUnderTheSameID: an event the broker refuses
// leaves its message unfinished; nsqd gets a REQ and delivers it again, under
// the same NSQ message id, until it is stored and finished.
func TestRefusedEventIsRequeuedUnderTheSameID(t *testing.T) {
	s := startServer(t)
	s.CreateChannel("refused", "flint")
	em := &idEmitter{refuse: 4} // the runner tries 3 times, then requeues
	runSource(t, entrySpec(t, s, "refused", nil), testSettings(), em.Emit)
	if err := s.Publish(t.Context(), "refused", [][]byte{[]byte("once")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the event to be stored", func() bool { _, st := em.snapshot(); return len(st) == 1 })
	st := settledAt(t, s, "refused")
	calls, stored := em.snapshot()
	if st.Requeues < 1 {
		t.Errorf("nsqd counted %d requeues, want at least 1", st.Requeues)
	}
	if len(calls) != 5 {
		t.Errorf("%d emits, want 5 (3 refused, requeued, 1 refused, 1 stored)", len(calls))
	}
	for _, id := range calls {
		if id != stored[0].ID {
			t.Errorf("emits carried ids %v, want every one %s: the id must survive a requeue", calls, stored[0].ID)
			break
		}
	}
}

// TestRefusingEmitterLeavesTheMessage: while the broker refuses, the
// message stays at nsqd, unfinished; a source stopped then leaves it there.
func TestRefusingEmitterLeavesTheMessage(t *testing.T) {
	s := startServer(t)
	s.CreateChannel("kept", "flint")
	em := &idEmitter{refuse: 1 << 30}
	es := entrySpec(t, s, "kept", nil)
	ctx, cancel := context.WithCancel(context.Background())
	src, err := newSource(es, sources.Deps{Logger: testLogger(t)}, testSettings())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, em.Emit) }()
	if err := s.Publish(t.Context(), "kept", [][]byte{[]byte("kept")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "an emit", func() bool { c, _ := em.snapshot(); return len(c) >= 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := s.Stats("kept", "flint")
	if held := st.Depth + int64(st.InFlight) + int64(st.Deferred); held != 1 {
		t.Fatalf("nsqd holds %d messages (%+v), want the refused one", held, st)
	}
}

// TestSlowEmitTouchesTheMessage: an emit that outlasts the message timeout
// keeps its message with TOUCH, so nsqd neither times it out nor delivers
// it again.
func TestSlowEmitTouchesTheMessage(t *testing.T) {
	s := startServer(t)
	s.CreateChannel("slow", "flint")
	set := testSettings()
	set.msgTimeout = time.Second
	// nsqd looks for timed-out messages in the channels it knew at its last
	// refresh, every 5 s, so the emit outlasts that too.
	em := &idEmitter{slow: 6500 * time.Millisecond}
	runSource(t, entrySpec(t, s, "slow", nil), set, em.Emit)
	if err := s.Publish(t.Context(), "slow", [][]byte{[]byte("slow")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the event to be stored", func() bool { _, st := em.snapshot(); return len(st) == 1 })
	st := settledAt(t, s, "slow")
	if st.Timeouts != 0 || st.Requeues != 0 {
		t.Errorf("nsqd counted %d timeouts and %d requeues, want none", st.Timeouts, st.Requeues)
	}
	if calls, _ := em.snapshot(); len(calls) != 1 {
		t.Errorf("%d emits, want 1: the message was delivered again", len(calls))
	}
}

// TestUnreachableLookupdIsRetried: a source whose nsqlookupd does not answer
// keeps trying, and reads once it does.
func TestUnreachableLookupdIsRetried(t *testing.T) {
	s := startServer(t)
	s.CreateChannel("late", "flint")
	es := entrySpec(t, s, "late", func(e *v1alpha1.NSQEventSource) {
		e.ConnectionBackoff = &v1alpha1.Backoff{Duration: ptr(v1alpha1.FromString("100ms"))}
	})
	stopCmd(s.lookupd)
	rec := &sourcetest.Recorder{}
	runSource(t, es, testSettings(), rec.Emit)
	time.Sleep(300 * time.Millisecond)
	s.lookupd = s.start(s.lookupdBin, "-tcp-address", s.lookupdTCP, "-http-address", s.lookupdHTTP,
		"-broadcast-address", "127.0.0.1", "-log-level", "warn")
	waitPing(t, s.lookupdHTTP)
	// A restarted nsqd registers its topics with nsqlookupd at once.
	s.StopNSQD()
	s.StartNSQD()
	if err := s.Publish(t.Context(), "late", [][]byte{[]byte("late")}); err != nil {
		t.Fatal(err)
	}
	var evs []sources.Event
	waitFor(t, 20*time.Second, "the event", func() bool { evs = append(evs, rec.Take()...); return len(evs) == 1 })
	if !strings.HasSuffix(string(evs[0].Data), `"nsqdAddress":"`+s.nsqdTCP+`"}`) {
		t.Errorf("event data %s", evs[0].Data)
	}
}

// testLogger logs at info and above to the test's log.
func testLogger(t testing.TB) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zapcore.InfoLevel))
}

func ptr[T any](v T) *T { return &v }

// TestDrain: the backlog is what nsqd holds of the channel; drain mode
// reads it, finishing each message, and returns once nsqd holds nothing
// more of it.
func TestDrain(t *testing.T) {
	s := startServer(t)
	s.CreateChannel("drain", "flint")
	bodies := make([][]byte, 50)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf("drain-%02d", i))
	}
	if err := s.Publish(t.Context(), "drain", bodies); err != nil {
		t.Fatal(err)
	}
	es := entrySpec(t, s, "drain", nil)
	e, fe := newEntry(es, "example", es.Spec.NSQ["example"], sources.Deps{}, testLogger(t), testSettings())
	if fe != nil {
		t.Fatal(fe)
	}
	backlog := func() int64 {
		t.Helper()
		n, err := (&consumer{e: e}).Backlog(t.Context())
		if err != nil {
			t.Fatalf("Backlog: %v", err)
		}
		return n
	}
	if n := backlog(); n != int64(len(bodies)) {
		t.Errorf("backlog before draining %d, want %d", n, len(bodies))
	}
	src, err := newSource(es, sources.Deps{Logger: testLogger(t)}, testSettings())
	if err != nil {
		t.Fatal(err)
	}
	rec := &sourcetest.Recorder{}
	got, err := src.Drain(t.Context(), rec.Emit, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if got.Count != int64(len(bodies)) || !got.Empty {
		t.Errorf("Drain = %+v, want %d events and the channel empty", got, len(bodies))
	}
	if evs := rec.Take(); len(evs) != len(bodies) {
		t.Errorf("stored %d events, want %d", len(evs), len(bodies))
	}
	settledAt(t, s, "drain")
	if n := backlog(); n != 0 {
		t.Errorf("backlog after draining %d, want 0", n)
	}
}

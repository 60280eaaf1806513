package broker_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"

	"github.com/flintevents/flint/broker/deadletter"
	"github.com/flintevents/flint/broker/dispatcher"
	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// outage is a subscriber that answers 503 while down and records what it took while up.
type outage struct {
	down      atomic.Bool
	mu        sync.Mutex
	delivered map[string]int
	firstAt   time.Time // first successful delivery
}

func newOutage(down bool) *outage {
	o := &outage{delivered: map[string]int{}}
	o.down.Store(down)
	return o
}

func (o *outage) respond(w http.ResponseWriter, _ int, r *brokertest.Request) {
	if o.down.Load() {
		http.Error(w, "target down", http.StatusServiceUnavailable)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.firstAt.IsZero() {
		o.firstAt = time.Now()
	}
	o.delivered[r.Event.ID()]++
}

// counts reports how many accepted ids were delivered, how many deliveries were
// duplicates, and the accepted ids not delivered.
func (o *outage) counts(acc *accepted) (delivered, duplicated int, missing []string) {
	o.mu.Lock()
	got := make(map[string]int, len(o.delivered))
	for id, n := range o.delivered {
		got[id] = n
		delivered++
		duplicated += n - 1
	}
	o.mu.Unlock()
	return delivered, duplicated, acc.missing(got)
}

func (o *outage) waitAll(t *testing.T, acc *accepted, timeout time.Duration) {
	t.Helper()
	brokertest.Eventually(t, timeout, func() error {
		if _, _, m := o.counts(acc); len(m) > 0 {
			return fmt.Errorf("%d of %d accepted events not delivered, e.g. %s", len(m), acc.len(), m[0])
		}
		return nil
	})
}

// sendAt posts n events at rate per second, recording the accepted ones.
func sendAt(t *testing.T, url, prefix string, n int, every time.Duration, acc *accepted) {
	t.Helper()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		brokertest.MustPost(t, url, brokertest.NewEvent(id, "t"), http.StatusAccepted)
		acc.add(id)
		<-tick.C
	}
}

// TestSensorOutageIsOutlasted feeds a sensor's Trigger, with the delivery spec flint
// compiles for every sensor, while the sensor is down, then brings it back: every
// accepted event arrives. The dispatcher's backoff cap is shortened so the horizon
// (1448 retries) lasts about two minutes instead of a day; the spec used to give up
// after five retries.
func TestSensorOutageIsOutlasted(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxBackoff = 100 * time.Millisecond
	p := startPlane(t, cfg)
	target := newOutage(true)
	sink := brokertest.NewSink(t, target.respond)
	p.apply(t, brokers("b"), newTrigger("sensor-d", "b", sink.URL, withDelivery(compile.Delivery(&v1alpha1.Sensor{}))))

	acc := &accepted{ids: map[string]bool{}}
	sendAt(t, p.brokerURL("b"), "outage", 40, 100*time.Millisecond, acc) // 4 s down at 10 events/s
	target.down.Store(false)
	up := time.Now()
	sendAt(t, p.brokerURL("b"), "after", 10, 10*time.Millisecond, acc)
	target.waitAll(t, acc, 30*time.Second)
	p.waitIdle(t, "b", "sensor-d")
	delivered, dup, _ := target.counts(acc)
	t.Logf("sensor down 4 s: accepted %d, delivered %d, duplicated %d, all delivered %s after it came back",
		acc.len(), delivered, dup, time.Since(up).Round(time.Millisecond))
	if letters, err := deadletter.List(context.Background(), p.js, deadletter.Filter{}); err != nil || len(letters) > 0 {
		t.Fatalf("%d dead letters (%v), want none", len(letters), err)
	}
}

// TestPastHorizonKeepsEventsForReplay keeps a subscriber down past its trigger's retries:
// every event lands in the broker's dead-letter stream with a warning naming it, and a
// replay, once the subscriber is back, delivers each to that trigger only.
func TestPastHorizonKeepsEventsForReplay(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.WarnLevel)
	p := startPlaneOn(t, natsdtest.Run(t), testConfig(), zap.New(core))
	target := newOutage(true)
	sink := brokertest.NewSink(t, target.respond)
	other := brokertest.NewSink(t, nil)
	policy := duckv1.BackoffPolicyExponential
	spec := delivery(3, "PT0.02S", "")
	spec.BackoffPolicy = &policy
	p.apply(t, brokers("b"), newTrigger("t", "b", sink.URL, withDelivery(spec)), newTrigger("other", "b", other.URL))

	acc := &accepted{ids: map[string]bool{}}
	const n = 20
	sendAt(t, p.brokerURL("b"), "dead", n, time.Millisecond, acc)
	letters := p.deadLetters(t, n)
	p.waitIdle(t, "b", "t")
	for _, l := range letters {
		if l.Event == nil || !acc.ids[l.Event.ID()] || l.TriggerKey() != "default/t" || l.Code != 503 || l.Attempts != 4 || l.Subscriber != sink.URL {
			t.Fatalf("dead letter %+v, want an accepted event of default/t, 503 after 4 attempts to %s", l, sink.URL)
		}
	}
	warned := map[string]bool{}
	for _, e := range logs.FilterMessage("event dead-lettered").All() {
		if e.ContextMap()["deadLetterStream"] == bus.DeadLetterStreamName("default", "b") {
			warned[fmt.Sprint(e.ContextMap()["id"])] = true
		}
	}
	if len(warned) != n {
		t.Fatalf("%d events dead-lettered with a warning naming the stream, want %d", len(warned), n)
	}

	target.down.Store(false)
	replayed, err := deadletter.Replay(context.Background(), p.js, deadletter.Filter{Trigger: "t"}, nil)
	if err != nil || replayed != n {
		t.Fatalf("Replay = %d, %v; want %d", replayed, err, n)
	}
	target.waitAll(t, acc, waitFor)
	p.waitIdle(t, "b", "t")
	p.waitIdle(t, "b", "other")
	delivered, dup, _ := target.counts(acc)
	t.Logf("subscriber down past its retries: accepted %d, dead-lettered %d, replayed %d, delivered %d, duplicated %d", acc.len(), len(letters), replayed, delivered, dup)
	if dup != 0 {
		t.Errorf("%d duplicate deliveries after the replay", dup)
	}
	for id, k := range other.IDs() {
		if k != 1 {
			t.Errorf("the other trigger received %s %d times; a replay is for the trigger that gave up only", id, k)
		}
	}
	if got := len(other.IDs()); got != n {
		t.Errorf("the other trigger received %d events, want %d", got, n)
	}
	if left, err := deadletter.List(context.Background(), p.js, deadletter.Filter{}); err != nil || len(left) != 0 {
		t.Fatalf("%d dead letters left after the replay (%v)", len(left), err)
	}
}

// TestReplayKeepsLettersOfTriggersWithoutConsumer refuses to replay into a broker where
// the trigger that gave up no longer has a consumer: the event would be lost.
func TestReplayKeepsLettersOfTriggersWithoutConsumer(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	sub := brokertest.NewSink(t, status(400, "no"))
	p.apply(t, brokers("b"), newTrigger("t", "b", sub.URL))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("orphan", "t"), http.StatusAccepted)
	p.deadLetters(t, 1)
	p.apply(t, brokers("b")) // the trigger is removed
	n, err := deadletter.Replay(context.Background(), p.js, deadletter.Filter{}, nil)
	if n != 0 || err == nil {
		t.Fatalf("Replay = %d, %v; want 0 and ErrNoConsumer", n, err)
	}
	if l := p.deadLetters(t, 1); l[0].Event.ID() != "orphan" {
		t.Fatalf("dead letter %s, want orphan kept", l[0].Event.ID())
	}
}

// TestKillMidBurstRedeliversWithin10s crashes the broker (NATS connection gone without
// acknowledging anything, server stopped) while deliveries are in flight, restarts it on
// the same store with the default AckWait, and counts every accepted event.
func TestKillMidBurstRedeliversWithin10s(t *testing.T) {
	t.Parallel()
	store := t.TempDir()
	srv := natsdtest.RunWith(t, natsd.Options{Port: -1, StoreDir: store})
	cfg := testConfig()
	cfg.Concurrency = 8
	cfg.DrainTimeout = 50 * time.Millisecond
	release := make(chan struct{})
	var crashed atomic.Bool
	var mu sync.Mutex
	completed := map[string]int{}
	var firstAfter time.Time
	sink := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		if !crashed.Load() && n > 40 {
			// In flight when the broker dies: never answered in time.
			<-release
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if crashed.Load() && firstAfter.IsZero() {
			firstAfter = time.Now()
		}
		completed[r.Event.ID()]++
	})
	t.Cleanup(func() { close(release) }) // before the sink closes
	first := startPlaneOn(t, srv, cfg, zaptest.NewLogger(t))
	trigger := newTrigger("t", "b", sink.URL)
	first.apply(t, brokers("b"), trigger)
	acc := &accepted{ids: map[string]bool{}}
	const n = 200
	for i := range n {
		id := fmt.Sprint("k", i)
		brokertest.MustPost(t, first.brokerURL("b"), brokertest.NewEvent(id, "t"), http.StatusAccepted)
		acc.add(id)
	}
	sink.WaitCount(t, waitFor, 40+cfg.Concurrency)
	crashed.Store(true)
	first.nc.Close() // nothing acknowledged or handed back from here on
	srv.Shutdown()
	first.stop(t)

	restart := time.Now()
	second := startPlaneOn(t, natsdtest.RunWith(t, natsd.Options{Port: -1, StoreDir: store}), cfg, zaptest.NewLogger(t))
	second.apply(t, brokers("b"), trigger)
	brokertest.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		for id := range acc.ids {
			if completed[id] == 0 {
				return fmt.Errorf("event %s not delivered; %d of %d", id, len(completed), n)
			}
		}
		return nil
	})
	all := time.Since(restart)
	mu.Lock()
	dup := 0
	for _, k := range completed {
		dup += k - 1
	}
	toFirst := firstAfter.Sub(restart)
	mu.Unlock()
	t.Logf("kill mid-burst: accepted %d, delivered %d, duplicated %d; first delivery %s after the restart, all %s after it",
		acc.len(), len(completed), dup, toFirst.Round(time.Millisecond), all.Round(time.Millisecond))
	if all > 10*time.Second+time.Second {
		t.Fatalf("the events in flight at the crash took %s after the restart, want within 10 s", all)
	}
}

// TestStoppedDispatcherHandsBackFetchedEvents stops a dispatcher gracefully mid-burst
// with a long AckWait: the events it fetched but had not started go back at once, so a
// new dispatcher delivers them without waiting for AckWait.
func TestStoppedDispatcherHandsBackFetchedEvents(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	cfg := testConfig()
	cfg.Concurrency = 4
	cfg.AckWait = time.Minute
	sink := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		time.Sleep(50 * time.Millisecond)
	})
	trigger := newTrigger("t", "b", sink.URL)
	first := startPlaneOn(t, srv, cfg, zaptest.NewLogger(t))
	first.apply(t, brokers("b"), trigger)
	const n = 60
	for i := range n {
		brokertest.MustPost(t, first.brokerURL("b"), brokertest.NewEvent(fmt.Sprint("h", i), "t"), http.StatusAccepted)
	}
	sink.WaitCount(t, waitFor, 8)
	first.stop(t)
	second := startPlaneOn(t, srv, cfg, zaptest.NewLogger(t))
	restart := time.Now()
	second.apply(t, brokers("b"), trigger)
	brokertest.Eventually(t, 10*time.Second, func() error {
		ids := sink.IDs()
		for i := range n {
			if ids[fmt.Sprint("h", i)] == 0 {
				return fmt.Errorf("event h%d not delivered", i)
			}
		}
		return nil
	})
	t.Logf("graceful stop mid-burst: all %d delivered %s after the restart (AckWait %s)", n, time.Since(restart).Round(time.Millisecond), cfg.AckWait)
}

// TestFullStoreRefusesThenRecovers fills a small broker stream while its subscriber is
// down: the ingress answers 503 (nothing stored is dropped), and 202 again as soon as
// deliveries free space.
func TestFullStoreRefusesThenRecovers(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxBytes = 32 << 10
	cfg.MaxBackoff = 50 * time.Millisecond
	p := startPlane(t, cfg)
	target := newOutage(true)
	sink := brokertest.NewSink(t, target.respond)
	p.apply(t, brokers("b"), newTrigger("t", "b", sink.URL, withDelivery(delivery(10000, "PT0.01S", ""))))

	acc := &accepted{ids: map[string]bool{}}
	full := false
	for i := 0; i < 5000 && !full; i++ {
		id := fmt.Sprint("f", i)
		code, err := brokertest.Post(context.Background(), http.DefaultClient, p.brokerURL("b"), brokertest.NewEvent(id, "t"))
		switch {
		case err != nil:
			t.Fatal(err)
		case code == http.StatusAccepted:
			acc.add(id)
		case code == http.StatusServiceUnavailable:
			full = true
		default:
			t.Fatalf("posting %s: status %d", id, code)
		}
	}
	if !full {
		t.Fatalf("%d events accepted into a %d-byte store, never a 503", acc.len(), cfg.MaxBytes)
	}
	target.down.Store(false)
	freed := time.Now()
	brokertest.Eventually(t, waitFor, func() error {
		code, err := brokertest.Post(context.Background(), http.DefaultClient, p.brokerURL("b"), brokertest.NewEvent("after-full", "t"))
		if err != nil || code != http.StatusAccepted {
			return fmt.Errorf("status %d (%v), want 202 once space is freed", code, err)
		}
		acc.add("after-full")
		return nil
	})
	accepting := time.Since(freed)
	target.waitAll(t, acc, waitFor)
	delivered, dup, _ := target.counts(acc)
	t.Logf("store of %d bytes full after %d events: 503; subscriber back: 202 again after %s; accepted %d, delivered %d, duplicated %d",
		cfg.MaxBytes, acc.len()-1, accepting.Round(time.Millisecond), acc.len(), delivered, dup)
}

// TestStreamOfOlderFlintIsUpdated applies a broker whose stream and trigger consumer an
// older flint created (limits retention, 24 h, no size cap; AckWait of 5 min 15 s and a
// delivery limit): both take the current settings.
func TestStreamOfOlderFlintIsUpdated(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	ctx := context.Background()
	old := bus.StreamConfig("default", "b", bus.StreamOptions{})
	old.Retention, old.Discard, old.MaxAge, old.MaxBytes = jetstream.LimitsPolicy, jetstream.DiscardOld, 24*time.Hour, -1
	s, err := p.js.CreateStream(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: bus.ConsumerName("default", "t", ""), Description: "flint trigger default/t", AckPolicy: jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckWait:       5*time.Minute + 15*time.Second, MaxDeliver: 6, MaxAckPending: 200, FilterSubject: bus.Subject("default", "b"),
	}); err != nil {
		t.Fatal(err)
	}
	sink := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"), newTrigger("t", "b", sink.URL))
	si, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := si.Config; c.Retention != jetstream.InterestPolicy || c.Discard != jetstream.DiscardNew || c.MaxAge != 0 || c.MaxBytes != bus.DefaultMaxBytes {
		t.Fatalf("stream retention %s, discard %s, max age %s, max bytes %d; want interest, new, none, %d",
			c.Retention, c.Discard, c.MaxAge, c.MaxBytes, bus.DefaultMaxBytes)
	}
	ci, err := s.Consumer(ctx, bus.ConsumerName("default", "t", ""))
	if err != nil {
		t.Fatal(err)
	}
	if c := ci.CachedInfo().Config; c.AckWait != dispatcher.DefaultAckWait || c.MaxDeliver != -1 {
		t.Fatalf("consumer AckWait %s, MaxDeliver %d; want %s and unlimited", c.AckWait, c.MaxDeliver, dispatcher.DefaultAckWait)
	}
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("u1", "t"), http.StatusAccepted)
	sink.WaitCount(t, waitFor, 1)
	brokertest.Eventually(t, waitFor, func() error {
		subject := bus.Subject("default", "b")
		si, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
		if err != nil {
			return err
		}
		if n := si.State.Subjects[subject]; n != 0 {
			return fmt.Errorf("%d events kept after delivery, want 0", n)
		}
		return nil
	})
}

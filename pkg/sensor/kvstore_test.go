package sensor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// kvJetStream returns a JetStream on a new connection to srv, as a separate
// sensor instance would have.
func kvJetStream(t *testing.T, srv *natsd.Server) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(natsdtest.ConnectTo(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// andSensor is a sensor whose one http trigger "both" fires on `a && b`
// (or on cond), answered 200 by the target at url.
func andSensor(url, cond string, resets ...v1alpha1.ConditionsResetCriteria) *v1alpha1.Sensor {
	dep := func(name string) v1alpha1.EventDependency {
		return v1alpha1.EventDependency{Name: name, EventSourceName: "webhook", EventName: name}
	}
	dash := "-"
	return &v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{
		Dependencies: []v1alpha1.EventDependency{dep("a"), dep("b")},
		Triggers: []v1alpha1.Trigger{{
			Template: &v1alpha1.TriggerTemplate{Name: "both", Conditions: cond, ConditionsReset: resets,
				HTTP: &v1alpha1.HTTPTrigger{URL: url, Payload: []v1alpha1.TriggerParameter{
					{Src: &v1alpha1.TriggerParameterSource{DependencyName: "a", ContextKey: "id", Value: &dash}, Dest: "a"},
					{Src: &v1alpha1.TriggerParameterSource{DependencyName: "b", ContextKey: "id", Value: &dash}, Dest: "b"},
				}}},
			Policy: &v1alpha1.TriggerPolicy{Status: &v1alpha1.StatusPolicy{Allow: []int32{200}}},
		}},
	}}
}

// depEvent is an event of dependency dep ("a" or "b") with this id.
func depEvent(id, dep string) *event.Event {
	e := webhookEvent(id, `{}`, `{}`)
	e.Context.Subject = dep
	return e
}

// instance is one sensor engine on its own connection to srv, on the shared bucket.
func instance(t *testing.T, srv *natsd.Server, s *v1alpha1.Sensor, opts KVOptions) *Sensor {
	t.Helper()
	eng, err := New(s, Options{Store: NewKVStore(kvJetStream(t, srv), BucketName("default", "kv-test"), opts)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

// bodies returns the bodies the target received.
func bodies(tg *target) []string {
	var out []string
	for _, r := range tg.got() {
		out = append(out, r.body)
	}
	return out
}

func handle(t *testing.T, s *Sensor, ev *event.Event) {
	t.Helper()
	if err := s.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle(%s %s): %v", ev.Context.Subject, ev.Context.ID, err)
	}
}

func TestKVStoreSharedByInstances(t *testing.T) {
	t.Parallel()
	type step struct {
		instance int // 0 or 1
		id, dep  string
	}
	tests := []struct {
		name  string
		cond  string
		steps []step
		want  []string // bodies the target receives, in order
	}{{
		name:  "a on one instance, b on the other, fires once",
		steps: []step{{0, "1", "a"}, {1, "2", "b"}},
		want:  []string{`{"a":"1","b":"2"}`},
	}, {
		name:  "the latest event per dependency waits",
		steps: []step{{0, "1", "a"}, {1, "3", "a"}, {0, "2", "b"}},
		want:  []string{`{"a":"3","b":"2"}`},
	}, {
		name: "redelivered events are not taken again, on either instance",
		steps: []step{{0, "1", "a"}, {1, "2", "b"}, {0, "2", "b"}, {1, "1", "a"}, {0, "1", "a"},
			{1, "4", "b"}, {0, "5", "a"}},
		want: []string{`{"a":"1","b":"2"}`, `{"a":"5","b":"4"}`},
	}, {
		name:  "a condition without && fires once per event, once across instances",
		cond:  "a || b",
		steps: []step{{0, "1", "a"}, {1, "1", "a"}, {1, "2", "b"}, {0, "2", "b"}},
		want:  []string{`{"a":"1","b":"-"}`, `{"a":"-","b":"2"}`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := natsdtest.Run(t)
			tg, url := serve(t, http.StatusOK)
			s := andSensor(url, tt.cond)
			inst := []*Sensor{instance(t, srv, s, KVOptions{}), instance(t, srv, s, KVOptions{})}
			for _, st := range tt.steps {
				handle(t, inst[st.instance], depEvent(st.id, st.dep))
			}
			if got := bodies(tg); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("target got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestKVStoreConcurrentInstancesFireEachPairOnce(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	tg, url := serve(t, http.StatusOK)
	s := andSensor(url, "")
	a, b := instance(t, srv, s, KVOptions{}), instance(t, srv, s, KVOptions{})
	const rounds = 20
	for i := range rounds {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() { errs[0] = a.Handle(context.Background(), depEvent(fmt.Sprint("a", i), "a")) })
		wg.Go(func() { errs[1] = b.Handle(context.Background(), depEvent(fmt.Sprint("b", i), "b")) })
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := len(tg.got()); n != i+1 {
			t.Fatalf("after round %d the trigger fired %d times, want %d", i, n, i+1)
		}
	}
	for i, body := range bodies(tg) {
		if want := fmt.Sprintf(`{"a":"a%d","b":"b%d"}`, i, i); body != want {
			t.Errorf("firing %d = %s, want %s", i, body, want)
		}
	}
}

func TestKVStoreSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tg, url := serve(t, http.StatusOK)
	s := andSensor(url, "")

	first := natsdtest.RunWith(t, natsd.Options{Port: -1, StoreDir: dir})
	before := instance(t, first, s, KVOptions{})
	handle(t, before, depEvent("1", "a"))
	_ = before.Close()
	first.Shutdown()

	second := natsdtest.RunWith(t, natsd.Options{Port: -1, StoreDir: dir})
	after := instance(t, second, s, KVOptions{})
	handle(t, after, depEvent("2", "b"))
	handle(t, after, depEvent("2", "b"))
	if got, want := strings.Join(bodies(tg), "\n"), `{"a":"1","b":"2"}`; got != want {
		t.Fatalf("after a restart between a and b the target got %q, want %q", got, want)
	}
}

func TestKVStoreFailedFiringIsRetried(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	tg, url := serve(t, http.StatusInternalServerError)
	s := andSensor(url, "")
	a, b := instance(t, srv, s, KVOptions{}), instance(t, srv, s, KVOptions{})
	handle(t, a, depEvent("1", "a"))
	if err := b.Handle(context.Background(), depEvent("2", "b")); !errors.Is(err, ErrTriggerFailed) {
		t.Fatalf("Handle with a failing target = %v, want ErrTriggerFailed", err)
	}
	tg.mu.Lock()
	tg.status = http.StatusOK
	tg.mu.Unlock()
	handle(t, a, depEvent("2", "b")) // the broker redelivers b, here to the other instance
	handle(t, b, depEvent("2", "b"))
	got := bodies(tg)
	if len(got) != 2 || got[1] != `{"a":"1","b":"2"}` {
		t.Fatalf("target got %q, want the failed firing and one retry with a=1, b=2", got)
	}
}

func TestKVStoreConcurrentUpdatesLoseNothing(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	stores := []*KVStore{
		NewKVStore(kvJetStream(t, srv), "concurrent", KVOptions{}),
		NewKVStore(kvJetStream(t, srv), "concurrent", KVOptions{}),
	}
	const writers = 24
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			errs[i] = stores[i%2].UpdatePending(context.Background(), "t", func(p Pending) Pending {
				if p.Events == nil {
					p.Events = map[string]*event.Event{}
				}
				p.Events[fmt.Sprint("d", i)] = depEvent(fmt.Sprint(i), "a")
				return p
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var got Pending
	if err := stores[0].UpdatePending(context.Background(), "t", func(p Pending) Pending { got = p; return p }); err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != writers {
		t.Fatalf("state holds %d events after %d concurrent updates, want all", len(got.Events), writers)
	}
	for i := range writers {
		if ev := got.Events[fmt.Sprint("d", i)]; ev == nil || ev.Context.ID != fmt.Sprint(i) || string(ev.Data) != `{"header":{},"body":{}}` {
			t.Errorf("event d%d = %+v, want id %d with its data", i, ev, i)
		}
	}
}

func TestKVStoreIdempotencyKeys(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	ctx := context.Background()
	one := NewKVStore(kvJetStream(t, srv), "fired", KVOptions{FiredTTL: time.Second})
	other := NewKVStore(kvJetStream(t, srv), "fired", KVOptions{FiredTTL: time.Second})
	key := "sensor/trigger/a:1,b:2"
	if ok, err := one.Fired(ctx, key); err != nil || ok {
		t.Fatalf("Fired before MarkFired = %v, %v", ok, err)
	}
	for range 2 {
		if err := one.MarkFired(ctx, key, 0); err != nil {
			t.Fatalf("MarkFired: %v", err)
		}
	}
	if ok, err := other.Fired(ctx, key); err != nil || !ok {
		t.Fatalf("Fired on another instance = %v, %v; want true", ok, err)
	}
	if ok, _ := other.Fired(ctx, key+"x"); ok {
		t.Fatal("another key reads as fired")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, err := other.Fired(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the idempotency key did not expire after its TTL")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestKVStoreDeferredBuckets(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	ctx := context.Background()
	var later DeferredBuckets
	store := NewKVStore(&later, BucketName("default", "deferred"), KVOptions{})
	if _, err := store.Fired(ctx, "k"); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Fired before Set = %v, want ErrNotConnected", err)
	}
	later.Set(kvJetStream(t, srv))
	if err := store.MarkFired(ctx, "k", 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.Fired(ctx, "k"); err != nil || !ok {
		t.Fatalf("Fired after Set = %v, %v", ok, err)
	}
}

func TestBucketName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ns, name, want string
	}{
		{"default", "webhook", "flint-sensor_default_webhook"},
		{"team-a", "my-sensor-1", "flint-sensor_team-a_my-sensor-1"},
		{"default", "my.sensor", "flint-sensor_default_my-sensor_"},
		{"", "s", "flint-sensor__s"},
	}
	for _, tt := range tests {
		if got := BucketName(tt.ns, tt.name); !strings.HasPrefix(got, tt.want) {
			t.Errorf("BucketName(%q, %q) = %q, want prefix %q", tt.ns, tt.name, got, tt.want)
		}
	}
	if a, b := BucketName("default", "my.sensor"), BucketName("default", "my-sensor"); a == b {
		t.Errorf("my.sensor and my-sensor share bucket %q", a)
	}
	if a, b := BucketName("a-b", "c"), BucketName("a", "b-c"); a == b {
		t.Errorf("a-b/c and a/b-c share bucket %q", a)
	}
	long := BucketName(strings.Repeat("n", 63), strings.Repeat("s", 253))
	if len(long) > 120 {
		t.Errorf("BucketName of long names is %d characters, want at most 120", len(long))
	}
	srv := natsdtest.Run(t)
	js := kvJetStream(t, srv)
	for _, name := range []string{BucketName("default", "my.sensor"), long} {
		if _, err := js.CreateOrUpdateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: name}); err != nil {
			t.Errorf("NATS refuses bucket %q: %v", name, err)
		}
	}
}

// TestKVStoreMarkFiredTTL records one key for its own short TTL and one for
// the store's default: the first expires, the second is still there.
func TestKVStoreMarkFiredTTL(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	ctx := context.Background()
	store := NewKVStore(kvJetStream(t, srv), "ttl", KVOptions{FiredTTL: time.Hour})
	if err := store.MarkFired(ctx, "short", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := store.MarkFired(ctx, "long", 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		short, err := store.Fired(ctx, "short")
		if err != nil {
			t.Fatal(err)
		}
		if !short {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a key recorded for 1s was still there after 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if long, err := store.Fired(ctx, "long"); err != nil || !long {
		t.Fatalf("the key recorded for the store's default TTL: Fired = %v, %v; want true", long, err)
	}
}

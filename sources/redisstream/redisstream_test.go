package redisstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn/redisconn/redistest"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/sourcetest"
)

// secrets resolves references from a map keyed name/key.
type secrets map[string]string

func (s secrets) Resolve(_ context.Context, ref *corev1.SecretKeySelector) (string, error) {
	v, ok := s[ref.Name+"/"+ref.Key]
	if !ok {
		return "", secret.ErrNotFound
	}
	return v, nil
}

// load reads an EventSource of testdata and points its entries at addr.
func load(t testing.TB, file, addr string) *v1alpha1.EventSource {
	t.Helper()
	es := sourcetest.Load(t, "testdata/"+file)
	for name, e := range es.Spec.RedisStream {
		e.HostAddress = addr
		es.Spec.RedisStream[name] = e
	}
	return es
}

// run runs src until the test ends; stop cancels it and waits for Run.
func run(t testing.TB, src sources.Source, emit sources.Emitter) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, emit) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v after cancel, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return 10s after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitEvents waits until rec holds n events and returns them.
func waitEvents(t testing.TB, rec *sourcetest.Recorder, n int) []sources.Event {
	t.Helper()
	var got []sources.Event
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		got = append(got, rec.Take()...)
		time.Sleep(10 * time.Millisecond)
	}
	if len(got) != n {
		t.Fatalf("got %d events, want %d", len(got), n)
	}
	return got
}

func pending(t testing.TB, c *redis.Client, stream, group string) int64 {
	t.Helper()
	p, err := c.XPending(context.Background(), stream, group).Result()
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	return p.Count
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		file, path string
		secrets    secret.Resolver
	}{
		{"invalid-filter.yaml", "spec.redisStream[example].filter.expression", nil},
		{"invalid-duplicate-stream.yaml", "spec.redisStream[example].streams[1]", nil},
		{"invalid-negative-count.yaml", "spec.redisStream[example].maxMsgCountPerRead", nil},
		{"invalid-no-streams.yaml", "spec.redisStream[example].streams", nil},
		{"invalid-tls-secret-no-resolver.yaml", "spec.redisStream[example].tls", nil},
		{"password.yaml", "spec.redisStream[example].password", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := New(load(t, tt.file, "127.0.0.1:1"), sources.Deps{Secrets: tt.secrets})
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *apis.FieldError", err, err)
			}
			if !strings.Contains(fe.Error(), tt.path) {
				t.Fatalf("error %q does not name %s", fe.Error(), tt.path)
			}
		})
	}
}

// TestEmitsArgoData: an entry written before the source first ran is read
// (the group is made at the start of the stream), its event carries Argo's
// data and the id <stream>/<entry id>, and it is acknowledged once stored.
func TestEmitsArgoData(t *testing.T) {
	srv := redistest.Start(t, "")
	c := srv.Client()
	defer c.Close()
	ctx := context.Background()
	id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []string{"kind", "book", "qty", "2"}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	src, err := New(load(t, "valid.yaml", srv.Addr), sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &sourcetest.Recorder{}
	run(t, src, rec.Emit)
	ev := waitEvents(t, rec, 1)[0]
	if ev.Name != "example" || ev.ID != "orders/"+id {
		t.Errorf("event name %q id %q, want example, orders/%s", ev.Name, ev.ID, id)
	}
	want := fmt.Sprintf(`{"stream":"orders","message_id":%q,"values":{"kind":"book","qty":"2"},"metadata":{"team":"shop"}}`, id)
	if string(ev.Data) != want {
		t.Errorf("data\n got %s\nwant %s", ev.Data, want)
	}
	if ev.Time.IsZero() || time.Since(ev.Time) > time.Minute {
		t.Errorf("event time %v, want the entry's", ev.Time)
	}
	deadline := time.Now().Add(5 * time.Second)
	for pending(t, c, "orders", "flint-test") != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := pending(t, c, "orders", "flint-test"); n != 0 {
		t.Errorf("%d entries pending after the event was stored, want 0", n)
	}
}

// TestRefusedStaysPending: an entry whose event the broker refuses is not
// acknowledged; the next source reads it again under the same id.
func TestRefusedStaysPending(t *testing.T) {
	srv := redistest.Start(t, "")
	c := srv.Client()
	defer c.Close()
	ctx := context.Background()
	id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []string{"kind", "book"}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	es := load(t, "valid.yaml", srv.Addr)
	var refused sync.WaitGroup
	refused.Add(1)
	var once sync.Once
	refusing := &sourcetest.Recorder{Refuse: func(sources.Event) error {
		once.Do(refused.Done)
		return errors.New("broker down")
	}}
	src, err := New(es, sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, src, refusing.Emit)
	refused.Wait()
	time.Sleep(300 * time.Millisecond)
	stop()
	if n := pending(t, c, "orders", "flint-test"); n != 1 {
		t.Fatalf("%d entries pending after a refused event, want 1", n)
	}
	src2, err := New(es, sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &sourcetest.Recorder{}
	run(t, src2, rec.Emit)
	if ev := waitEvents(t, rec, 1)[0]; ev.ID != "orders/"+id {
		t.Errorf("redelivered id %q, want orders/%s", ev.ID, id)
	}
}

// TestFilter: an entry the filter drops is acknowledged without an event.
func TestFilter(t *testing.T) {
	srv := redistest.Start(t, "")
	c := srv.Client()
	defer c.Close()
	ctx := context.Background()
	for _, kind := range []string{"drop", "keep"} {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []string{"kind", kind}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	src, err := New(load(t, "filter.yaml", srv.Addr), sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &sourcetest.Recorder{}
	run(t, src, rec.Emit)
	ev := waitEvents(t, rec, 1)[0]
	if !strings.Contains(string(ev.Data), `"kind":"keep"`) {
		t.Errorf("emitted %s, want the entry of kind keep", ev.Data)
	}
	time.Sleep(200 * time.Millisecond)
	if evs := rec.Take(); len(evs) != 0 {
		t.Errorf("emitted %d more events, want none", len(evs))
	}
	if n := pending(t, c, "orders", DefaultConsumerGroup); n != 0 {
		t.Errorf("%d entries pending, want 0: a filtered entry is acknowledged", n)
	}
}

// TestPassword: the password secret authenticates; a wrong one is refused
// when dialing, naming the server.
func TestPassword(t *testing.T) {
	srv := redistest.Start(t, "s3cret")
	tests := []struct {
		name, password, wantErr string
	}{
		{"right password", "s3cret", ""},
		{"wrong password", "nope", "WRONGPASS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := load(t, "password.yaml", srv.Addr)
			cfg, fe := newConfig(es.Spec.RedisStream["example"], secrets{"redis/password": tt.password})
			if fe != nil {
				t.Fatal(fe)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := cfg.dial(ctx)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				_ = c.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), srv.Addr) {
				t.Fatalf("dial error %v, want one naming %s and %s", err, srv.Addr, tt.wantErr)
			}
		})
	}
}

// TestDrain: a drain emits what the stream holds, entries written before
// the group existed included, and reports the stream empty.
func TestDrain(t *testing.T) {
	srv := redistest.Start(t, "")
	c := srv.Client()
	defer c.Close()
	ctx := context.Background()
	for i := range 25 {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []string{"n", fmt.Sprint(i)}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	src, err := New(load(t, "valid.yaml", srv.Addr), sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &sourcetest.Recorder{}
	d, err := src.Drain(ctx, rec.Emit, time.Now().Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if d.Count != 25 || !d.Empty {
		t.Errorf("drained %+v, want 25 and empty", d)
	}
	if n := len(rec.Take()); n != 25 {
		t.Errorf("stored %d events, want 25", n)
	}
}

// backend is the conformance kit's view of a stream on a redis-server the
// test runs, with appendonly so that a restart keeps the stream.
type backend struct {
	srv *redistest.Server
}

func (b *backend) Source(t *testing.T) sources.Source {
	src, err := New(load(t, "valid.yaml", b.srv.Addr), sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func (b *backend) Publish(ctx context.Context, bodies []string) error {
	c := b.srv.Client()
	defer c.Close()
	for _, body := range bodies {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []string{"body", body}}).Err(); err != nil {
			return err
		}
	}
	return nil
}

func (b *backend) Body(ev sources.Event) (string, error) {
	s := string(ev.Data)
	const key = `"values":{"body":"`
	i := strings.Index(s, key)
	if i < 0 {
		return "", fmt.Errorf("no values.body in %s", s)
	}
	s = s[i+len(key):]
	return s[:strings.IndexByte(s, '"')], nil
}

func (b *backend) StopBroker(t *testing.T)  { b.srv.Stop(t) }
func (b *backend) StartBroker(t *testing.T) { b.srv.Restart(t) }

func TestConformance(t *testing.T) {
	sourcetest.RunPull(t, &backend{srv: redistest.Start(t, "")})
}

// TestTLS: with the server's CA from tls.caCertSecret the source reads over
// TLS; a CA that did not sign the server's certificate is refused when
// dialing.
func TestTLS(t *testing.T) {
	certPEM, keyPEM := redistest.SelfSigned(t)
	otherCA, _ := redistest.SelfSigned(t)
	srv := redistest.StartTLS(t, certPEM, keyPEM)
	c := srv.Client()
	defer c.Close()
	if err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: "orders", Values: []string{"kind", "tls"}}).Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ca      []byte
		wantErr string
	}{
		{"server's CA", certPEM, ""},
		{"another CA", otherCA, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := secrets{"redis-tls/ca.crt": string(tt.ca)}
			if tt.wantErr != "" {
				cfg, fe := newConfig(load(t, "tls.yaml", srv.Addr).Spec.RedisStream["example"], res)
				if fe != nil {
					t.Fatal(fe)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if _, err := cfg.dial(ctx); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("dial error %v, want one about the %s", err, tt.wantErr)
				}
				return
			}
			src, err := New(load(t, "tls.yaml", srv.Addr), sources.Deps{Secrets: res})
			if err != nil {
				t.Fatal(err)
			}
			rec := &sourcetest.Recorder{}
			run(t, src, rec.Emit)
			if ev := waitEvents(t, rec, 1)[0]; !strings.Contains(string(ev.Data), `"kind":"tls"`) {
				t.Errorf("emitted %s, want the entry written over TLS", ev.Data)
			}
		})
	}
}

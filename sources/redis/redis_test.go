package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	for name, e := range es.Spec.Redis {
		e.HostAddress = addr
		es.Spec.Redis[name] = e
	}
	return es
}

// start builds the source of file on srv, runs it until the test ends and
// waits until it is subscribed to every channel.
func start(t testing.TB, srv *redistest.Server, file string, deps sources.Deps, emit sources.Emitter) {
	t.Helper()
	es := load(t, file, srv.Addr)
	src, err := New(es, deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, emit) }()
	t.Cleanup(func() {
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
	waitSubscribed(t, srv, es.Spec.Redis["example"].Channels...)
}

// waitSubscribed waits until each channel has a subscriber.
func waitSubscribed(t testing.TB, srv *redistest.Server, channels ...string) {
	t.Helper()
	c := srv.Client()
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := c.PubSubNumSub(context.Background(), channels...).Result()
		ok := err == nil
		for _, ch := range channels {
			ok = ok && n[ch] > 0
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("channels %v have no subscriber: %v %v", channels, n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitEvents waits until rec holds n events and returns them.
func waitEvents(t testing.TB, rec *sourcetest.Recorder, n int) []sources.Event {
	t.Helper()
	var got []sources.Event
	deadline := time.Now().Add(15 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		got = append(got, rec.Take()...)
		time.Sleep(10 * time.Millisecond)
	}
	if len(got) != n {
		t.Fatalf("got %d events, want %d", len(got), n)
	}
	return got
}

func publish(t testing.TB, c *redis.Client, channel string, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		if err := c.Publish(context.Background(), channel, p).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct{ file, path string }{
		{"invalid-filter.yaml", "spec.redis[example].filter.expression"},
		{"invalid-duplicate-channel.yaml", "spec.redis[example].channels[1]"},
		{"invalid-no-channels.yaml", "spec.redis[example].channels"},
		{"password.yaml", "spec.redis[example].password"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := New(load(t, tt.file, "127.0.0.1:1"), sources.Deps{})
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

// TestEventData: Argo's data: the channel, an empty pattern, the payload as
// a string, or as JSON with jsonBody; a payload that jsonBody cannot take is
// dropped and the next still arrives.
func TestEventData(t *testing.T) {
	srv := redistest.Start(t, "")
	c := srv.Client()
	defer c.Close()
	tests := []struct {
		file, channel string
		payloads      []string
		want          []string
	}{
		{"valid.yaml", "sport", []string{`goal "9"`}, []string{`{"channel":"sport","pattern":"","body":"goal \"9\"","metadata":{"team":"desk"}}`}},
		{"json-body.yaml", "news", []string{`not json`, `{"a":[1,2]}`}, []string{`{"channel":"news","pattern":"","body":{"a":[1,2]}}`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rec := &sourcetest.Recorder{}
			start(t, srv, tt.file, sources.Deps{}, rec.Emit)
			publish(t, c, tt.channel, tt.payloads...)
			evs := waitEvents(t, rec, len(tt.want))
			for i, ev := range evs {
				if ev.Name != "example" || ev.ID == "" {
					t.Errorf("event name %q id %q, want example and an id", ev.Name, ev.ID)
				}
				if string(ev.Data) != tt.want[i] {
					t.Errorf("data\n got %s\nwant %s", ev.Data, tt.want[i])
				}
			}
		})
	}
}

// TestFilter: a message the filter drops emits nothing.
func TestFilter(t *testing.T) {
	srv := redistest.Start(t, "")
	c := srv.Client()
	defer c.Close()
	rec := &sourcetest.Recorder{}
	start(t, srv, "filter.yaml", sources.Deps{}, rec.Emit)
	publish(t, c, "news", `{"kind":"drop"}`, `{"kind":"keep"}`)
	ev := waitEvents(t, rec, 1)[0]
	if !strings.Contains(string(ev.Data), `"keep"`) {
		t.Errorf("emitted %s, want the message of kind keep", ev.Data)
	}
}

// TestEveryMessageWhileRunning: every message published while the source
// runs is stored once, though the broker refuses one emit in five.
func TestEveryMessageWhileRunning(t *testing.T) {
	srv := redistest.Start(t, "")
	c := srv.Client()
	defer c.Close()
	var mu sync.Mutex
	rec := &sourcetest.Recorder{Refuse: func(sources.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if rand.IntN(5) == 0 {
			return errors.New("refused")
		}
		return nil
	}}
	start(t, srv, "valid.yaml", sources.Deps{}, rec.Emit)
	const n = 500
	want := map[string]bool{}
	for i := range n {
		body := fmt.Sprintf("m-%04d", i)
		want[`"body":"`+body+`"`] = true
		publish(t, c, "news", body)
	}
	seen := map[string]int{}
	for _, ev := range waitEvents(t, rec, n) {
		s := string(ev.Data)
		i := strings.Index(s, `"body":"`)
		seen[s[i:i+len(`"body":"m-0000"`)]]++
	}
	for b := range want {
		if seen[b] != 1 {
			t.Errorf("%s stored %d times, want 1", b, seen[b])
		}
	}
}

// TestServerRestart: after the server restarts, the source subscribes again
// and what is published then arrives.
func TestServerRestart(t *testing.T) {
	srv := redistest.Start(t, "")
	rec := &sourcetest.Recorder{}
	start(t, srv, "valid.yaml", sources.Deps{}, rec.Emit)
	srv.Stop(t)
	srv.Restart(t)
	waitSubscribed(t, srv, "news", "sport")
	c := srv.Client()
	defer c.Close()
	publish(t, c, "news", "after")
	if ev := waitEvents(t, rec, 1)[0]; !strings.Contains(string(ev.Data), `"body":"after"`) {
		t.Errorf("emitted %s, want the message published after the restart", ev.Data)
	}
}

// TestPassword: the password secret authenticates; a wrong one is refused
// when dialing, naming the server.
func TestPassword(t *testing.T) {
	srv := redistest.Start(t, "s3cret")
	tests := []struct{ name, password, wantErr string }{
		{"right password", "s3cret", ""},
		{"wrong password", "nope", "WRONGPASS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := load(t, "password.yaml", srv.Addr)
			cfg, fe := newConfig(es.Spec.Redis["example"], secrets{"redis/password": tt.password})
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
	rec := &sourcetest.Recorder{}
	start(t, srv, "password.yaml", sources.Deps{Secrets: secrets{"redis/password": "s3cret"}}, rec.Emit)
	c := srv.Client()
	defer c.Close()
	publish(t, c, "news", "hi")
	waitEvents(t, rec, 1)
}

// TestTLS: with the server's CA from tls.caCertSecret the source subscribes
// over TLS and emits what is published.
func TestTLS(t *testing.T) {
	certPEM, keyPEM := redistest.SelfSigned(t)
	srv := redistest.StartTLS(t, certPEM, keyPEM)
	rec := &sourcetest.Recorder{}
	start(t, srv, "tls.yaml", sources.Deps{Secrets: secrets{"redis-tls/ca.crt": string(certPEM)}}, rec.Emit)
	c := srv.Client()
	defer c.Close()
	publish(t, c, "news", "over tls")
	if ev := waitEvents(t, rec, 1)[0]; !strings.Contains(string(ev.Data), `"body":"over tls"`) {
		t.Errorf("emitted %s, want the message published over TLS", ev.Data)
	}
}

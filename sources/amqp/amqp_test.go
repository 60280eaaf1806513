package amqp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"go.uber.org/zap/zaptest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/manifest"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/amqp"
	"github.com/flintevents/flint/sources/pull"
)

// load reads the EventSource of a testdata file pointed at url.
func load(t testing.TB, path, url string) *v1alpha1.EventSource {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("${URL}"), []byte(url))
	set, err := manifest.LoadReader(bytes.NewReader(raw), path)
	if err != nil {
		t.Fatal(err)
	}
	ess := set.EventSources()
	if len(ess) != 1 {
		t.Fatalf("%d EventSources", len(ess))
	}
	return ess[0]
}

// secrets is a resolver reading the given values (name/key → value).
func secrets(values map[string]string) secret.Resolver {
	env := map[string]string{}
	for k, v := range values {
		name, key, _ := strings.Cut(k, "/")
		env[secret.EnvName(name, key)] = v
	}
	return secret.Local{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

// recorder is an emitter that stores events, or refuses them while refuse
// says so, counting every attempt.
type recorder struct {
	mu       sync.Mutex
	refuse   bool
	attempts int
	ids      map[string]bool // the ids of every attempt
	events   []sources.Event
}

func (r *recorder) emit(_ context.Context, ev sources.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	r.ids[ev.ID] = true
	if r.refuse {
		return errors.New("refused by the test's broker")
	}
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) snapshot() (attempts int, events []sources.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts, append([]sources.Event(nil), r.events...)
}

// waitFor polls cond until it holds or 20s passed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run runs src with emit until the returned stop is called; stop returns
// Run's error.
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
			case <-time.After(15 * time.Second):
				err = errors.New("Run did not return 15s after its context ended")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// waitConsumed waits until queue exists in v and has a consumer.
func waitConsumed(t testing.TB, v *vhost, queue string) {
	t.Helper()
	c := v.dial(t)
	waitFor(t, "a consumer on "+queue, func() bool {
		ch, err := c.Channel()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = ch.Close() }()
		q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
		return err == nil && q.Consumers > 0
	})
}

// publishing is a message of testdata/data.yaml.
type publishing struct {
	ContentType     string `json:"contentType"`
	ContentEncoding string `json:"contentEncoding"`
	DeliveryMode    uint8  `json:"deliveryMode"`
	Priority        uint8  `json:"priority"`
	CorrelationID   string `json:"correlationId"`
	ReplyTo         string `json:"replyTo"`
	Expiration      string `json:"expiration"`
	MessageID       string `json:"messageId"`
	Timestamp       string `json:"timestamp"`
	Type            string `json:"type"`
	AppID           string `json:"appId"`
	Body            string `json:"body"`
}

func (p publishing) amqp(t testing.TB) amqp091.Publishing {
	out := amqp091.Publishing{
		ContentType: p.ContentType, ContentEncoding: p.ContentEncoding, DeliveryMode: p.DeliveryMode,
		Priority: p.Priority, CorrelationId: p.CorrelationID, ReplyTo: p.ReplyTo, Expiration: p.Expiration,
		MessageId: p.MessageID, Type: p.Type, AppId: p.AppID, Body: []byte(p.Body),
	}
	if p.Timestamp != "" {
		ts, err := time.Parse(time.RFC3339, p.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		out.Timestamp = ts
	}
	return out
}

// TestSource runs testdata/eventsource.yaml on a vhost of the machine's
// RabbitMQ: each message of testdata/data.yaml becomes one event with
// Argo's event data and its natural id; a message the filter drops or that
// cannot be an event is settled without an event; a message is acknowledged
// only once its event is stored, and a refused one comes back under the same
// id.
func TestSource(t *testing.T) {
	t.Parallel()
	v := newVhost(t)
	es := load(t, "testdata/eventsource.yaml", v.url())
	src, err := amqp.New(es, sources.Deps{Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	stop := run(t, src, rec.emit)
	for _, q := range []string{"plain-q", "json-q", "filtered-q"} {
		waitConsumed(t, v, q)
	}

	t.Run("event data", func(t *testing.T) {
		raw, err := os.ReadFile("testdata/data.yaml")
		if err != nil {
			t.Fatal(err)
		}
		var cases []struct {
			Name          string     `json:"name"`
			RoutingKey    string     `json:"routingKey"`
			Message       publishing `json:"message"`
			WantName      string     `json:"wantName"`
			WantID        string     `json:"wantID"`
			WantIDPattern string     `json:"wantIDPattern"`
			WantData      string     `json:"wantData"`
		}
		if err := yaml.UnmarshalStrict(raw, &cases); err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			t.Run(tc.Name, func(t *testing.T) {
				_, before := rec.snapshot()
				if err := v.publish(t.Context(), "events", tc.RoutingKey, tc.Message.amqp(t)); err != nil {
					t.Fatal(err)
				}
				var got sources.Event
				waitFor(t, "the event", func() bool {
					_, evs := rec.snapshot()
					if len(evs) > len(before) {
						got = evs[len(before)]
						return true
					}
					return false
				})
				var want bytes.Buffer
				if err := json.Compact(&want, []byte(strings.ReplaceAll(tc.WantData, "\n", ""))); err != nil {
					t.Fatalf("wantData: %v", err)
				}
				if string(got.Data) != want.String() {
					t.Errorf("data\n got %s\nwant %s", got.Data, want.String())
				}
				if got.Name != tc.WantName {
					t.Errorf("name %q, want %q", got.Name, tc.WantName)
				}
				if tc.WantID != "" && got.ID != tc.WantID {
					t.Errorf("id %q, want %q", got.ID, tc.WantID)
				}
				if tc.WantIDPattern != "" && !regexp.MustCompile(tc.WantIDPattern).MatchString(got.ID) {
					t.Errorf("id %q, want it to match %s", got.ID, tc.WantIDPattern)
				}
			})
		}
	})

	t.Run("settled without an event", func(t *testing.T) {
		tests := []struct {
			name, key, queue string
			msg              amqp091.Publishing
		}{
			{"the filter drops it: acknowledged", "filtered", "filtered-q", amqp091.Publishing{AppId: "drop", Body: []byte("x")}},
			{"not JSON under jsonBody: rejected", "json", "json-q", amqp091.Publishing{Body: []byte("{not json")}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, before := rec.snapshot()
				if err := v.publish(t.Context(), "events", tc.key, tc.msg); err != nil {
					t.Fatal(err)
				}
				// A marker published after it arrives once it is settled
				// (one consumer, in order).
				if err := v.publish(t.Context(), "events", "plain", amqp091.Publishing{MessageId: "marker-" + tc.key, Body: []byte("m")}); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the marker", func() bool {
					_, evs := rec.snapshot()
					return len(evs) > len(before) && evs[len(evs)-1].ID == "example/id/marker-"+tc.key
				})
				if _, evs := rec.snapshot(); len(evs) != len(before)+1 {
					t.Fatalf("%d events, want only the marker's: %v", len(evs)-len(before), evs[len(before):])
				}
				waitFor(t, tc.queue+" empty", func() bool { return v.messages(t, tc.queue) == 0 })
			})
		}
	})

	t.Run("acknowledged only once stored", func(t *testing.T) {
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if n := v.messages(t, "plain-q"); n != 0 {
			t.Fatalf("%d messages left in plain-q after the earlier cases", n)
		}
		refusing := &recorder{refuse: true}
		src, err := amqp.New(es, sources.Deps{Logger: zaptest.NewLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		stop := run(t, src, refusing.emit)
		waitConsumed(t, v, "plain-q")
		if err := v.publish(t.Context(), "events", "plain", amqp091.Publishing{Body: []byte("refused first")}); err != nil {
			t.Fatal(err)
		}
		// Handed back after each pull.DefaultAttempts refusals, and delivered again.
		waitFor(t, "two rounds of refusals", func() bool { n, _ := refusing.snapshot(); return n > 2*pull.DefaultAttempts })
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if n := v.messages(t, "plain-q"); n != 1 {
			t.Fatalf("%d messages in plain-q after every emit was refused, want the 1 never stored", n)
		}
		storing := &recorder{}
		src, err = amqp.New(es, sources.Deps{Logger: zaptest.NewLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		stop = run(t, src, storing.emit)
		waitFor(t, "the event", func() bool { _, evs := storing.snapshot(); return len(evs) == 1 })
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		_, evs := storing.snapshot()
		id := digestID(t, evs[0])
		if n := v.messages(t, "plain-q"); n != 0 {
			t.Fatalf("%d messages in plain-q after the event was stored, want 0", n)
		}
		// Every delivery of the message, on either connection, had one id.
		refusing.mu.Lock()
		defer refusing.mu.Unlock()
		if len(refusing.ids) != 1 || !refusing.ids[id] {
			t.Fatalf("the refused deliveries had ids %v, the stored one %q: want one id", refusing.ids, id)
		}
	})
}

// digestID is ev's id, which must be a digest id.
func digestID(t *testing.T, ev sources.Event) string {
	t.Helper()
	if !strings.HasPrefix(ev.ID, "example/hash/") {
		t.Fatalf("id %q, want a digest id", ev.ID)
	}
	return ev.ID
}

// TestInvalid: each entry of testdata/invalid.yaml is refused by New with an
// error naming its field, without connecting.
func TestInvalid(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/invalid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name    string                   `json:"name"`
		Entry   v1alpha1.AMQPEventSource `json:"entry"`
		WantErr string                   `json:"wantErr"`
	}
	if err := yaml.UnmarshalStrict(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			es := &v1alpha1.EventSource{ObjectMeta: metav1.ObjectMeta{Name: "bad"}}
			es.Spec.AMQP = map[string]v1alpha1.AMQPEventSource{"bad": tc.Entry}
			_, err := amqp.New(es, sources.Deps{Secrets: secrets(map[string]string{"mq/user": "guest"})})
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("New = %v, want a *apis.FieldError", err)
			}
			if !strings.Contains(err.Error(), tc.WantErr) {
				t.Fatalf("New = %q, want it to contain %q", err, tc.WantErr)
			}
		})
	}
}

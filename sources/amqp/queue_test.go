package amqp_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/amqp"
	"github.com/flintevents/flint/sources/pull"
	"github.com/flintevents/flint/sources/sourcetest"
)

// The names testdata/queue.yaml declares.
const (
	workExchange = "work"
	workKey      = "jobs"
	workQueue    = "work-q"
)

// publishBodies publishes one message per body to the work exchange.
func publishBodies(ctx context.Context, v *vhost, bodies []string) error {
	msgs := make([]amqp091.Publishing, len(bodies))
	for i, b := range bodies {
		msgs[i] = amqp091.Publishing{DeliveryMode: amqp091.Persistent, Body: []byte(b)}
	}
	return v.publish(ctx, workExchange, workKey, msgs...)
}

// queueBackend is testdata/queue.yaml on a vhost, for the conformance kit.
// Stopping the broker stops only the test's vhost, since other tests share
// the server: guest's permissions on the vhost are cleared, so that every
// connection attempt is refused, and the vhost's connections are closed;
// starting it grants them again. What the queue holds survives, as it would
// a broker restart, and no other test's connection is touched (stop_app
// would close them all and take seconds to start again).
type queueBackend struct {
	v  *vhost
	es *v1alpha1.EventSource
}

func (b queueBackend) Source(t *testing.T) sources.Source {
	src, err := amqp.New(b.es, sources.Deps{Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func (b queueBackend) Publish(ctx context.Context, bodies []string) error {
	return publishBodies(ctx, b.v, bodies)
}

func (b queueBackend) Body(ev sources.Event) (string, error) {
	var d struct {
		Body []byte `json:"body"` // base64
	}
	err := json.Unmarshal(ev.Data, &d)
	return string(d.Body), err
}

func (b queueBackend) StopBroker(t *testing.T) {
	rabbitmqctl(t, "clear_permissions", "-p", b.v.name, rabbitUser)
	rabbitmqctl(t, "close_all_connections", "-p", b.v.name, "the conformance test stops the broker")
}

func (b queueBackend) StartBroker(t *testing.T) {
	rabbitmqctl(t, "set_permissions", "-p", b.v.name, rabbitUser, ".*", ".*", ".*")
}

// TestPullConformance runs the conformance kit: nothing lost across a source
// kill and a broker stop, duplicates only under one id (a digest id: the
// messages carry no message id).
func TestPullConformance(t *testing.T) {
	t.Parallel()
	v := newVhost(t)
	v.declare(t, workExchange, workQueue, workKey)
	sourcetest.RunPull(t, queueBackend{v: v, es: load(t, "testdata/queue.yaml", v.url())})
	if n := v.messages(t, workQueue); n != 0 {
		t.Errorf("%d messages left in the queue", n)
	}
}

// TestDrain: drain mode works off the queue and returns once its passive
// declare counts nothing.
func TestDrain(t *testing.T) {
	t.Parallel()
	v := newVhost(t)
	v.declare(t, workExchange, workQueue, workKey)
	bodies := make([]string, 50)
	for i := range bodies {
		bodies[i] = strings.Repeat("d", i+1)
	}
	if err := publishBodies(t.Context(), v, bodies); err != nil {
		t.Fatal(err)
	}
	src, err := amqp.New(load(t, "testdata/queue.yaml", v.url()), sources.Deps{Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	start := time.Now()
	got, err := src.(pull.Drainer).Drain(t.Context(), rec.emit, start.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 50 || !got.Empty {
		t.Errorf("Drain = %+v, want 50 drained and empty", got)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Drain took %v", took)
	}
	if n := v.messages(t, workQueue); n != 0 {
		t.Errorf("%d messages left in the queue", n)
	}
}

// TestConnection: the credentials of `auth` and `tls` are the ones used.
// The url carries no user, which the client would take as guest/guest:
// a wrong password refused shows the secret's is sent. RabbitMQ here has no
// TLS listener; `tls` against its plain port fails in the TLS handshake,
// which shows TLS is spoken (also with an amqp:// url).
func TestConnection(t *testing.T) {
	t.Parallel()
	v := newVhost(t)
	ref := func(key string) *corev1.SecretKeySelector {
		return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "mq"}, Key: key}
	}
	resolver := secrets(map[string]string{"mq/user": rabbitUser, "mq/password": rabbitPass, "mq/wrong": "not-the-password", "mq/url": v.urlAs("")})
	tests := []struct {
		name    string
		edit    func(e *v1alpha1.AMQPEventSource)
		wantErr string // "" means an event arrives
	}{
		{"auth from secrets", func(e *v1alpha1.AMQPEventSource) {
			e.URL = v.urlAs("")
			e.Auth = &v1alpha1.BasicAuth{Username: ref("user"), Password: ref("password")}
		}, ""},
		{"url from a secret, auth from secrets", func(e *v1alpha1.AMQPEventSource) {
			e.URL, e.URLSecret = "", ref("url")
			e.Auth = &v1alpha1.BasicAuth{Username: ref("user"), Password: ref("password")}
		}, ""},
		{"a wrong password is refused", func(e *v1alpha1.AMQPEventSource) {
			e.URL = v.urlAs("")
			e.Auth = &v1alpha1.BasicAuth{Username: ref("user"), Password: ref("wrong")}
		}, "username or password not allowed"},
		{"tls speaks TLS", func(e *v1alpha1.AMQPEventSource) {
			e.TLS = &v1alpha1.TLSConfig{InsecureSkipVerify: true}
		}, "tls: "},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := load(t, "testdata/queue.yaml", v.url())
			e := es.Spec.AMQP["example"]
			e.ConnectionBackoff = &v1alpha1.Backoff{Steps: 1}
			e.QueueDeclare.Name = "conn-" + string(rune('a'+i))
			tc.edit(&e)
			es.Spec.AMQP["example"] = e
			src, err := amqp.New(es, sources.Deps{Logger: zaptest.NewLogger(t), Secrets: resolver})
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			if tc.wantErr != "" {
				// One step: Run gives up after the first failure.
				ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
				defer cancel()
				err := src.Run(ctx, rec.emit)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Run = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			stop := run(t, src, rec.emit)
			waitConsumed(t, v, e.QueueDeclare.Name)
			if err := v.publish(t.Context(), workExchange, workKey, amqp091.Publishing{MessageId: tc.name, Body: []byte("hi")}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the event", func() bool {
				_, evs := rec.snapshot()
				return len(evs) == 1 && evs[0].ID == "example/id/"+tc.name
			})
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}

// BenchmarkConsume compares, in one run on one vhost, events per second
// from a queue of 1 KiB messages through the source into a recording
// emitter, acknowledgements on, with the same client's plain Consume and
// Ack loop at the same prefetch; it logs their ratio.
func BenchmarkConsume(b *testing.B) {
	v := newVhost(b)
	v.declare(b, workExchange, workQueue, workKey)
	es := load(b, "testdata/queue.yaml", v.url())
	body := strings.Repeat("x", 1024)
	fill := func(b *testing.B) {
		b.Helper()
		bodies := make([]string, b.N)
		for i := range bodies {
			bodies[i] = body
		}
		for len(bodies) > 0 {
			n := min(len(bodies), 5000)
			if err := publishBodies(context.Background(), v, bodies[:n]); err != nil {
				b.Fatal(err)
			}
			bodies = bodies[n:]
		}
	}
	var rates [2]float64
	b.Run("source", func(b *testing.B) {
		b.StopTimer()
		fill(b)
		var got atomic.Int64
		done := make(chan struct{})
		rec := &sourcetest.Recorder{Refuse: func(sources.Event) error {
			if got.Add(1) == int64(b.N) {
				close(done)
			}
			return nil
		}}
		src, err := amqp.New(es, sources.Deps{})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		b.StartTimer()
		stop := run(b, src, rec.Emit)
		<-done
		b.StopTimer()
		rates[0] = float64(b.N) / time.Since(start).Seconds()
		if err := stop(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rates[0], "events/s")
	})
	b.Run("plain", func(b *testing.B) {
		b.StopTimer()
		fill(b)
		c := v.dial(b)
		ch, err := c.Channel()
		if err != nil {
			b.Fatal(err)
		}
		if err := ch.Qos(amqp.InFlight, 0, false); err != nil {
			b.Fatal(err)
		}
		deliveries, err := ch.Consume(workQueue, "", false, false, false, false, nil)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		b.StartTimer()
		for n := 0; n < b.N; n++ {
			d := <-deliveries
			if err := d.Ack(false); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		rates[1] = float64(b.N) / time.Since(start).Seconds()
		_ = ch.Close()
		b.ReportMetric(rates[1], "events/s")
	})
	if rates[0] > 0 && rates[1] > 0 {
		b.Logf("source %.0f events/s, plain consume+ack %.0f events/s: plain/source = %.2f", rates[0], rates[1], rates[1]/rates[0])
	}
}

package emitter_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/emitter"
	"github.com/flintevents/flint/sources/emitter/emittertest"
	"github.com/flintevents/flint/sources/pull"
	"github.com/flintevents/flint/sources/sourcetest"
)

// keys are the channel keys of the stand-in broker.
var keys = map[string]emittertest.Grant{
	"readkey":  {Channel: "chat/", Read: true},
	"writekey": {Channel: "chat/", Write: true},
}

// startBroker starts the emitter stand-in, stopped when t ends.
func startBroker(t testing.TB, opts emittertest.Options, wrap func(net.Listener) net.Listener) *emittertest.Broker {
	t.Helper()
	if opts.Keys == nil {
		opts.Keys = keys
	}
	b, err := emittertest.Start(opts, wrap)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	return b
}

// load reads an EventSource of testdata and points its entry at b.
func load(t testing.TB, file string, b *emittertest.Broker) *v1alpha1.EventSource {
	t.Helper()
	es := sourcetest.Load(t, "testdata/"+file)
	for name, e := range es.Spec.Emitter {
		e.Broker = b.Addr()
		es.Spec.Emitter[name] = e
	}
	return es
}

// secrets resolves the given "name/key" values.
func secrets(values map[string]string) secret.Resolver {
	return secret.Local{Getenv: func(env string) (string, bool) {
		for ref, v := range values {
			name, key, _ := strings.Cut(ref, "/")
			if secret.EnvName(name, key) == env {
				return v, true
			}
		}
		return "", false
	}}
}

// running is a source running on a goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func run(t testing.TB, es *v1alpha1.EventSource, deps sources.Deps, emit sources.Emitter) *running {
	t.Helper()
	src, err := emitter.New(es, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, emit) }()
	t.Cleanup(func() { _ = r.stop(t) })
	return r
}

// stop cancels the source and returns Run's error; it fails t when Run
// does not return within 5s.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the source did not return within 5s of its context ending")
		return nil
	}
}

// waitSubscribed waits until n connections are subscribed to chat/.
func waitSubscribed(t testing.TB, b *emittertest.Broker, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.Subscribers("chat/") != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers of chat/, want %d", b.Subscribers("chat/"), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder stores every event and can refuse the first attempts of each.
type recorder struct {
	refuse int // attempts refused per body

	mu       sync.Mutex
	events   []sources.Event
	attempts map[string]int
	signal   chan struct{}
}

func newRecorder(refuse int) *recorder {
	return &recorder{refuse: refuse, attempts: map[string]int{}, signal: make(chan struct{}, 1)}
}

func (r *recorder) Emit(_ context.Context, ev sources.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts[string(ev.Data)]++
	if r.attempts[string(ev.Data)] <= r.refuse {
		return errors.New("refused by the test")
	}
	r.events = append(r.events, ev)
	select {
	case r.signal <- struct{}{}:
	default:
	}
	return nil
}

// wait waits for n stored events and returns them.
func (r *recorder) wait(t testing.TB, n int) []sources.Event {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		r.mu.Lock()
		got := append([]sources.Event(nil), r.events...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.signal:
		case <-time.After(10 * time.Millisecond):
		case <-timeout:
			t.Fatalf("%d of %d events stored in 15s", len(got), n)
		}
	}
}

// publish sends a message as a user would: an MQTT client publishing at
// QoS 1 with the write key.
func publish(t testing.TB, b *emittertest.Broker, channel string, payloads ...string) {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + b.Addr()).SetClientID("publisher").SetProtocolVersion(4))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connecting the publisher: %v", tok.Error())
	}
	defer c.Disconnect(0)
	for _, p := range payloads {
		if tok := c.Publish("writekey/"+channel, 1, false, p); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publishing: %v", tok.Error())
		}
	}
}

func TestEventData(t *testing.T) {
	for _, tc := range []struct {
		name, file, channel, payload string
		want                         string
	}{
		{
			name: "body base64", file: "valid.yaml", channel: "chat/", payload: `hello`,
			want: `{"topic":"chat/","body":"aGVsbG8="}`,
		},
		{
			name: "sub-channel", file: "valid.yaml", channel: "chat/room1/", payload: `{"a":1}`,
			want: `{"topic":"chat/room1/","body":"eyJhIjoxfQ=="}`,
		},
		{
			name: "jsonBody and metadata", file: "jsonbody.yaml", channel: "chat/", payload: `{"a":1}`,
			want: `{"topic":"chat/","body":{"a":1},"metadata":{"team":"blue"}}`,
		},
		{
			name: "jsonBody with a body that is not JSON", file: "jsonbody.yaml", channel: "chat/", payload: `not json`,
			want: `{"topic":"chat/","body":"not json","metadata":{"team":"blue"}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, emittertest.Options{}, nil)
			rec := newRecorder(0)
			run(t, load(t, tc.file, b), sources.Deps{}, rec.Emit)
			waitSubscribed(t, b, 1)
			publish(t, b, tc.channel, tc.payload)
			ev := rec.wait(t, 1)[0]
			if ev.Name != "example" {
				t.Errorf("event name %q, want example", ev.Name)
			}
			if string(ev.Data) != tc.want {
				t.Errorf("event data\n%s\nwant\n%s", ev.Data, tc.want)
			}
			if ev.ID != "" {
				t.Errorf("event id %q, want none (emitter gives no message id; the host mints one)", ev.ID)
			}
		})
	}
}

// TestRefusedEventIsEmittedAgain checks that an event the broker refused is
// emitted again until stored, so a refusal loses no message while the
// source runs, in the order received.
func TestRefusedEventIsEmittedAgain(t *testing.T) {
	b := startBroker(t, emittertest.Options{}, nil)
	rec := newRecorder(4) // more than pull's default attempts
	run(t, load(t, "valid.yaml", b), sources.Deps{}, rec.Emit)
	waitSubscribed(t, b, 1)
	want := []string{"one", "two", "three", "four", "five"}
	publish(t, b, "chat/", want...)
	evs := rec.wait(t, len(want))
	time.Sleep(200 * time.Millisecond)
	if n := len(rec.wait(t, 0)); n != len(want) {
		t.Fatalf("%d events stored, want %d", n, len(want))
	}
	got := map[string]bool{}
	for _, ev := range evs {
		got[string(ev.Data)] = true
	}
	for _, w := range want {
		data := `{"topic":"chat/","body":"` + b64(w) + `"}`
		if !got[data] {
			t.Errorf("no event %s", data)
		}
		if a := rec.attempts[data]; a != 5 {
			t.Errorf("%s emitted %d times, want 5 (4 refused)", w, a)
		}
	}
}

func b64(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out strings.Builder
	in := []byte(s)
	for len(in) > 0 {
		var chunk [3]byte
		n := copy(chunk[:], in)
		in = in[n:]
		v := uint(chunk[0])<<16 | uint(chunk[1])<<8 | uint(chunk[2])
		for i := 0; i < 4; i++ {
			if i > n {
				out.WriteByte('=')
				continue
			}
			out.WriteByte(enc[(v>>(18-6*i))&63])
		}
	}
	return out.String()
}

// TestReconnectsAfterBrokerRestart checks that a source whose broker went
// away subscribes again once it is back, and emits what is published then.
func TestReconnectsAfterBrokerRestart(t *testing.T) {
	b := startBroker(t, emittertest.Options{}, nil)
	rec := newRecorder(0)
	run(t, load(t, "valid.yaml", b), sources.Deps{}, rec.Emit)
	waitSubscribed(t, b, 1)
	publish(t, b, "chat/", "before")
	rec.wait(t, 1)
	b.Stop()
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, b, 1)
	publish(t, b, "chat/", "after")
	evs := rec.wait(t, 2)
	if want := `{"topic":"chat/","body":"` + b64("after") + `"}`; string(evs[1].Data) != want {
		t.Errorf("second event %s, want %s", evs[1].Data, want)
	}
}

func TestAuth(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		wantErr        string // empty: connects and emits
	}{
		{name: "right credentials", password: "s3cret"},
		{name: "wrong password", password: "wrong", wantErr: "not Authorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, emittertest.Options{Username: "flint", Password: "s3cret"}, nil)
			rec := newRecorder(0)
			deps := sources.Deps{Secrets: secrets(map[string]string{"emitter-auth/username": "flint", "emitter-auth/password": tc.password})}
			r := run(t, load(t, "auth.yaml", b), deps, rec.Emit)
			if tc.wantErr != "" {
				select {
				case err := <-r.done:
					r.done <- err
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("Run returned %v, want an error containing %q", err, tc.wantErr)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("Run did not give up after connectionBackoff's 2 steps")
				}
				return
			}
			waitSubscribed(t, b, 1)
			b.Publish("chat/", []byte("x"))
			rec.wait(t, 1)
			cn := b.Connects()[0]
			if cn.Username != "flint" || cn.Password != "s3cret" || !cn.CleanSession {
				t.Errorf("the broker saw %+v, want user flint with the secret's password and a clean session", cn)
			}
		})
	}
}

// TestKeyWithoutRead checks that a channel key the broker refuses for
// reading stops the source with emitter's reason once connectionBackoff's
// steps are spent.
func TestKeyWithoutRead(t *testing.T) {
	b := startBroker(t, emittertest.Options{}, nil)
	r := run(t, load(t, "writekey.yaml", b), sources.Deps{}, newRecorder(0).Emit)
	select {
	case err := <-r.done:
		r.done <- err
		for _, want := range []string{"chat/", "channelKey", "401", "not authorized"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Run returned %v, want an error containing %q", err, want)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not give up")
	}
}

func TestTLS(t *testing.T) {
	caPEM, cert := selfSigned(t)
	b := startBroker(t, emittertest.Options{}, func(l net.Listener) net.Listener {
		return tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	})
	rec := newRecorder(0)
	run(t, load(t, "tls.yaml", b), sources.Deps{Secrets: secrets(map[string]string{"emitter-tls/ca.crt": caPEM})}, rec.Emit)
	waitSubscribed(t, b, 1)
	b.Publish("chat/", []byte("over tls"))
	if ev := rec.wait(t, 1)[0]; !strings.Contains(string(ev.Data), b64("over tls")) {
		t.Errorf("event data %s, want the body over tls", ev.Data)
	}
}

// selfSigned is a CA certificate for 127.0.0.1, in PEM, and its key pair.
func selfSigned(t *testing.T) (string, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "emitter stand-in"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestFilter(t *testing.T) {
	b := startBroker(t, emittertest.Options{}, nil)
	reg := metrics.New()
	rec := newRecorder(0)
	run(t, load(t, "filter.yaml", b), sources.Deps{Metrics: reg.Source}, rec.Emit)
	waitSubscribed(t, b, 1)
	publish(t, b, "chat/", `{"kind":"drop"}`, `{"kind":"keep"}`)
	evs := rec.wait(t, 1)
	time.Sleep(200 * time.Millisecond)
	if n := len(rec.wait(t, 0)); n != 1 || string(evs[0].Data) != `{"topic":"chat/","body":{"kind":"keep"}}` {
		t.Errorf("%d events, first %s; want only the kept one", n, evs[0].Data)
	}
	if got := sourcetest.Filtered(t, reg); got != 1 {
		t.Errorf("filtered counter %v, want 1", got)
	}
}

func TestInvalid(t *testing.T) {
	for file, path := range map[string]string{
		"invalid-broker-scheme.yaml": "spec.emitter[example].broker",
		"invalid-broker-port.yaml":   "spec.emitter[example].broker",
		"invalid-channelkey.yaml":    "spec.emitter[example].channelKey",
		"invalid-channelname.yaml":   "spec.emitter[example].channelName",
		"invalid-filter.yaml":        "spec.emitter[example].filter.expression",
		"invalid-password.yaml":      "spec.emitter[example].password",
		"invalid-tls.yaml":           "spec.emitter[example].tls.caCertSecret",
	} {
		t.Run(file, func(t *testing.T) {
			es := sourcetest.Load(t, "testdata/"+file)
			_, err := emitter.New(es, sources.Deps{Secrets: secrets(map[string]string{"emitter-auth/username": "u"})})
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *apis.FieldError", err, err)
			}
			found := false
			for _, e := range fe.WrappedErrors() {
				for _, p := range e.Paths {
					found = found || p == path
				}
			}
			if !found {
				t.Errorf("error %q does not name %s", fe.Error(), path)
			}
		})
	}
}

// TestDrain checks drain mode: it emits what arrives and returns once the
// channel stayed quiet for Idle, reporting the origin empty.
func TestDrain(t *testing.T) {
	b := startBroker(t, emittertest.Options{}, nil)
	src, err := emitter.New(load(t, "valid.yaml", b), sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(0)
	type result struct {
		d   pull.Drained
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := src.(pull.Drainer).Drain(t.Context(), rec.Emit, time.Now().Add(time.Minute))
		done <- result{d, err}
	}()
	waitSubscribed(t, b, 1)
	publish(t, b, "chat/", "a", "b", "c")
	select {
	case r := <-done:
		if r.err != nil || r.d.Count != 3 || !r.d.Empty {
			t.Errorf("Drain = %+v, %v; want 3 events and empty", r.d, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Drain did not return")
	}
}

// TestStopsWithEmitsInFlight checks that a source whose broker refuses
// every event still returns soon after its context ends.
func TestStopsWithEmitsInFlight(t *testing.T) {
	b := startBroker(t, emittertest.Options{}, nil)
	rec := newRecorder(1 << 30)
	r := run(t, load(t, "valid.yaml", b), sources.Deps{}, rec.Emit)
	waitSubscribed(t, b, 1)
	publish(t, b, "chat/", "x", "y")
	time.Sleep(100 * time.Millisecond)
	if err := r.stop(t); err != nil {
		t.Errorf("Run returned %v after its context ended, want nil", err)
	}
}

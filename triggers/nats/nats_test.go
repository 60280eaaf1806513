package nats_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/triggertest"
)

// natsServer is an in-process nats-server on a loopback port of its own.
type natsServer struct {
	opts server.Options
	srv  *server.Server
}

func startServer(t *testing.T, opts server.Options) *natsServer {
	t.Helper()
	opts.Port = freeport.Port(t)
	opts.Host, opts.NoLog, opts.NoSigs = "127.0.0.1", true, true
	s := &natsServer{opts: opts}
	s.start(t)
	t.Cleanup(func() {
		if s.srv != nil {
			s.srv.Shutdown()
		}
	})
	return s
}

func (s *natsServer) start(t *testing.T) {
	t.Helper()
	opts := s.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready in 10s")
	}
	s.srv = srv
}

func (s *natsServer) stop() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}

func (s *natsServer) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.opts.Port) }

// subscribe returns a subscription on subject of a client of s.
func (s *natsServer) subscribe(t *testing.T, subject string, opts ...natsgo.Option) *natsgo.Subscription {
	t.Helper()
	nc, err := natsgo.Connect(s.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

func secrets(values map[string]string) secret.Resolver {
	env := map[string]string{}
	for k, v := range values {
		name, key, _ := strings.Cut(k, "/")
		env[secret.EnvName(name, key)] = v
	}
	return secret.Local{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

// build builds the registered nats type from a YAML spec.
func build(t *testing.T, spec string, deps triggers.Deps) (triggers.Instance, any) {
	t.Helper()
	typ, ok := triggers.Lookup(v1alpha1.TriggerTypeNATS)
	if !ok {
		t.Fatal("nats is not registered")
	}
	raw, err := yaml.YAMLToJSON([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := typ.Build(raw, deps)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { _ = inst.Close() })
	decoded, err := inst.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return inst, decoded
}

const payloadParam = `
payload:
  - src: {dependencyName: dep, dataKey: body}
    dest: msg`

func TestConformance(t *testing.T) {
	t.Parallel()
	srv := startServer(t, server.Options{})
	sub := srv.subscribe(t, "orders.created")
	// A listener that accepts and never answers: connecting blocks.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	triggertest.Run(t, triggertest.Case{
		Key:     v1alpha1.TriggerTypeNATS,
		Spec:    fmt.Sprintf("url: %s\nsubject: orders.created%s", srv.URL(), payloadParam),
		BadSpec: fmt.Sprintf("url: %s\nsubject: s\nauth:\n  token: {name: absent, key: token}%s", srv.URL(), payloadParam),
		BadPath: "auth.token",
		Firing:  triggers.Firing{Sensor: "s", Trigger: "publish", Payload: []byte(`{"msg":"hello"}`)},
		Check: func(t *testing.T, res triggers.Result, err error) {
			if err != nil || res.StatusCode != 0 {
				t.Fatalf("Fire = %+v, %v", res, err)
			}
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Data) != `{"msg":"hello"}` || m.Subject != "orders.created" {
				t.Errorf("got %q on %s", m.Data, m.Subject)
			}
		},
		Blocking: fmt.Sprintf("url: nats://%s\nsubject: s%s", ln.Addr(), payloadParam),
	})
}

// TestPublishesExactly: a firing publishes exactly its payload, once, on
// its subject, whatever auth the server demands; a refused auth fails it.
func TestPublishesExactly(t *testing.T) {
	t.Parallel()
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	pub, _ := user.PublicKey()
	vals := secrets(map[string]string{"nats/user": "flint", "nats/password": "s3cret", "nats/token": "t0ken", "nats/wrong": "nope", "nats/seed": string(seed)})
	cases := []struct {
		name    string
		opts    server.Options
		auth    string
		sub     []natsgo.Option
		payload []byte
		wantErr string
	}{
		{name: "no auth", payload: []byte(`{"a":1}`)},
		{name: "empty payload", payload: nil},
		{name: "binary payload", payload: []byte{0, 0xff, '\n'}},
		{name: "basic", opts: server.Options{Users: []*server.User{{Username: "flint", Password: "s3cret"}}},
			auth: "basic: {username: {name: nats, key: user}, password: {name: nats, key: password}}",
			sub:  []natsgo.Option{natsgo.UserInfo("flint", "s3cret")}, payload: []byte("b")},
		{name: "token", opts: server.Options{Authorization: "t0ken"}, auth: "token: {name: nats, key: token}",
			sub: []natsgo.Option{natsgo.Token("t0ken")}, payload: []byte("t")},
		{name: "nkey", opts: server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}}, auth: "nkey: {name: nats, key: seed}",
			sub: []natsgo.Option{natsgo.Nkey(pub, user.Sign)}, payload: []byte("n")},
		{name: "wrong token", opts: server.Options{Authorization: "t0ken"}, auth: "token: {name: nats, key: wrong}",
			sub: []natsgo.Option{natsgo.Token("t0ken")}, payload: []byte("w"), wantErr: "authorization"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tc.opts)
			sub := srv.subscribe(t, "out", tc.sub...)
			spec := fmt.Sprintf("url: %s\nsubject: out%s", srv.URL(), payloadParam)
			if tc.auth != "" {
				spec += "\nauth: {" + tc.auth + "}"
			}
			inst, decoded := build(t, spec, triggers.Deps{Secrets: vals})
			_, err := inst.Fire(context.Background(), decoded, triggers.Firing{Payload: tc.payload})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.wantErr) {
					t.Fatalf("Fire = %v, want an error about %s", err, tc.wantErr)
				}
				if m, err := sub.NextMsg(200 * time.Millisecond); err == nil {
					t.Fatalf("published %q though the firing failed", m.Data)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fire: %v", err)
			}
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Data) != string(tc.payload) {
				t.Errorf("payload %q, want %q", m.Data, tc.payload)
			}
			if m, err := sub.NextMsg(200 * time.Millisecond); err == nil {
				t.Errorf("a second message %q", m.Data)
			}
		})
	}
}

// TestFailsWithoutServer: a firing fails when the server is down, and once
// it is back a firing connects again and is delivered.
func TestFailsWithoutServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t, server.Options{})
	inst, decoded := build(t, fmt.Sprintf("url: %s\nsubject: out%s", srv.URL(), payloadParam), triggers.Deps{})
	if _, err := inst.Fire(context.Background(), decoded, triggers.Firing{Payload: []byte("1")}); err != nil {
		t.Fatalf("first firing: %v", err)
	}
	srv.stop()
	if _, err := inst.Fire(context.Background(), decoded, triggers.Firing{Payload: []byte("2")}); err == nil {
		t.Fatal("a firing with the server down returned nil")
	}
	srv.start(t)
	sub := srv.subscribe(t, "out")
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := inst.Fire(context.Background(), decoded, triggers.Firing{Payload: []byte("3")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no firing succeeded 15s after the server came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil || string(m.Data) != "3" {
		t.Fatalf("after the restart got %v, %v; want 3", m, err)
	}
}

// TestRefusesBadSpecs: secrets that cannot be read name their field.
func TestRefusesBadSpecs(t *testing.T) {
	t.Parallel()
	typ, _ := triggers.Lookup(v1alpha1.TriggerTypeNATS)
	cases := map[string]string{
		"url: nats://x\nsubject: s\nauth: {nkey: {name: nats, key: bad}}":              "auth.nkey",
		"url: nats://x\nsubject: s\ntls: {clientCertSecret: {name: nats, key: cert}}":  "tls.clientKeySecret",
		"url: nats://x\nsubject: s\nauth: {basic: {username: {name: absent, key: u}}}": "auth.basic.username",
	}
	deps := triggers.Deps{Secrets: secrets(map[string]string{"nats/bad": "SUNOTASEED", "nats/cert": "x"})}
	for spec, path := range cases {
		raw, _ := yaml.YAMLToJSON([]byte(spec))
		_, err := typ.Build(raw, deps)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Build = %v, want an error at %s", spec, err, path)
		}
	}
}

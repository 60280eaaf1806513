package ingress_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"go.uber.org/zap"

	"github.com/flintevents/flint/broker/ingress"
	"github.com/flintevents/flint/broker/internal/wire"
)

// storedEvents keeps what the ingress stores. The fuzz target decodes
// thousands of requests a second, so it stands in for JetStream, which the
// handler tests run for real.
type storedEvents struct {
	mu     sync.Mutex
	events []*cloudevents.Event
}

func (s *storedEvents) Publish(_ context.Context, _ string, ev *cloudevents.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := ev.Clone()
	s.events = append(s.events, &c)
	return nil
}

// FuzzIngress posts arbitrary binary and structured mode requests to the
// ingress. It never panics and never answers 5xx for what a client sent;
// an accepted event is valid, in binary mode keeps its id and its data byte
// for byte, and survives the round trip through its stored form.
func FuzzIngress(f *testing.F) {
	for _, seed := range []struct {
		contentType, specVersion, id, source, typ, ttl string
		body                                           []byte
	}{
		{"application/json", "1.0", "1", "/src", "t", "", []byte(`{"a":1}`)},
		{"text/plain", "1.0", "2", "src", "t", "3", []byte("hello")},
		{"", "1.0", "3", "src", "t", "", nil},
		{"", "1.0", " 0", "0", "0", "", []byte("A")},
		{"application/json", "0.3", "4", "src", "t", "", []byte(`[1,2]`)},
		{"application/json", "2.0", "5", "src", "t", "", []byte(`{}`)},
		{"application/json", "1.0", "", "src", "t", "", []byte(`{}`)},
		{"application/json", "1.0", "6", "src", "t", "x", []byte(`{}`)},
		{"application/json", "1.0", "7", "src", "t", "0", []byte(`{}`)},
		{"application/json", "1.0", "\xff", "src", "t", "", []byte(`{}`)},
		{"application/cloudevents+json", "", "", "", "", "", []byte(`{"specversion":"1.0","id":"8","source":"s","type":"t","data":{"a":1}}`)},
		{"application/cloudevents+json", "", "", "", "", "", []byte(`{"specversion":"1.0","id":"9","source":"s","type":"t","data_base64":"AAE="}`)},
		{"application/cloudevents+json", "", "", "", "", "", []byte(`{"specversion":"1.0","id":"10","source":"s","type":"t","knativebrokerttl":"abc"}`)},
		{"application/cloudevents+json", "", "", "", "", "", []byte(`{"specversion":"1.0"`)},
		{"application/cloudevents+json", "", "", "", "", "", []byte("{\"specversion\":\"1.0\",\"id\":\"\xff\"}")},
		{"application/cloudevents-batch+json", "", "", "", "", "", []byte(`[]`)},
	} {
		f.Add(seed.contentType, seed.specVersion, seed.id, seed.source, seed.typ, seed.ttl, seed.body)
	}
	reg := ingress.NewRegistry()
	reg.Set([]ingress.Target{{Namespace: "default", Name: "b1", Subject: "default.b1"}})
	f.Fuzz(func(t *testing.T, contentType, specVersion, id, source, typ, ttl string, body []byte) {
		store := &storedEvents{}
		h := ingress.New(reg, store, ingress.Config{MaxEventSize: 64 << 10}, zap.NewNop())
		req := httptest.NewRequest(http.MethodPost, "/default/b1", bytes.NewReader(body))
		for name, v := range map[string]string{"Content-Type": contentType, "Ce-Specversion": specVersion,
			"Ce-Id": id, "Ce-Source": source, "Ce-Type": typ, "Ce-Knativebrokerttl": ttl} {
			if v != "" {
				req.Header[name] = []string{v}
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("answered %d %q to a client's request", rec.Code, rec.Body.String())
		case rec.Code != http.StatusAccepted:
			if len(store.events) != 0 {
				t.Fatalf("answered %d but stored %d events", rec.Code, len(store.events))
			}
			if rec.Body.Len() == 0 {
				t.Fatalf("answered %d without a reason", rec.Code)
			}
			return
		}
		if len(store.events) != 1 {
			t.Fatalf("answered 202 but stored %d events", len(store.events))
		}
		ev := store.events[0]
		if err := ev.Validate(); err != nil {
			t.Fatalf("stored an invalid event: %v", err)
		}
		if specVersion != "" && contentType != "application/cloudevents+json" {
			// Header values lose their surrounding whitespace, as HTTP says.
			if ev.ID() != strings.Trim(id, " \t") || !bytes.Equal(ev.Data(), body) && len(body) > 0 {
				t.Fatalf("stored id %q data %q, posted id %q data %q", ev.ID(), ev.Data(), id, body)
			}
		}
		enc, err := wire.Append(nil, ev)
		if err != nil {
			t.Fatalf("encoding the stored event: %v", err)
		}
		back, err := wire.Decode(enc)
		if err != nil {
			t.Fatalf("decoding the stored event %q: %v", enc, err)
		}
		if back.Context.String() != ev.Context.String() || !bytes.Equal(back.Data(), ev.Data()) {
			t.Fatalf("the stored form changed the event:\n%s\nbecame\n%s", ev, back)
		}
	})
}

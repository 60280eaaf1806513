package broker_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"

	"github.com/flintevents/flint/broker/dispatcher"
	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

func TestDeliveryKeepsAttributes(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	sink := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"), newTrigger("t1", "b", sink.URL))

	ev := brokertest.NewEvent("attrs-1", "webhook")
	ev.SetSubject("webhook_example")
	ev.SetTime(time.Date(2026, 5, 6, 7, 8, 9, 123000000, time.UTC))
	ev.SetDataSchema("https://schema.example/webhook")
	ev.SetExtension("myext", "value")
	ev.SetExtension("count", int32(3))
	brokertest.MustPost(t, p.brokerURL("b"), ev, http.StatusAccepted)

	sink.WaitCount(t, waitFor, 1)
	got := sink.Requests()[0]
	checks := []struct{ field, got, want string }{
		{"id", got.Event.ID(), ev.ID()},
		{"source", got.Event.Source(), ev.Source()},
		{"type", got.Event.Type(), ev.Type()},
		{"subject", got.Event.Subject(), ev.Subject()},
		{"time", got.Event.Time().String(), ev.Time().String()},
		{"dataschema", got.Event.DataSchema(), ev.DataSchema()},
		{"datacontenttype", got.Event.DataContentType(), ev.DataContentType()},
		{"data", string(got.Event.Data()), string(ev.Data())},
		{"myext", fmt.Sprint(got.Event.Extensions()["myext"]), "value"},
		{"count", fmt.Sprint(got.Event.Extensions()["count"]), "3"},
		{"binary mode", got.Header.Get("Ce-Id"), ev.ID()},
		{"Prefer", got.Header.Get("Prefer"), "reply"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if v, ok := got.Event.Extensions()["knativebrokerttl"]; ok {
		t.Errorf("subscriber saw knativebrokerttl = %v; it must be stripped", v)
	}
}

func TestFiltering(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	orders := brokertest.NewSink(t, nil)
	all := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"),
		newTrigger("orders", "b", orders.URL, withType("order.created")),
		newTrigger("all", "b", all.URL))

	for i, typ := range []string{"order.created", "user.created", "order.created", "order.deleted"} {
		brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent(fmt.Sprint("f", i), typ), http.StatusAccepted)
	}
	all.WaitCount(t, waitFor, 4)
	p.waitIdle(t, "b", "orders")
	if got := orders.IDs(); len(got) != 2 || got["f0"] != 1 || got["f2"] != 1 {
		t.Fatalf("filtered trigger received %v, want exactly f0 and f2", got)
	}
}

// TestFailureOutcomes drives a subscriber that keeps failing in different ways and checks
// how often it is tried and what the dead-letter sink receives.
func TestFailureOutcomes(t *testing.T) {
	t.Parallel()
	closed := brokertest.NewSink(t, nil)
	closedURL := closed.URL
	closed.Close() // connection refused
	tests := []struct {
		name         string
		respond      brokertest.Responder
		url          string
		wantAttempts int
		wantCode     any // int32, or nil for no response
		wantData     string
	}{
		{name: "5xx retried then dead-lettered", respond: status(503, "db down"), wantAttempts: 3, wantCode: int32(503), wantData: "db down\n"},
		{name: "404 retried", respond: status(404, "no such path"), wantAttempts: 3, wantCode: int32(404), wantData: "no such path\n"},
		{name: "429 retried", respond: status(429, ""), wantAttempts: 3, wantCode: int32(429)},
		{name: "400 not retried", respond: status(400, "bad event"), wantAttempts: 1, wantCode: int32(400), wantData: "bad event\n"},
		{name: "403 not retried", respond: status(403, "forbidden"), wantAttempts: 1, wantCode: int32(403), wantData: "forbidden\n"},
		{name: "plain 200 body is a bad gateway", respond: func(w http.ResponseWriter, n int, r *brokertest.Request) {
			_, _ = w.Write([]byte("not an event"))
		}, wantAttempts: 3, wantCode: int32(502), wantData: "not an event"},
		{name: "connection refused", url: closedURL, wantAttempts: 0, wantCode: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startPlane(t, testConfig())
			sub := brokertest.NewSink(t, tc.respond)
			dls := brokertest.NewSink(t, nil)
			target := sub.URL
			if tc.url != "" {
				target = tc.url
			}
			p.apply(t, brokers("b"), newTrigger("t", "b", target, withDelivery(delivery(2, "PT0.02S", dls.URL))))
			ev := brokertest.NewEvent("fail-1", "t")
			ev.SetExtension("myext", "kept")
			brokertest.MustPost(t, p.brokerURL("b"), ev, http.StatusAccepted)

			dls.WaitCount(t, waitFor, 1)
			p.waitIdle(t, "b", "t")
			if got := sub.Count(); got != tc.wantAttempts {
				t.Errorf("subscriber attempts = %d, want %d", got, tc.wantAttempts)
			}
			if got := dls.Count(); got != 1 {
				t.Fatalf("dead-letter sink received %d events, want 1", got)
			}
			dead := dls.Requests()[0].Event
			exts := dead.Extensions()
			if dead.ID() != "fail-1" || dead.Type() != "t" || string(dead.Data()) != string(ev.Data()) || exts["myext"] != "kept" {
				t.Errorf("dead-lettered event %v is not the original", dead)
			}
			if got := fmt.Sprint(exts[dispatcher.ExtErrorDest]); got != target {
				t.Errorf("%s = %q, want %q", dispatcher.ExtErrorDest, got, target)
			}
			if got, ok := exts[dispatcher.ExtErrorCode]; tc.wantCode == nil {
				if ok {
					t.Errorf("%s = %v, want none", dispatcher.ExtErrorCode, got)
				}
			} else if fmt.Sprint(got) != fmt.Sprint(tc.wantCode) {
				t.Errorf("%s = %v, want %v", dispatcher.ExtErrorCode, got, tc.wantCode)
			}
			if tc.wantData != "" {
				raw, err := base64.StdEncoding.DecodeString(fmt.Sprint(exts[dispatcher.ExtErrorData]))
				if err != nil || string(raw) != tc.wantData {
					t.Errorf("%s decodes to %q (%v), want %q", dispatcher.ExtErrorData, raw, err, tc.wantData)
				}
			}
			if _, ok := exts["knativebrokerttl"]; ok {
				t.Error("dead-lettered event carries knativebrokerttl")
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	sub := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	dls := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"), newTrigger("t", "b", sub.URL, withDelivery(delivery(5, "PT0.05S", dls.URL))))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("retry-1", "t"), http.StatusAccepted)

	sub.WaitCount(t, waitFor, 3)
	p.waitIdle(t, "b", "t")
	if got := sub.IDs()["retry-1"]; got != 3 {
		t.Fatalf("attempts = %d, want 3 (two failures, one success)", got)
	}
	if dls.Count() != 0 {
		t.Fatalf("dead-letter sink received %d events, want 0", dls.Count())
	}
}

func TestBackoffIsApplied(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	var times [3]atomic.Int64
	sub := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		if n <= 3 {
			times[n-1].Store(time.Now().UnixNano())
		}
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	p.apply(t, brokers("b"), newTrigger("t", "b", sub.URL, withDelivery(delivery(3, "PT0.2S", ""))))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("backoff-1", "t"), http.StatusAccepted)
	sub.WaitCount(t, waitFor, 3)
	first := time.Duration(times[1].Load() - times[0].Load())
	second := time.Duration(times[2].Load() - times[1].Load())
	// linear: 0.2 s before the first retry, 0.4 s before the second.
	if first < 180*time.Millisecond || second < 380*time.Millisecond {
		t.Fatalf("retry gaps %s and %s, want at least 0.2 s and 0.4 s", first, second)
	}
}

func TestDeadLetterSinkRetried(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	sub := brokertest.NewSink(t, status(400, "nope"))
	dls := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	p.apply(t, brokers("b"), newTrigger("t", "b", sub.URL, withDelivery(delivery(1, "PT0.02S", dls.URL))))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("dls-retry", "t"), http.StatusAccepted)
	dls.WaitCount(t, waitFor, 2)
	p.waitIdle(t, "b", "t")
	if sub.Count() != 1 || dls.Count() != 2 {
		t.Fatalf("subscriber %d attempts (want 1), dead-letter sink %d (want 2)", sub.Count(), dls.Count())
	}
	second := dls.Requests()[1].Event.Extensions()
	if fmt.Sprint(second[dispatcher.ExtErrorCode]) != "400" {
		t.Fatalf("retried dead letter lost the original failure: %v", second)
	}
}

// TestNoDeadLetterSinkKeepsEvent gives up on an event without a dead-letter sink: it
// goes to the broker's dead-letter stream, with one warning saying where.
func TestNoDeadLetterSinkKeepsEvent(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.WarnLevel)
	p := startPlaneOn(t, natsdtest.Run(t), testConfig(), zap.New(core))
	sub := brokertest.NewSink(t, status(422, "unprocessable"))
	p.apply(t, brokers("b"), newTrigger("t", "b", sub.URL))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("kept-1", "t"), http.StatusAccepted)
	p.waitIdle(t, "b", "t")
	if sub.Count() != 1 {
		t.Fatalf("subscriber attempts = %d, want 1", sub.Count())
	}
	letters := p.deadLetters(t, 1)
	if l := letters[0]; l.Event == nil || l.Event.ID() != "kept-1" || l.Code != 422 || l.TriggerKey() != "default/t" ||
		!strings.HasSuffix(l.Error, "status 422: unprocessable") {
		t.Fatalf("dead letter %+v, want event kept-1 of trigger default/t with code 422 and the subscriber's reason", l)
	}
	brokertest.Eventually(t, waitFor, func() error {
		for _, e := range logs.All() {
			if e.ContextMap()["id"] == "kept-1" && e.ContextMap()["deadLetterStream"] != nil {
				return nil
			}
		}
		return fmt.Errorf("no warning naming event kept-1 and its dead-letter stream in %d log entries", logs.Len())
	})
	for _, e := range logs.All() {
		if strings.Contains(e.Message, "dropping") {
			t.Errorf("logged %q", e.Message)
		}
	}
}

func TestRepliesReenterBroker(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	replier := brokertest.NewSink(t, replyWith("order.reply"))
	replies := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"),
		newTrigger("orders", "b", replier.URL, withType("order")),
		newTrigger("replies", "b", replies.URL, withType("order.reply")))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("o1", "order"), http.StatusAccepted)

	replies.WaitCount(t, waitFor, 1)
	p.waitIdle(t, "b", "replies")
	p.waitIdle(t, "b", "orders")
	got := replies.Requests()
	if len(got) != 1 || got[0].Event.ID() != "o1-reply" || got[0].Event.Type() != "order.reply" {
		t.Fatalf("reply trigger received %d events (%v), want the one reply", len(got), got)
	}
	if string(got[0].Event.Data()) != `{"reply":"o1"}` {
		t.Fatalf("reply data = %s", got[0].Event.Data())
	}
	if _, ok := got[0].Event.Extensions()["knativebrokerttl"]; ok {
		t.Fatal("reply delivered with knativebrokerttl")
	}
	if replier.Count() != 1 {
		t.Fatalf("replier received %d events, want 1", replier.Count())
	}
}

func TestReplyLoopStopsAtTTL(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	// Every event gets a reply of the same type: an endless loop but for the TTL.
	looper := brokertest.NewSink(t, replyWith("loop"))
	p.apply(t, brokers("b"), newTrigger("loop", "b", looper.URL))
	ev := brokertest.NewEvent("l", "loop")
	ev.SetExtension("knativebrokerttl", int32(4)) // stored with 3 hops left
	brokertest.MustPost(t, p.brokerURL("b"), ev, http.StatusAccepted)

	looper.WaitCount(t, waitFor, 3)
	p.waitIdle(t, "b", "loop")
	if got := looper.Count(); got != 3 {
		t.Fatalf("loop ran %d times, want 3 (ttl 3, 2, 1)", got)
	}
}

func TestManyTriggers(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	sink := brokertest.NewSink(t, nil)
	const n = 100
	triggers := make([]*eventingv1.Trigger, 0, n)
	for i := range n {
		triggers = append(triggers, newTrigger(fmt.Sprint("t", i), "b", fmt.Sprintf("%s/t%d", sink.URL, i)))
	}
	p.apply(t, brokers("b"), triggers...)
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("fanout-1", "t"), http.StatusAccepted)
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("fanout-2", "t"), http.StatusAccepted)
	sink.WaitCount(t, waitFor, 2*n)
	for i := range n {
		p.waitIdle(t, "b", fmt.Sprint("t", i))
	}
	perPath := map[string]map[string]int{}
	for _, r := range sink.Requests() {
		if perPath[r.Path] == nil {
			perPath[r.Path] = map[string]int{}
		}
		perPath[r.Path][r.Event.ID()]++
	}
	for i := range n {
		got := perPath[fmt.Sprintf("/t%d", i)]
		if got["fanout-1"] != 1 || got["fanout-2"] != 1 || len(got) != 2 {
			t.Errorf("trigger t%d received %v, want each event once", i, got)
		}
	}
}

func TestConcurrentDelivery(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	slow := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		time.Sleep(200 * time.Millisecond)
	})
	p.apply(t, brokers("b"), newTrigger("slow", "b", slow.URL))
	const n = 20
	for i := range n {
		brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent(fmt.Sprint("c", i), "t"), http.StatusAccepted)
	}
	start := time.Now()
	slow.WaitCount(t, waitFor, n)
	if got := slow.MaxConcurrent(); got < 5 {
		t.Fatalf("slow subscriber saw at most %d concurrent requests, want several", got)
	}
	// Serial delivery would take n × 200 ms.
	if d := time.Since(start); d > n*200*time.Millisecond/2 {
		t.Fatalf("%d slow deliveries took %s", n, d)
	}
}

func status(code int, body string) brokertest.Responder {
	return func(w http.ResponseWriter, n int, r *brokertest.Request) {
		if body == "" {
			w.WriteHeader(code)
			return
		}
		http.Error(w, body, code)
	}
}

// replyWith answers every event with a reply event of type typ in binary mode.
func replyWith(typ string) brokertest.Responder {
	return func(w http.ResponseWriter, n int, r *brokertest.Request) {
		reply := cloudevents.NewEvent()
		reply.SetID(fmt.Sprintf("%s-reply", r.Event.ID()))
		if typ == "loop" {
			reply.SetID(fmt.Sprintf("%s-%d", r.Event.ID(), n))
		}
		reply.SetSource("/replier")
		reply.SetType(typ)
		_ = reply.SetData(cloudevents.ApplicationJSON, map[string]string{"reply": r.Event.ID()})
		w.Header().Set("Ce-Specversion", "1.0")
		w.Header().Set("Ce-Id", reply.ID())
		w.Header().Set("Ce-Source", reply.Source())
		w.Header().Set("Ce-Type", reply.Type())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(reply.Data())
	}
}

package sensor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// The tests in this file pin behaviours where flint follows Argo Events
// v1.9's code; docs/compat.md names them.

func TestParityExprs(t *testing.T) {
	t.Parallel()
	fields := []v1alpha1.PayloadField{{Path: "body.a", Name: "a"}}
	tests := []struct {
		name     string
		expr     string
		wantPass bool
		wantErr  string
	}{
		{name: "govaluate in", expr: `a in ("x", "b")`, wantPass: true},
		{name: "govaluate IN", expr: `a IN ("x", "b")`, wantPass: true},
		{name: "an unbound name fails the filter", expr: `a == z`,
			wantErr: `expr filter (a == z): No parameter 'z' found.`},
		{name: "an unbound name alone", expr: `z`, wantErr: `No parameter 'z' found.`},
		{name: "an unbound name left of a constant ||", expr: `z || true`, wantErr: `No parameter 'z' found.`},
		{name: "an unbound name under a true || is never evaluated", expr: `a == "b" || z == 1`, wantPass: true},
		{name: "an unbound name under a false && is never evaluated", expr: `a == "x" && z == 1`},
		{name: "an unbound member", expr: `z.x == 1`, wantErr: `No parameter 'z' found.`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, ferr := newExprFilters([]v1alpha1.ExprFilter{{Expr: tc.expr, Fields: fields}}, "")
			if ferr != nil {
				t.Fatalf("newExprFilters(%q) = %v", tc.expr, ferr)
			}
			v := f.eval(context.Background(), &input{ev: webhookEvent("e1", `{}`, `{"a":"b"}`)})
			switch {
			case tc.wantErr != "":
				if v.err == nil || !strings.Contains(v.err.Error(), tc.wantErr) {
					t.Errorf("eval(%q) = %+v, want error containing %q", tc.expr, v, tc.wantErr)
				}
			case v.err != nil || v.pass != tc.wantPass:
				t.Errorf("eval(%q) = pass %v, err %v; want pass %v", tc.expr, v.pass, v.err, tc.wantPass)
			}
		})
	}
}

// TestParityFiltersOrWithErrors: with filtersLogicalOperator or, a filter
// error discards the event even when another kind of filter passed, as
// Argo's sensor does (its Filter answers "not passed" for any error), and
// the error is logged as a warning naming the dependency; the event is
// handled (acknowledged), not failed.
func TestParityFiltersOrWithErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		eventType string
		body      string
		wantFired int
		wantError string // of the warning; empty: none
	}{
		{name: "another kind passes: the event is discarded all the same", eventType: "webhook", body: `{"kind":"order"}`,
			wantError: "data filter body.missing: path does not exist"},
		{name: "no kind passes: the event is discarded", eventType: "other", body: `{"kind":"order"}`,
			wantError: "data filter body.missing: path does not exist"},
		{name: "no error and a passing kind: the trigger fires", eventType: "webhook", body: `{"missing":"x"}`, wantFired: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg, url := serve(t, http.StatusOK)
			core, logs := observer.New(zapcore.DebugLevel)
			s := mustNewWith(t, loadSensor(t, "parity-filters-or", url), Options{Deps: triggers.Deps{Logger: zap.New(core)}})
			ev := webhookEvent("e1", `{}`, tc.body)
			ev.Context.Type = tc.eventType
			if err := s.Handle(context.Background(), ev); err != nil {
				t.Fatalf("Handle = %v", err)
			}
			if got := len(tg.got()); got != tc.wantFired {
				t.Errorf("trigger fired %d times, want %d", got, tc.wantFired)
			}
			warned := logs.FilterLevelExact(zapcore.WarnLevel).FilterField(zap.String("dependency", "dep")).All()
			switch {
			case tc.wantError == "" && len(warned) > 0:
				t.Errorf("warned %q, want no warning", warned[0].Message)
			case tc.wantError != "" && (len(warned) != 1 || !strings.Contains(fmt.Sprint(warned[0].ContextMap()["error"]), tc.wantError)):
				t.Errorf("warnings %v, want one whose error contains %q", warned, tc.wantError)
			}
		})
	}
}

func TestParityOrConditionsFirePerSatisfiedDependency(t *testing.T) {
	t.Parallel()
	tg, url := serve(t, http.StatusOK)
	s := mustNew(t, loadSensor(t, "parity-or-conditions", url))
	if err := s.Handle(context.Background(), webhookEvent("e1", `{}`, `{"kind":"order"}`)); err != nil {
		t.Fatalf("Handle = %v", err)
	}
	reqs := tg.got()
	if len(reqs) != 2 {
		t.Fatalf("trigger fired %d times for one event that satisfies a and b of `a || b`, want 2 (once per dependency, as Argo)", len(reqs))
	}
	for _, r := range reqs {
		if r.method != http.MethodPost || r.path != "/hook" {
			t.Errorf("request = %s %s, want POST /hook", r.method, r.path)
		}
	}
}

func TestParityRetryWithoutAtLeastOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		failures  int32
		wantCalls int32
		wantErr   bool
	}{
		{name: "retried until it succeeds", failures: 2, wantCalls: 3},
		{name: "retries used up: the event is delivered again", failures: 5, wantCalls: 3, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if calls.Add(1) <= tc.failures {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			}))
			t.Cleanup(srv.Close)
			s := mustNew(t, loadSensor(t, "parity-retry", srv.URL))
			err := s.Handle(context.Background(), webhookEvent("e1", `{}`, `{"kind":"order"}`))
			if (err != nil) != tc.wantErr {
				t.Errorf("Handle = %v, want error %v", err, tc.wantErr)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("target called %d times, want %d (retryStrategy applies without atLeastOnce)", got, tc.wantCalls)
			}
		})
	}
}

func TestParityDLQTrigger(t *testing.T) {
	t.Parallel()
	var hook, dead atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/dead-letter" {
			dead.Add(1)
			return
		}
		hook.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	s := mustNew(t, loadSensor(t, "parity-dlq", srv.URL))
	if err := s.Handle(context.Background(), webhookEvent("e1", `{}`, `{"kind":"order"}`)); err != nil {
		t.Errorf("Handle = %v, want nil once the dlqTrigger took the events", err)
	}
	if h, d := hook.Load(), dead.Load(); h != 1 || d != 1 {
		t.Errorf("trigger called %d times and dlqTrigger %d, want 1 and 1", h, d)
	}
}

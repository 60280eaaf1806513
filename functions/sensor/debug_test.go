package sensor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/triggers"
)

// explanations are the debug entries that explain a filtered-out event.
func explanations(logs *observer.ObservedLogs) []observer.LoggedEntry {
	return logs.FilterMessage("event did not pass the dependency's filters").AllUntimed()
}

func TestHandleExplainsFilteredEventsAtDebugLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		level   zapcore.Level
		subject string
		body    string
		want    []string // the filters field; nil: no explanation logged
	}{
		{name: "a miss", level: zapcore.DebugLevel, subject: "example", body: `{"message":"goodbye"}`,
			want: []string{`fail  data filter body.message: "goodbye" does not match [hello hey]`}},
		{name: "an error", level: zapcore.DebugLevel, subject: "example", body: `{"text":"hello"}`,
			want: []string{`error data filter body.message: path does not exist`}},
		{name: "a match is not explained", level: zapcore.DebugLevel, subject: "example", body: `{"message":"hey"}`},
		{name: "an event for no dependency is not explained", level: zapcore.DebugLevel, subject: "other", body: `{"message":"goodbye"}`},
		{name: "nothing above debug level", level: zapcore.InfoLevel, subject: "example", body: `{"message":"goodbye"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			core, logs := observer.New(tc.level)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
			t.Cleanup(srv.Close)
			fn, err := New(loadSensor(t, "single", srv.URL), sensor.Options{Deps: triggers.Deps{Logger: zap.New(core)}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = fn.Close() })
			if _, err := fn.Handle(context.Background(), webhookEvent(t, "e1", tc.subject, tc.body)); err != nil {
				t.Fatal(err)
			}
			got := explanations(logs)
			if tc.want == nil {
				if len(got) != 0 {
					t.Fatalf("explanations logged: %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d explanations, want 1: %+v", len(got), logs.AllUntimed())
			}
			fields := got[0].ContextMap()
			if fields["sensor"] != "single" || fields["dependency"] != "test-dep" || fields["eventID"] != "e1" {
				t.Errorf("fields = %v", fields)
			}
			var checks []string
			for _, c := range fields["filters"].([]any) {
				checks = append(checks, c.(string))
			}
			if !reflect.DeepEqual(checks, tc.want) {
				t.Errorf("filters = %q, want %q", checks, tc.want)
			}
		})
	}
}

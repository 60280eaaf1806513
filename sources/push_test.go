package sources_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/receiver"
)

// TestRefusalsAreRateLimited sends a flood of events the broker refuses: every
// caller gets 503, and the log gets one error line per reason, not one per event.
func TestRefusalsAreRateLimited(t *testing.T) {
	t.Parallel()
	errFull := errors.New("broker store full")
	errDown := errors.New("broker unavailable")
	tests := []struct {
		name    string
		reasons map[error]int // events refused for each reason
	}{
		{name: "one refusal", reasons: map[error]int{errFull: 1}},
		{name: "a flood of one reason", reasons: map[error]int{errFull: 500}},
		{name: "two reasons", reasons: map[error]int{errFull: 200, errDown: 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			core, logs := observer.New(zapcore.InfoLevel)
			es := &v1alpha1.EventSource{ObjectMeta: metav1.ObjectMeta{Name: "hooks"},
				Spec: v1alpha1.EventSourceSpec{Webhook: map[string]v1alpha1.WebhookEventSource{"orders": {}}}}
			entries, err := sources.NewPushEntries("webhook", es, sources.Deps{Receiver: receiver.New(receiver.Options{}), Logger: zap.New(core)},
				func(p sources.PushEntry) (sources.PushEntry, *apis.FieldError) { return p, nil })
			if err != nil {
				t.Fatal(err)
			}
			entry := entries[0]
			for reason, n := range tc.reasons {
				emit := func(_ context.Context, ev sources.Event) error {
					return fmt.Errorf("emitting event %s: %w", ev.ID, reason)
				}
				for range n {
					w := httptest.NewRecorder()
					entry.Push(w, httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(`{}`)), emit, sources.Event{Name: "orders", Data: []byte(`{}`)})
					if w.Code != http.StatusServiceUnavailable {
						t.Fatalf("refused event answered %d, want 503", w.Code)
					}
				}
			}
			lines := logs.FilterMessage("event not recorded").FilterLevelExact(zapcore.ErrorLevel)
			if lines.Len() != len(tc.reasons) {
				t.Fatalf("%d error lines for %d reasons: %v", lines.Len(), len(tc.reasons), lines.All())
			}
			for _, l := range lines.All() {
				if l.ContextMap()["eventSource"] != "hooks" || l.ContextMap()["eventName"] != "orders" {
					t.Errorf("error line without the entry's fields: %v", l.ContextMap())
				}
			}
		})
	}
}

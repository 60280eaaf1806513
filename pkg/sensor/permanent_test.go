package sensor

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// An event fails for good only when no redelivery can mend it: a trigger that cannot
// resolve from the event's own data. A target's failure, a timeout or an evaluation
// budget are worth another delivery.
func TestHandleClassifiesFailures(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 1001) + strings.Repeat("]", 1001)
	tests := []struct {
		name   string
		sensor string
		// status is the target's answer; slow makes it answer only when the request is gone.
		status int
		slow   bool
		// timeout bounds the delivery; evalTimeout each evaluation of user code.
		timeout, evalTimeout time.Duration
		data                 string
		// wantErr is in the error; wantPermanent says whether it wraps ErrPermanent.
		wantErr       string
		wantPermanent bool
	}{
		{name: "delivered", sensor: "permanent", status: http.StatusOK,
			data: `{"body":{"id":"1","list":[1,2]}}`},
		{name: "missing parameter field", sensor: "permanent", status: http.StatusOK,
			data:    `{"body":{"list":[1,2]}}`,
			wantErr: "http.payload[0]: unable to resolve the parameter of dependency \"dep\": dataKey body.id: path does not exist", wantPermanent: true},
		{name: "template failing on the data", sensor: "permanent", status: http.StatusOK,
			data:    `{"body":{"id":"1","list":[1]}}`,
			wantErr: "http.payload[1]: unable to resolve the parameter of dependency \"dep\": dataTemplate: ", wantPermanent: true},
		{name: "data not JSON", sensor: "permanent", status: http.StatusOK,
			data: `{"body":`, wantErr: ErrDataNotJSON.Error(), wantPermanent: true},
		{name: "data nested too deep", sensor: "permanent", status: http.StatusOK,
			data: `{"body":{"id":"1","deep":` + deep + `}}`, wantErr: "nested more than 1000 levels deep", wantPermanent: true},
		{name: "target 500", sensor: "permanent", status: http.StatusInternalServerError,
			data: `{"body":{"id":"1","list":[1,2]}}`, wantErr: "status 500 not allowed"},
		{name: "target timeout", sensor: "permanent", slow: true, timeout: 100 * time.Millisecond,
			data: `{"body":{"id":"1","list":[1,2]}}`, wantErr: "context deadline exceeded"},
		{name: "evaluation time limit", sensor: "permanent", status: http.StatusOK, evalTimeout: time.Nanosecond,
			data: `{"body":{"id":"1","list":[1,2]}}`, wantErr: ErrEvalTimeout.Error()},
		{name: "dlqTrigger takes what the trigger cannot", sensor: "permanent-dlq", status: http.StatusOK,
			data: `{"body":{"dlq":"x"}}`},
		{name: "dlqTrigger unresolvable too", sensor: "permanent-dlq", status: http.StatusOK,
			data: `{"body":{}}`, wantErr: "dlqTrigger dead-letter: http.payload[0]", wantPermanent: true},
		{name: "dlqTrigger target 500", sensor: "permanent-dlq", status: http.StatusInternalServerError,
			data: `{"body":{"dlq":"x"}}`, wantErr: "dlqTrigger dead-letter: status 500 not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, url := serve(t, tc.status)
			if tc.slow {
				stop := make(chan struct{})
				srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-stop:
					}
				}))
				t.Cleanup(srv.Close)
				t.Cleanup(func() { close(stop) }) // runs first
				url = srv.URL
			}
			s := mustNewWith(t, loadSensor(t, tc.sensor, url), Options{EvalTimeout: tc.evalTimeout})
			ev := webhookEvent("e1", `{}`, `{}`)
			ev.Data = []byte(tc.data)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			err := s.Handle(ctx, ev)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Handle = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrTriggerFailed) {
				t.Fatalf("Handle = %v, want ErrTriggerFailed with %q", err, tc.wantErr)
			}
			if got := errors.Is(err, ErrPermanent); got != tc.wantPermanent {
				t.Errorf("errors.Is(%v, ErrPermanent) = %v, want %v", err, got, tc.wantPermanent)
			}
		})
	}
}

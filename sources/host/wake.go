package host

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/pull"
	"github.com/flintevents/flint/sources/receiver"
)

// WakePath is where a pull source in wake mode (EnvWake) takes its wake
// requests: the path a PingSource's sink names, relative to the source's
// Knative Service.
const WakePath = "/flint/wake"

// wakeBodyLimit bounds a wake request's body: a PingSource's small JSON.
const wakeBodyLimit = 64 << 10

// wakeSlack is added to a wake request's write deadline beyond the longest
// drain, for the answer itself.
const wakeSlack = 30 * time.Second

// wakeFor reads FLINT_WAKE: 0 when unset (run until stopped), else how long
// one wake request may drain. Only a pull type can be woken, and only behind
// Knative's PORT, where its wake requests arrive.
func wakeFor(value, port string, typ sources.Type) (time.Duration, error) {
	d, err := pullDuration(EnvWake, value, typ, "cannot scale to zero on wake requests; only pull sources drain")
	if err != nil || d == 0 {
		return d, err
	}
	if port == "" {
		return 0, fmt.Errorf("%s: wake requests arrive on %s, which is not set", EnvWake, EnvPort)
	}
	return d, nil
}

// serveWake registers WakePath on rcv: each POST drains src's backlog through
// emit, for at most d, and answers once the origin is empty or d passed, so
// the autoscaler counts the pod busy for exactly as long as it has work.
func serveWake(ctx context.Context, rcv *receiver.Receiver, eventSource string, src sources.Source, emit sources.Emitter, d time.Duration, log *zap.Logger) error {
	drainer, ok := src.(pull.Drainer)
	if !ok {
		return fmt.Errorf("%s: this source cannot drain: it does not run on sources/pull", EnvWake)
	}
	rt, fe := rcv.Route(receiver.RouteSpec{
		EventSource:  eventSource,
		Field:        EnvWake,
		Port:         "0", // the receiver serves every route on PORT
		Endpoint:     WakePath,
		Method:       http.MethodPost,
		MaxBodyBytes: wakeBodyLimit,
	})
	if fe != nil {
		return fmt.Errorf("%s: %w", EnvWake, fe)
	}
	_, err := rt.Attach(&waker{stop: ctx, src: drainer, emit: emit, longest: d, log: log})
	return err
}

// waker drains the source on each wake request, one drain at a time: a
// request that arrives during a drain waits for it, then drains what is left.
type waker struct {
	stop    context.Context // the process's context: a stop ends the drain
	src     pull.Drainer
	emit    sources.Emitter
	longest time.Duration
	log     *zap.Logger
	mu      sync.Mutex
}

// wakeAnswer is the body of a wake request's answer.
type wakeAnswer struct {
	Events int64 `json:"events"`
	Empty  bool  `json:"empty"`
}

func (w *waker) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	defer context.AfterFunc(w.stop, cancel)()
	start := time.Now()
	// The receiver's write timeout suits an event; a drain may take longer.
	_ = http.NewResponseController(rw).SetWriteDeadline(start.Add(w.longest + wakeSlack))
	got, err := w.src.Drain(ctx, w.emit, start.Add(w.longest))
	w.log.Info("woken", zap.Int64("events", got.Count), zap.Bool("empty", got.Empty), zap.Duration("took", time.Since(start)), zap.Error(err))
	if err != nil {
		http.Error(rw, "draining: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(wakeAnswer{Events: got.Count, Empty: got.Empty})
}

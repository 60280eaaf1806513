// Package log implements the Argo Events `log` trigger: it writes the firing's
// events to the sensor log, at most once per `intervalSeconds`.
package log

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"mime"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/triggers"
)

// Message is the message of every line the trigger writes.
const Message = "log trigger"

func init() { triggers.Register(v1alpha1.TriggerTypeLog, New, facts()...) }

// Trigger logs each firing through the injected logger: one line per event,
// with the sensor, trigger and dependency names, the event context and data.
// Firings inside the interval after a logged one are counted, not logged; the
// count goes out as `suppressed` on the next line.
type Trigger struct {
	interval time.Duration
	logger   *zap.Logger
	now      func() time.Time

	mu         sync.Mutex // guards last and suppressed
	last       time.Time
	logged     bool
	suppressed int
}

// New builds the trigger; the interval is the one the spec has at construction.
func New(spec *v1alpha1.LogTrigger, deps triggers.Deps) (triggers.Trigger[v1alpha1.LogTrigger], error) {
	logger := deps.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Trigger{
		interval: spec.GetInterval(),
		logger:   logger.With(zap.String("triggerType", v1alpha1.TriggerTypeLog)),
		now:      deps.Clock(),
	}, nil
}

// Fire logs the firing's events, sorted by dependency name, unless the
// interval throttles it; it never fails and its Result has no status.
func (t *Trigger) Fire(ctx context.Context, _ *v1alpha1.LogTrigger, in triggers.Firing) (triggers.Result, error) {
	if err := ctx.Err(); err != nil {
		return triggers.Result{}, err
	}
	suppressed, ok := t.admit()
	if !ok {
		return triggers.Result{}, nil
	}
	base := []zap.Field{zap.String("sensor", in.Sensor), zap.String("trigger", in.Trigger)}
	if suppressed > 0 {
		base = append(base, zap.Int("suppressed", suppressed))
	}
	deps := make([]string, 0, len(in.Events))
	for dep, ev := range in.Events {
		if ev != nil {
			deps = append(deps, dep)
		}
	}
	if len(deps) == 0 {
		t.logger.Info(Message, base...)
		return triggers.Result{}, nil
	}
	sort.Strings(deps)
	for _, dep := range deps {
		ev := in.Events[dep]
		fields := append(base[:len(base):len(base)],
			zap.String("dependencyName", dep),
			zap.Object("eventContext", eventContext(ev.Context)),
			zap.String("data", DataString(ev)),
		)
		t.logger.Info(Message, fields...)
	}
	return triggers.Result{}, nil
}

// admit reports whether this firing is logged and, if so, how many firings
// were suppressed since the last logged one.
func (t *Trigger) admit() (int, bool) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.logged && t.interval > 0 && now.Before(t.last.Add(t.interval)) {
		t.suppressed++
		return 0, false
	}
	n := t.suppressed
	t.last, t.logged, t.suppressed = now, true, 0
	return n, true
}

// DataString is the event data as the log shows it: the JSON text when the
// content type is JSON (or absent and the data is valid JSON), base64 otherwise.
func DataString(ev *event.Event) string {
	if isJSON(ev.Context.DataContentType, ev.Data) {
		return string(ev.Data)
	}
	return base64.StdEncoding.EncodeToString(ev.Data)
}

func isJSON(contentType string, data []byte) bool {
	if contentType == "" {
		return json.Valid(data)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// eventContext writes the CloudEvent context as a nested log object.
type eventContext event.Context

func (c eventContext) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("id", c.ID)
	enc.AddString("source", c.Source)
	enc.AddString("subject", c.Subject)
	enc.AddString("type", c.Type)
	enc.AddString("specversion", c.SpecVersion)
	enc.AddString("datacontenttype", c.DataContentType)
	if !c.Time.IsZero() {
		enc.AddString("time", c.Time.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

package pull_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/pull"
	"github.com/flintevents/flint/sources/sourcetest"
)

// fakeBackend is the fake queue as a sourcetest.PullBackend, so that the
// conformance kit runs on the runner itself; each pull source type runs it on
// its real server.
type fakeBackend struct{ q *fakeQueue }

func (b fakeBackend) Source(t *testing.T) sources.Source {
	src, err := pull.NewSource(pull.Entry{Dial: b.q.Dial, Options: pull.Options{
		Name:      "example",
		Logger:    zaptest.NewLogger(t),
		InFlight:  16,
		Retry:     pull.Schedule{First: time.Millisecond, Max: 10 * time.Millisecond, Factor: 2},
		Reconnect: pull.Schedule{First: 10 * time.Millisecond, Max: 100 * time.Millisecond, Factor: 2},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func (b fakeBackend) Publish(_ context.Context, bodies []string) error {
	b.q.Publish(bodies...)
	return nil
}

func (b fakeBackend) Body(ev sources.Event) (string, error) {
	var d struct{ Body string }
	err := json.Unmarshal(ev.Data, &d)
	return d.Body, err
}

func (b fakeBackend) StopBroker(*testing.T)  { b.q.Stop() }
func (b fakeBackend) StartBroker(*testing.T) { b.q.Start() }

func TestPullConformanceOnTheFakeQueue(t *testing.T) {
	t.Parallel()
	q := newFakeQueue()
	sourcetest.RunPull(t, fakeBackend{q: q})
	if n := q.waiting(); n != 0 {
		t.Errorf("%d messages left unacknowledged at the origin", n)
	}
}

package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/pull"
	"github.com/flintevents/flint/sources/webhook"
)

// drainType is a type key registered, in this test binary only, as a pull
// type whose origin is the fake queue of its EventSource's name in queues,
// shared by every dial.
const drainType = "hdfs"

// backlog is the origin of EventSource "files": three messages.
var backlog = &fakeQueue{left: []string{"one", "two", "three"}}

// queues are the origins of the EventSources of drainType, by name; read
// only after init.
var queues = map[string]*fakeQueue{"files": backlog, "wakes": {}}

func init() {
	sources.Register(drainType, sources.Pull, func(es *v1alpha1.EventSource, _ sources.Deps) (sources.Source, error) {
		q, ok := queues[es.Name]
		if !ok {
			return nil, fmt.Errorf("no fake queue for eventsource %s", es.Name)
		}
		var entries []pull.Entry
		for _, name := range es.Spec.EventNames(drainType) {
			entries = append(entries, pull.Entry{
				Dial:    func(context.Context) (pull.Consumer, error) { return q, nil },
				Options: pull.Options{Name: name, Idle: 50 * time.Millisecond},
			})
		}
		return pull.NewSource(entries...)
	})
}

// fakeQueue is a fake origin: Receive hands out what is left, one message at
// a time, and Ack removes it; nothing is ever redelivered.
type fakeQueue struct {
	mu    sync.Mutex
	left  []string
	acked []string
}

func (q *fakeQueue) Receive(ctx context.Context) ([]pull.Message, error) {
	q.mu.Lock()
	if len(q.left) == 0 {
		q.mu.Unlock()
		select { // an empty poll, as a broker's long poll ends
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
			return nil, nil
		}
	}
	body := q.left[0]
	q.left = q.left[1:]
	q.mu.Unlock()
	data, _ := json.Marshal(map[string]string{"body": body})
	return []pull.Message{{ID: "q/" + body, Data: data}}, nil
}

// add puts bodies at the end of the queue.
func (q *fakeQueue) add(bodies ...string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.left = append(q.left, bodies...)
}

func (q *fakeQueue) Ack(_ context.Context, m pull.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.acked = append(q.acked, m.ID)
	return nil
}

func (q *fakeQueue) Nack(context.Context, pull.Message) error { return nil }
func (q *fakeQueue) Close() error                             { return nil }

func (q *fakeQueue) Backlog(context.Context) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int64(len(q.left)), nil
}

// TestMainDrains runs a pull source image with FLINT_DRAIN: it stores the
// origin's backlog in the broker under the messages' ids, acknowledges each,
// and returns on its own once the origin is empty.
func TestMainDrains(t *testing.T) {
	b := newBroker(t)
	env := map[string]string{
		"EVENTSOURCE_OBJECT": "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: files}\nspec:\n  hdfs:\n    example: {directory: /in, path: x, type: CREATE, addresses: [\"127.0.0.1:1\"], hdfsUser: x}\n",
		"K_SINK":             b.URL + "/ns/default",
		"LOG_LEVEL":          "error",
		"FLINT_DRAIN":        "20s",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	if err := host.Main(ctx, drainType, nil, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("Main = %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("draining an origin of three messages took %s: it did not stop when empty", took)
	}
	var ids []string
	for _, ev := range b.stored() {
		ids = append(ids, ev.ID())
	}
	slices.Sort(ids)
	if got := strings.Join(ids, ","); got != "q/one,q/three,q/two" {
		t.Errorf("broker stored %q, want the three messages under their ids", got)
	}
	backlog.mu.Lock()
	defer backlog.mu.Unlock()
	acked := slices.Sorted(slices.Values(backlog.acked))
	if fmt.Sprint(acked) != "[q/one q/three q/two]" {
		t.Errorf("acknowledged %v", backlog.acked)
	}
}

// TestMainDrainRefusals: FLINT_DRAIN must be a positive duration, and only a
// pull type drains.
func TestMainDrainRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, drain, want string
	}{
		{"not a duration", drainType, "soon", `FLINT_DRAIN: "soon" is not a positive duration`},
		{"not positive", drainType, "-1s", `FLINT_DRAIN: "-1s" is not a positive duration`},
		{"a push type", webhook.Type, "30s", "FLINT_DRAIN: a webhook source (push) has no backlog to drain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				"EVENTSOURCE_OBJECT": "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: x}\nspec:\n  webhook:\n    hook: {port: \"12000\", endpoint: /x, method: POST}\n  hdfs:\n    example: {directory: /in, path: x, type: CREATE, addresses: [\"127.0.0.1:1\"], hdfsUser: x}\n",
				"K_SINK":             "http://127.0.0.1:1/ns/default",
				"FLINT_DRAIN":        tc.drain,
			}
			err := host.Main(context.Background(), tc.key, nil, func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Main = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

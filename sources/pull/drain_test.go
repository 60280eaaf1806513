package pull_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/pull"
)

// noBacklog hides a consumer's Backlog, as a publish/subscribe origin that
// cannot count one.
type noBacklog struct{ pull.Consumer }

func TestDrain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup publishes and prepares; it returns the dial to drain.
		setup     func(t *testing.T, q *fakeQueue, b *broker) pull.Dial
		deadline  time.Duration
		wantCount int64
		wantEmpty bool
		// within bounds how long Drain may take.
		within time.Duration
		// atLeast is how long Drain must take (it waits for the deadline).
		atLeast time.Duration
	}{
		{
			name: "returns when the backlog is empty",
			setup: func(t *testing.T, q *fakeQueue, b *broker) pull.Dial {
				q.Publish(bodies("m", 50)...)
				return q.Dial
			},
			deadline: 10 * time.Second, wantCount: 50, wantEmpty: true, within: 2 * time.Second,
		},
		{
			name: "returns on an empty origin without a backlog count after the idle time",
			setup: func(t *testing.T, q *fakeQueue, b *broker) pull.Dial {
				q.Publish(bodies("m", 5)...)
				return func(ctx context.Context) (pull.Consumer, error) {
					c, err := q.Dial(ctx)
					return noBacklog{c}, err
				}
			},
			deadline: 10 * time.Second, wantCount: 5, wantEmpty: true, within: 2 * time.Second,
		},
		{
			name: "stops at the deadline while the broker refuses",
			setup: func(t *testing.T, q *fakeQueue, b *broker) pull.Dial {
				q.Publish(bodies("m", 5)...)
				b.refuse = func(sources.Event, int) error { return errors.New("store full") }
				return q.Dial
			},
			deadline: 300 * time.Millisecond, wantCount: 0, wantEmpty: false, within: 2 * time.Second, atLeast: 300 * time.Millisecond,
		},
		{
			name: "does not call empty what another consumer holds unacknowledged",
			setup: func(t *testing.T, q *fakeQueue, b *broker) pull.Dial {
				q.Publish(bodies("m", 3)...)
				other, err := q.Dial(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if msgs, err := other.Receive(context.Background()); err != nil || len(msgs) != 3 {
					t.Fatalf("the other consumer received %d, %v", len(msgs), err)
				}
				q.Publish(bodies("n", 2)...)
				return q.Dial
			},
			deadline: 300 * time.Millisecond, wantCount: 2, wantEmpty: false, within: 2 * time.Second, atLeast: 300 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newFakeQueue()
			b := newBroker()
			ackOnlyStored(t, q, b)
			dial := tt.setup(t, q, b)
			opts := pull.Options{Name: "example", Logger: zaptest.NewLogger(t), Idle: 50 * time.Millisecond, Retry: pull.Schedule{First: 5 * time.Millisecond}}
			start := time.Now()
			got, err := pull.Drain(context.Background(), dial, b.Emit, opts, start.Add(tt.deadline))
			took := time.Since(start)
			if err != nil {
				t.Fatalf("Drain: %v", err)
			}
			if got.Count != tt.wantCount || got.Empty != tt.wantEmpty {
				t.Errorf("Drain = %+v, want count %d, empty %v", got, tt.wantCount, tt.wantEmpty)
			}
			if took > tt.within || took < tt.atLeast {
				t.Errorf("Drain took %v, want between %v and %v", took, tt.atLeast, tt.within)
			}
			if acked, _, _ := q.counts(); int64(len(acked)) != tt.wantCount {
				t.Errorf("%d messages acked, want %d", len(acked), tt.wantCount)
			}
		})
	}
}

func TestSourceDrainsEveryEntry(t *testing.T) {
	t.Parallel()
	q1, q2 := newFakeQueue(), newFakeQueue()
	q1.Publish(bodies("a", 7)...)
	q2.Publish(bodies("b", 4)...)
	b := newBroker()
	rec := &recorder{}
	log := zaptest.NewLogger(t)
	src, err := pull.NewSource(
		pull.Entry{Dial: q1.Dial, Options: pull.Options{Name: "one", Logger: log, Idle: 50 * time.Millisecond}},
		pull.Entry{Dial: q2.Dial, Options: pull.Options{Name: "two", Logger: log, Idle: 50 * time.Millisecond}},
	)
	if err != nil {
		t.Fatal(err)
	}
	var d pull.Drainer = src
	got, err := d.Drain(context.Background(), rec.emit(b), time.Now().Add(10*time.Second))
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if got.Count != 11 || !got.Empty {
		t.Errorf("Drain = %+v, want count 11, empty", got)
	}
	if names := rec.names(); names["one"] != 7 || names["two"] != 4 {
		t.Errorf("events by name %v, want one: 7, two: 4", names)
	}
}

func TestNewSourceRefusesAnEntryWithoutDial(t *testing.T) {
	t.Parallel()
	if _, err := pull.NewSource(pull.Entry{Options: pull.Options{Name: "example"}}); err == nil {
		t.Fatal("NewSource took an entry without a dial")
	}
}

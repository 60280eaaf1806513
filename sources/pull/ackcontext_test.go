package pull

import (
	"context"
	"testing"
	"time"
)

func TestAckContextBoundsEachCallAndOutlivesTheRunner(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	a := newAckContext(ctx, timeout)
	defer a.release()

	first := a.get()
	if a.get() != first {
		t.Fatal("a fresh ack context was made again at once; want it reused")
	}
	cancel()
	if err := first.Err(); err != nil {
		t.Fatalf("the ack context ended with the runner's: %v; want it to outlive it", err)
	}

	time.Sleep(timeout / 5)
	before := time.Now()
	second := a.get()
	if second == first {
		t.Fatal("the ack context was reused with less than nine tenths of the timeout left")
	}
	after := time.Now()
	d, ok := second.Deadline()
	if !ok {
		t.Fatal("the ack context has no deadline")
	}
	if most, least := d.Sub(before), d.Sub(after); most < timeout-timeout/10 || least > timeout {
		t.Fatalf("an ack has %v to %v; want between %v and %v", least, most, timeout-timeout/10, timeout)
	}
	if first.Err() == nil {
		t.Fatal("the replaced ack context was not released")
	}
}

package e2e

import (
	"fmt"
	"testing"
	"time"
)

// TestFaultTargetDown60s keeps the trigger target down for 60 s while events
// arrive at 4 per second, then brings it back: the sensor's deliveries retry
// with backoff capped at a minute, so every accepted event is delivered, none
// dropped. The length of the outage is the point, not the wiring, so the
// in-process run alone covers it.
func TestFaultTargetDown60s(t *testing.T) {
	if viaHTTP {
		t.Skip("covered by the in-process run")
	}
	t.Parallel()
	f := newFaultRun(t, 0)
	f.rc.down.Store(true)
	dev := f.start(t, nil)
	b := &burst{sent: map[string]bool{}}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 240; i++ { // 60 s
		<-tick.C
		one := runBurst(f.hook, fmt.Sprintf("outage-%03d", i), 1, 0, nil)
		for id := range one.sent {
			b.sent[id] = true
		}
		b.accepted = append(b.accepted, one.accepted...)
	}
	f.rc.mu.Lock()
	refused := f.rc.nacks
	f.rc.mu.Unlock()
	f.rc.down.Store(false)
	back := time.Now()
	// Backoff is capped at a minute: the last retry scheduled during the
	// outage comes at most a minute after the target is back.
	f.rc.waitAll(t, dev, b.accepted, 3*time.Minute)
	f.report(t, b, len(b.accepted), 0)
	t.Logf("the target refused %d deliveries during the 60 s outage; all %d accepted events delivered %s after it came back",
		refused, len(b.accepted), time.Since(back).Round(time.Second))
}

package e2e

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/freeport"
)

// Fault tests: a burst of orders goes through a webhook, the broker and a
// sensor to an HTTP target while flint dev is killed, stopped or its target
// fails. Every id the webhook accepted (answered 200) must reach the target;
// an id may arrive more than once only with the same Idempotency-Key.

const (
	// redeliveryBound is how soon after a restart the first pending event
	// must reach the target.
	redeliveryBound = 10 * time.Second
	// settle bounds the wait for every accepted event to be delivered.
	settle = 60 * time.Second
)

// faultRun is one flint dev pipeline under test.
type faultRun struct {
	port int
	hook string
	docs map[string]string
	rc   *recorder
}

func newFaultRun(t *testing.T, delay time.Duration) *faultRun {
	t.Helper()
	rc := newRecorder(t, delay)
	port := freeport.Port(t)
	return &faultRun{
		port: port,
		hook: fmt.Sprintf("http://127.0.0.1:%d/orders", port),
		docs: webhookYAML(port, rc.URL, ""),
		rc:   rc,
	}
}

func (f *faultRun) start(t *testing.T, env []string, args ...string) *devProc {
	t.Helper()
	dev := startDev(t, f.docs, env, args...)
	waitListening(t, f.port)
	return dev
}

// pendingAfter waits for flint dev to exit and for the requests it left at the
// target to be answered, and counts the accepted ids not delivered.
func (f *faultRun) pendingAfter(dev *devProc, accepted []string) int {
	<-dev.exited
	time.Sleep(f.rc.delay + 500*time.Millisecond)
	return len(f.rc.missing(accepted))
}

// restart runs flint dev again on dataDir and returns it with the time the
// restart began, checking that pending events start flowing within
// redeliveryBound when some were pending.
func (f *faultRun) restart(t *testing.T, dataDir string, pending int) (*devProc, time.Duration) {
	t.Helper()
	began := time.Now()
	dev := f.start(t, nil, "--data-dir", dataDir)
	if pending == 0 {
		return dev, 0
	}
	deadline := began.Add(redeliveryBound)
	for {
		if at, ok := f.rc.firstAfter(began); ok {
			took := at.Sub(began)
			if took > redeliveryBound {
				t.Errorf("first redelivery %s after the restart, want within %s", took.Round(time.Millisecond), redeliveryBound)
			}
			return dev, took
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pending events, none delivered within %s of the restart\nflint dev logged:\n%s",
				pending, redeliveryBound, tail(dev.output(), 6000))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// report checks the counts and logs accepted / delivered / duplicated.
func (f *faultRun) report(t *testing.T, b *burst, pendingAtFault int, redelivery time.Duration) {
	t.Helper()
	distinct, dup := f.rc.tally(t, b.sent)
	if len(b.accepted) == 0 {
		t.Fatal("the webhook accepted no event")
	}
	t.Logf("sent %d, accepted %d, delivered %d distinct (%d requests), duplicated %d, pending at the fault %d, first redelivery after %s",
		len(b.sent), len(b.accepted), distinct, len(f.rc.deliveries()), dup, pendingAtFault, redelivery.Round(time.Millisecond))
}

// TestFaultKillMidBurst kills flint dev with SIGKILL in the middle of a burst
// and restarts it on the same data directory: with the target up, and with the
// target refusing every delivery until the process is gone, so that events are
// certainly pending at the kill.
func TestFaultKillMidBurst(t *testing.T) {
	t.Parallel()
	for _, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFaultRun(t, 100*time.Millisecond)
			f.rc.down.Store(tc.targetDown)
			dataDir := t.TempDir()
			first := f.start(t, nil, "--data-dir", dataDir)
			b := runBurst(f.hook, "kill", 300, 120, func() { first.signalAndWait(t, syscall.SIGKILL) })
			pending := f.pendingAfter(first, b.accepted)
			f.rc.down.Store(false)
			if tc.targetDown && pending == 0 {
				t.Fatal("events were delivered while the target refused them")
			}

			second, took := f.restart(t, dataDir, pending)
			f.rc.waitAll(t, second, b.accepted, settle)
			f.report(t, b, pending, took)
		})
	}
}

// TestFaultTargetDownDuringBurst answers 503 from the target for the whole
// burst and a few seconds more: the sensor keeps retrying until it is back.
func TestFaultTargetDownDuringBurst(t *testing.T) {
	t.Parallel()
	f := newFaultRun(t, 0)
	f.rc.down.Store(true)
	dev := f.start(t, nil)
	b := runBurst(f.hook, "down", 200, 0, nil)
	time.Sleep(3 * time.Second)
	pending := len(f.rc.missing(b.accepted))
	f.rc.mu.Lock()
	refused := f.rc.nacks
	f.rc.mu.Unlock()
	if refused == 0 {
		t.Fatal("the target refused nothing while down: the outage was not exercised")
	}
	f.rc.down.Store(false)
	f.rc.waitAll(t, dev, b.accepted, settle)
	f.report(t, b, pending, 0)
	t.Logf("the target refused %d requests while down", refused)
}

// faultCases run each kill or stop with the target up, and with the target
// refusing every delivery until flint dev has exited, so that accepted events
// are certainly still undelivered at the fault.
var faultCases = []struct {
	name       string
	targetDown bool
}{
	{"target up", false},
	{"target down at the stop", true},
}

// TestFaultTermMidBurstDataDir stops flint dev with SIGTERM in the middle of a
// burst on a data directory; a restart on it delivers the rest.
func TestFaultTermMidBurstDataDir(t *testing.T) {
	t.Parallel()
	for _, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFaultRun(t, 100*time.Millisecond)
			f.rc.down.Store(tc.targetDown)
			dataDir := t.TempDir()
			first := f.start(t, nil, "--data-dir", dataDir)
			b := runBurst(f.hook, "term", 200, 80, func() { first.signalAndWait(t, syscall.SIGTERM) })
			pending := f.pendingAfter(first, b.accepted)
			f.rc.down.Store(false)
			if tc.targetDown && pending == 0 {
				t.Fatal("events were delivered while the target refused them")
			}

			second, took := f.restart(t, dataDir, pending)
			f.rc.waitAll(t, second, b.accepted, settle)
			f.report(t, b, pending, took)
		})
	}
}

// TestFaultTermMidBurstTempStore stops flint dev with SIGTERM in the middle of
// a burst on its temporary store: either it delivered everything before it
// exited, or it kept the store, logged where, and a restart on that directory
// delivers the rest.
func TestFaultTermMidBurstTempStore(t *testing.T) {
	t.Parallel()
	for _, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFaultRun(t, 100*time.Millisecond)
			f.rc.down.Store(tc.targetDown)
			// The temporary store goes under a directory of this test only.
			env := []string{"TMPDIR=" + t.TempDir()}
			first := f.start(t, env, "--drain-timeout", "1s")
			b := runBurst(f.hook, "temp", 200, 80, func() { first.signalAndWait(t, syscall.SIGTERM) })
			pending := f.pendingAfter(first, b.accepted)
			f.rc.down.Store(false)

			kept, ok := first.logged("undelivered events kept: the temporary data directory is not deleted; run flint dev with --data-dir on it to deliver them")
			if !ok {
				if pending != 0 {
					t.Fatalf("flint dev exited with %d accepted events undelivered and did not say where they are kept\n%s",
						pending, tail(first.output(), 6000))
				}
				f.report(t, b, 0, 0)
				return
			}
			dir, _ := kept["dataDir"].(string)
			if dir == "" {
				t.Fatalf("the kept-store line names no dataDir: %v", kept)
			}
			if want := "flint dev --data-dir " + dir; fmt.Sprint(kept["resume"]) != want {
				t.Errorf("resume = %v, want %q", kept["resume"], want)
			}
			second, took := f.restart(t, dir, pending)
			f.rc.waitAll(t, second, b.accepted, settle)
			f.report(t, b, pending, took)
		})
	}
}

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/flintevents/flint/pkg/freeport"
)

// bombYAML is a webhook with two entries on ports: orders, whose events a good
// sensor posts to url, and bombs, whose every event each dependency of a
// second sensor blows up into gigabytes with user code (Lua, a Sprig
// template, an expression, jq).
func bombYAML(orders, bombs int, url string) map[string]string {
	return map[string]string{
		"eventsource.yaml": fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: hooks
spec:
  webhook:
    orders:
      port: "%d"
      endpoint: /orders
      method: POST
    bombs:
      port: "%d"
      endpoint: /bombs
      method: POST
`, orders, bombs),
		"good.yaml": fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata:
  name: good
spec:
  dependencies:
    - name: order
      eventSourceName: hooks
      eventName: orders
  triggers:
    - template:
        name: notify
        http:
          url: %s/orders
          method: POST
          payload:
            - src: {dependencyName: order, dataKey: body.id}
              dest: id
      policy:
        status:
          allow: [200]
`, url),
		"bombs.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata:
  name: bombs
spec:
  dependencies:
    - name: lua-rep
      eventSourceName: hooks
      eventName: bombs
      transform:
        script: |
          local s = "x"
          for i = 1, 40 do s = string.rep(s, 2) end
          return {s = s}
    - name: lua-gsub
      eventSourceName: hooks
      eventName: bombs
      filters:
        script: |
          local s = event.body.a
          for i = 1, 10 do s = string.gsub(s, "x", "xxxxxxxx") end
          return true
    - name: sprig-indent
      eventSourceName: hooks
      eventName: bombs
      filters:
        data:
          - path: body.kind
            type: string
            value: ["bomb"]
            template: '{{ indent 1500000000 "x" }}'
    - name: expr-repeat
      eventSourceName: hooks
      eventName: bombs
      filters:
        exprs:
          - expr: len(repeat(a, 100000)) > 0
            fields:
              - name: a
                path: body.a
    - name: jq-repeat
      eventSourceName: hooks
      eventName: bombs
      transform:
        jq: '{a: ("x" * 1500000000)}'
  triggers:
    - template:
        name: log
        conditions: lua-rep || lua-gsub || sprig-indent || expr-repeat || jq-repeat
        log: {}
`,
	}
}

// bombDeps are the dependencies of the bombs sensor of bombYAML.
var bombDeps = []string{"lua-rep", "lua-gsub", "sprig-indent", "expr-repeat", "jq-repeat"}

// procStatus reads a field of /proc/<pid>/status in kB.
func procStatus(t *testing.T, pid int, field string) uint64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == field+":" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatalf("%s in /proc/%d/status: %v", field, pid, err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// capAddressSpace lets the running process pid map at most n bytes more than
// it has now (RLIMIT_AS, as prlimit --as does), so that an allocation past it
// kills the process as a container's memory limit would. It returns the cap.
func capAddressSpace(t *testing.T, pid int, n uint64) uint64 {
	t.Helper()
	limit := procStatus(t, pid, "VmSize")<<10 + n
	rl := syscall.Rlimit{Cur: limit, Max: limit}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_AS,
		uintptr(unsafe.Pointer(&rl)), 0, 0, 0); errno != 0 {
		t.Fatalf("prlimit(%d, RLIMIT_AS, %d): %v", pid, limit, errno)
	}
	return limit
}

// TestFaultHostileEvalBombs runs the real binary with a sensor whose every
// dependency builds gigabytes from a small program or a 600 KB event, beside
// a good sensor, with its address space capped at 1 GiB more than it maps
// when idle. Three bomb events, then 50 good ones: the process stays up,
// each bomb dependency is filtered out with the limit it hit, and the good
// sensor fires for every good event.
func TestFaultHostileEvalBombs(t *testing.T) {
	t.Parallel()
	const bombs, good = 3, 50
	rc := newRecorder(t, 0)
	ordersPort, bombsPort := freeport.Port(t), freeport.Port(t)
	dev := startDev(t, bombYAML(ordersPort, bombsPort, rc.URL), nil)
	waitListening(t, ordersPort)
	waitListening(t, bombsPort)
	pid := dev.cmd.Process.Pid
	idle := procStatus(t, pid, "VmSize")
	limit := capAddressSpace(t, pid, 1<<30)

	big := fmt.Sprintf(`{"kind":"bomb","a":%q}`, strings.Repeat("x", 600_000))
	for i := range bombs {
		status, reply := post(t, http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/bombs", bombsPort), "application/json", big)
		if status != http.StatusOK {
			t.Fatalf("bomb %d: got %d %q, want 200", i, status, reply)
		}
	}
	b := runBurst(fmt.Sprintf("http://127.0.0.1:%d/orders", ordersPort), "good", good, 0, nil)
	if len(b.accepted) != good {
		t.Fatalf("the webhook accepted %d of %d good orders\n%s", len(b.accepted), good, tail(dev.output(), 6000))
	}
	rc.waitAll(t, dev, b.accepted, 60*time.Second)

	// Each bomb fails at its size limit, or, on a loaded machine, at the
	// time limit when the work up to the size limit takes longer.
	timedOut := 0
	deadline := time.Now().Add(60 * time.Second)
	for {
		failed := map[string]int{}
		timedOut = 0
		var errs []string
		dev.mu.Lock()
		for _, l := range dev.lines {
			dep := fmt.Sprint(l["dependency"])
			if l["msg"] == "dependency filtered out" && slices.Contains(bombDeps, dep) {
				e := fmt.Sprint(l["error"])
				switch {
				case strings.Contains(e, "exceeds the limit of"):
					failed[dep]++
				case strings.Contains(e, "evaluation time limit exceeded"):
					failed[dep]++
					timedOut++
				default:
					errs = append(errs, dep+": "+e)
				}
			}
		}
		dev.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("bomb dependencies failed without naming a limit: %q", errs)
		}
		done := true
		for _, d := range bombDeps {
			done = done && failed[d] == bombs
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bomb dependencies filtered out at a limit %v, want each %d times\n%s", failed, bombs, tail(dev.output(), 6000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-dev.exited:
		t.Fatalf("flint dev exited under the bombs: %v\n%s", dev.exitErr, tail(dev.output(), 6000))
	default:
	}
	peak := procStatus(t, pid, "VmHWM")
	t.Logf("idle VmSize %d MiB, address space capped at %d MiB; peak RSS %d MiB after %d bombs x %d dependencies (%d at the time limit); %d good orders delivered",
		idle>>10, limit>>20, peak>>10, bombs, len(bombDeps), timedOut, good)
}

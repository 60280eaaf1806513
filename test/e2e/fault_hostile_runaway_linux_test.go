package e2e

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/freeport"
)

// runawayYAML is a webhook on port and a sensor whose every dependency loops
// for hours on each event without writing or building anything.
func runawayYAML(port int) map[string]string {
	return map[string]string{
		"eventsource.yaml": fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: hooks
spec:
  webhook:
    spin:
      port: "%d"
      endpoint: /spin
      method: POST
`, port),
		"sensor.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata:
  name: spin
spec:
  dependencies:
    - name: template-nested-until
      eventSourceName: hooks
      eventName: spin
      filters:
        data:
          - path: body.a
            type: string
            value: [x]
            template: '{{ range until 100000 }}{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}{{ end }}'
    - name: template-range-int
      eventSourceName: hooks
      eventName: spin
      filters:
        data:
          - path: body.a
            type: string
            value: [x]
            template: '{{ range 1000000000000 }}{{ end }}'
    - name: expr-nested-all
      eventSourceName: hooks
      eventName: spin
      filters:
        exprs:
          - expr: all(list, {all(list, {all(list, {all(list, {true})})})})
            fields:
              - name: list
                path: body.list
    - name: lua-loop
      eventSourceName: hooks
      eventName: spin
      filters:
        script: |
          while true do end
    - name: jq-loop
      eventSourceName: hooks
      eventName: spin
      transform:
        jq: 'def f: f; f'
  triggers:
    - template:
        name: log
        conditions: template-nested-until || template-range-int || expr-nested-all || lua-loop || jq-loop
        log: {}
`,
	}
}

// runawayDeps are the dependencies of the sensor of runawayYAML.
var runawayDeps = []string{"template-nested-until", "template-range-int", "expr-nested-all", "lua-loop", "jq-loop"}

// procCPU is the CPU time (user and system) process pid used so far, from
// /proc/<pid>/stat in clock ticks of 10 ms.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command name in parentheses, from the state (3rd).
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		t.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// TestFaultHostileRunawayEvaluationsStop runs the real binary with a sensor
// whose every dependency (templates, an expression, Lua, jq) loops for hours,
// under the default time limit of 500 ms, and sends it three events: each
// dependency fails at the limit for each event, and once it has, the process
// is idle (less than 0.5 s of CPU over the next 2 s): no evaluation runs on
// after it was abandoned.
func TestFaultHostileRunawayEvaluationsStop(t *testing.T) {
	t.Parallel()
	const events = 3
	port := freeport.Port(t)
	dev := startDev(t, runawayYAML(port), nil)
	waitListening(t, port)
	pid := dev.cmd.Process.Pid

	list := make([]string, 1000)
	for i := range list {
		list[i] = strconv.Itoa(i)
	}
	body := `{"a":"x","list":[` + strings.Join(list, ",") + `]}`
	before := procCPU(t, pid)
	sent := time.Now()
	for i := range events {
		status, reply := post(t, http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/spin", port), "application/json", body)
		if status != http.StatusOK {
			t.Fatalf("event %d: got %d %q, want 200", i, status, reply)
		}
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		failed := map[string]int{}
		var errs []string
		dev.mu.Lock()
		for _, l := range dev.lines {
			dep := fmt.Sprint(l["dependency"])
			if l["msg"] != "dependency filtered out" || !slices.Contains(runawayDeps, dep) {
				continue
			}
			if e := fmt.Sprint(l["error"]); strings.HasSuffix(e, "evaluation time limit exceeded (500ms)") {
				failed[dep]++
			} else {
				errs = append(errs, dep+": "+e)
			}
		}
		dev.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("dependencies failed otherwise than at the time limit: %q", errs)
		}
		done := true
		for _, d := range runawayDeps {
			done = done && failed[d] == events
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dependencies failed at the time limit %v, want each %d times\n%s", failed, events, tail(dev.output(), 6000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(sent)
	busy := procCPU(t, pid) - before

	time.Sleep(time.Second)
	idleFrom := procCPU(t, pid)
	time.Sleep(2 * time.Second)
	idle := procCPU(t, pid) - idleFrom
	select {
	case <-dev.exited:
		t.Fatalf("flint dev exited: %v\n%s", dev.exitErr, tail(dev.output(), 6000))
	default:
	}
	if idle >= 500*time.Millisecond {
		t.Errorf("flint dev used %s of CPU in the 2 s after every evaluation was abandoned, want less than 500ms", idle)
	}
	t.Logf("%d events x %d looping dependencies failed at the limit within %s, using %s of CPU; then %s of CPU over 2 s",
		events, len(runawayDeps), took.Round(time.Millisecond), busy, idle)
}

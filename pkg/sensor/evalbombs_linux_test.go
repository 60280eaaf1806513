package sensor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// bombEnv names the sensor of testdata/eval-bombs.yaml a child process of
// TestEvalBombs runs; bombWantEnv is the error its dependency must fail with.
const (
	bombEnv     = "FLINT_TEST_EVAL_BOMB"
	bombWantEnv = "FLINT_TEST_EVAL_BOMB_WANT"
	// bombMemory is how much address space a child may add to what it
	// has when it starts.
	bombMemory = 1 << 30
)

// TestEvalBombs runs each sensor of testdata/eval-bombs.yaml, whose user
// code builds gigabytes from a small program or a 4 MB event, in a process
// of its own that may map at most 1 GiB more than it has at its start (so
// that an allocation past it kills the process, as a container's memory
// limit would), beside a sensor without user code. The process must exit
// cleanly: the bomb's dependency is filtered out with the limit it hit,
// Handle returns nil (the event is not delivered again), and the other
// sensor fires for an event handled during the bomb and one after it.
func TestEvalBombs(t *testing.T) {
	if name := os.Getenv(bombEnv); name != "" {
		runBomb(t, name, os.Getenv(bombWantEnv))
		return
	}
	const callLimit = "exceeds the limit of 4194304 bytes"
	tests := []struct {
		sensor, want string
	}{
		{"jq-string-repetition", `^transform jq: string repetition: output of 1500000000 bytes ` + callLimit + `$`},
		{"jq-update-repetition", `^transform jq: string repetition: output of 1677721600 bytes ` + callLimit + `$`},
		{"jq-join", `^transform jq: join: output of at least \d+ bytes exceeds the limit of 67108864 bytes$`},
		{"jq-big-index", `^transform jq: array index 67108000 exceeds the limit of 4194304$`},
		{"lua-gsub-growth", `^script filter: filter:2: string.gsub: output of at least \d+ bytes ` + callLimit + `$`},
		{"lua-rep-growth", `^transform script: transform:2: string.rep: output of 8388608 bytes ` + callLimit + `$`},
		{"lua-concat-chain", `^script filter: filter:2: concatenation: output of 8000000 bytes ` + callLimit + `$`},
		{"lua-table-concat", `^script filter: filter:3: table.concat: output of \d+ bytes ` + callLimit + `$`},
		{"sprig-indent", `^data filter body.a: template: indent: output of 1500000001 bytes ` + callLimit + `$`},
		{"sprig-replace", `^data filter body.a: template: replace: output of 4194304000 bytes ` + callLimit + `$`},
		{"sprig-randalphanum", `^data filter body.a: template: randAlphaNum: output of 1500000000 bytes ` + callLimit + `$`},
		{"sprig-join-shared", `^data filter body.a: template: join: output of at least \d+ bytes ` + callLimit + `$`},
		{"template-print-cycle", `^data filter body.a: template: template output exceeds 4194304 bytes$`},
		{"expr-repeat", `^expr filter \(len\(repeat\(a, 1000\)\) > 0\): repeat: output of 4194304000 bytes ` + callLimit},
	}
	for _, tc := range tests {
		t.Run(tc.sensor, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestEvalBombs$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), bombEnv+"="+tc.sensor, bombWantEnv+"="+tc.want)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the process running %s ended with %v, want a clean exit; its last lines:\n%s", tc.sensor, err, lastLines(out, 12))
			}
		})
	}
}

// runBomb is the child process of TestEvalBombs.
func runBomb(t *testing.T, name, want string) {
	capAddressSpace(t, bombMemory)
	tg, url := serve(t, 200)
	sensors := loadSensors(t, "eval-bombs", url)
	if sensors[name] == nil {
		t.Fatalf("no sensor %s in testdata/eval-bombs.yaml", name)
	}
	core, logs := observer.New(zap.WarnLevel)
	opts := Options{EvalTimeout: time.Minute, Deps: triggers.Deps{Logger: zap.New(core)}}
	good, bomb := mustNewWith(t, sensors["good"], opts), mustNewWith(t, sensors[name], opts)
	ctx := context.Background()
	during := make(chan error, 1)
	go func() { during <- good.Handle(ctx, webhookEvent("good-1", `{}`, `{"a":"x"}`)) }()
	big := webhookEvent("bomb", `{}`, `{"a":"`+strings.Repeat("x", 4<<20)+`"}`)
	if err := bomb.Handle(ctx, big); err != nil {
		t.Errorf("Handle(bomb) = %v, want nil (its dependency filtered out for good)", err)
	}
	if err := <-during; err != nil {
		t.Errorf("Handle(good) during the bomb = %v", err)
	}
	if err := good.Handle(ctx, webhookEvent("good-2", `{}`, `{"a":"x"}`)); err != nil {
		t.Errorf("Handle(good) after the bomb = %v", err)
	}
	if n := len(tg.got()); n != 2 {
		t.Errorf("the good sensor fired %d times, want 2", n)
	}
	var got []string
	for _, e := range logs.FilterMessage("dependency filtered out").All() {
		got = append(got, fmt.Sprint(e.ContextMap()["error"]))
	}
	if len(got) != 1 || !regexp.MustCompile(want).MatchString(got[0]) {
		t.Errorf("dependency errors %q, want one matching %s", got, want)
	}
}

// capAddressSpace lets the process map at most n bytes more than it has.
func capAddressSpace(t *testing.T, n uint64) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var kb uint64
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmSize:" {
			kb, _ = strconv.ParseUint(f[1], 10, 64)
		}
	}
	if kb == 0 {
		t.Fatal("no VmSize in /proc/self/status")
	}
	limit := kb<<10 + n
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		t.Fatal(err)
	}
}

// loadSensors reads the sensors of the multi-document testdata/<name>.yaml,
// TARGET replaced by url, by name.
func loadSensors(t *testing.T, name, url string) map[string]*v1alpha1.Sensor {
	raw, err := os.ReadFile("testdata/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*v1alpha1.Sensor{}
	for _, doc := range strings.Split(strings.ReplaceAll(string(raw), "TARGET", url), "\n---\n") {
		var s v1alpha1.Sensor
		if err := yaml.UnmarshalStrict([]byte(doc), &s); err != nil {
			t.Fatal(err)
		}
		out[s.Name] = &s
	}
	return out
}

// lastLines is the end of a process's output.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

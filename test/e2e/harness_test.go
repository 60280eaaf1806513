package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/kubetest"
)

// flintBin is the flint binary built once for the whole suite.
var flintBin string

// Environment of the suite.
const (
	// viaHTTPEnv picks how flint dev wires its hops: "1" over loopback HTTP
	// (--via-http), "0" in process. Unset, the suite runs in process and then
	// once more over HTTP, so both wirings pass the same tests.
	viaHTTPEnv = "FLINT_E2E_VIA_HTTP"
	// binEnv hands the built binary to the second run.
	binEnv = "FLINT_E2E_BIN"
)

// viaHTTP reports whether flint dev runs with --via-http in this run.
var viaHTTP = os.Getenv(viaHTTPEnv) == "1"

func TestMain(m *testing.M) {
	flintBin = os.Getenv(binEnv)
	dir := ""
	if flintBin == "" {
		var err error
		if dir, err = os.MkdirTemp("", "flint-e2e-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		flintBin = filepath.Join(dir, "flint")
		build := exec.Command("go", "build", "-o", flintBin, "github.com/flintevents/flint")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building flint:", err)
			os.Exit(1)
		}
	}
	code := kubetest.Run(m)
	if _, set := os.LookupEnv(viaHTTPEnv); !set && code == 0 {
		code = runViaHTTP()
	}
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// runViaHTTP runs this test binary again, with the same flags, on flint dev
// --via-http, and returns its exit code.
func runViaHTTP() int {
	fmt.Fprintf(os.Stderr, "e2e: the same tests with flint dev --via-http (%s=1)\n", viaHTTPEnv)
	again := exec.Command(os.Args[0], os.Args[1:]...)
	again.Env = append(os.Environ(), viaHTTPEnv+"=1", binEnv+"="+flintBin)
	again.Stdout, again.Stderr = os.Stdout, os.Stderr
	if err := again.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "e2e: running again over HTTP:", err)
		return 1
	}
	return 0
}

// waitListening waits until something accepts TCP connections on port.
func waitListening(t *testing.T, port int) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// logLine is one JSON log line of flint dev.
type logLine map[string]any

// devProc is a running `flint dev`.
type devProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	ingress string
	mu      sync.Mutex
	lines   []logLine
	raw     bytes.Buffer
	exited  chan struct{}
	exitErr error
}

// startDev writes the YAML documents into a fresh directory and runs
// `flint dev -f <dir>` on them, with env added, until the test ends.
func startDev(t *testing.T, docs map[string]string, env []string, args ...string) *devProc {
	t.Helper()
	dir := t.TempDir()
	for name, body := range docs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return runDev(t, append([]string{"dev", "-f", dir, "--broker-addr", "127.0.0.1:0", "--log-format", "json"}, args...), env)
}

func runDev(t *testing.T, args []string, env []string) *devProc {
	t.Helper()
	if viaHTTP && len(args) > 0 && args[0] == "dev" {
		args = append([]string{"dev", "--via-http"}, args[1:]...)
	}
	p := &devProc{t: t, exited: make(chan struct{})}
	p.cmd = exec.Command(flintBin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = io.Discard
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l logLine
			p.mu.Lock()
			p.raw.Write(sc.Bytes())
			p.raw.WriteByte('\n')
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				p.lines = append(p.lines, l)
				if l["msg"] == "flint dev is running" {
					select {
					case ready <- fmt.Sprint(l["ingress"]):
					default:
					}
				}
			}
			p.mu.Unlock()
		}
		p.exitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop() })
	select {
	case p.ingress = <-ready:
	case <-p.exited:
		t.Fatalf("flint dev exited before it was ready: %v\n%s", p.exitErr, p.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("flint dev not ready after 60s\n%s", p.output())
	}
	return p
}

func (p *devProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// stop sends SIGINT and waits; a graceful stop exits 0.
func (p *devProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
		if p.exitErr != nil {
			p.t.Errorf("flint dev did not exit cleanly on SIGINT: %v\n%s", p.exitErr, p.output())
		}
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		p.t.Errorf("flint dev did not stop within 40s of SIGINT\n%s", p.output())
	}
}

// waitLog waits for a log line with the message and fields given.
func (p *devProc) waitLog(msg string, fields map[string]string) logLine {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, l := range p.lines {
			if l["msg"] != msg {
				continue
			}
			ok := true
			for k, v := range fields {
				if fmt.Sprint(l[k]) != v {
					ok = false
					break
				}
			}
			if ok {
				p.mu.Unlock()
				return l
			}
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("no log line %q with %v\n%s", msg, fields, p.output())
	return nil
}

// received is one request a target server got.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// target is an HTTP trigger target that records what it receives and answers
// with the status its respond function returns (200 when nil).
type target struct {
	*httptest.Server
	got     chan received
	respond func(n int) int
	mu      sync.Mutex
	n       int
}

func newTarget(t *testing.T, respond func(n int) int) *target {
	t.Helper()
	tg := &target{got: make(chan received, 1000), respond: respond}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tg.mu.Lock()
		tg.n++
		n := tg.n
		tg.mu.Unlock()
		code := http.StatusOK
		if tg.respond != nil {
			code = tg.respond(n)
		}
		if code == http.StatusOK {
			tg.got <- received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(tg.Close)
	return tg
}

// next waits for the next successful request; on a time-out it shows what
// flint dev logged.
func (tg *target) next(t *testing.T, dev *devProc) received {
	t.Helper()
	select {
	case r := <-tg.got:
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("target received nothing within 20s; flint dev logged:\n%s", dev.output())
		return received{}
	}
}

// post sends body to url and returns the status and response body.
func post(t *testing.T, method, url, contentType, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

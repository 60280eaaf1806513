// Command loadgen is the ratio benchmark of `flint dev` against a bare one-hop
// HTTP relay, and against the same relay storing each event in an embedded
// JetStream first (relay -durable), the least a durable relay does. For each
// system it starts the real binary, measures the time from start to the first
// event delivered, drives 1 KiB JSON events through it with a fixed number of
// concurrent senders (throughput and CPU per event, read from
// /proc/<pid>/stat), then at paced rates (end-to-end p50/p99), and the time the
// process takes to exit on SIGTERM once idle. Every event ends at
// an HTTP target inside this program, which timestamps its arrival. It prints
// flint next to each relay, with the targets against the bare one, and, since a
// machine's speed drifts, each ratio as the median of the rounds' own ratios with
// their range.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flintevents/flint/pkg/freeport"
)

// clockTicks is the unit of utime and stime in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTicks = 100

type config struct {
	flint, relay string
	flintArgs    []string
	events       int
	warmup       int
	concurrency  int
	size         int
	rates        []int
	paced        time.Duration
	rounds       int
	durable      bool
	keep         bool
}

func main() {
	var cfg config
	var rates, flintArgs string
	flag.StringVar(&cfg.flint, "flint", "bin/flint", "flint binary")
	flag.StringVar(&cfg.relay, "relay", "bin/relay", "relay binary")
	flag.StringVar(&flintArgs, "flint-args", "", "extra arguments of flint dev, space separated (e.g. --via-http)")
	flag.IntVar(&cfg.events, "events", 20000, "events of the throughput run")
	flag.IntVar(&cfg.warmup, "warmup", 2000, "events sent before measuring")
	flag.IntVar(&cfg.concurrency, "concurrency", 32, "concurrent senders of the throughput run")
	flag.IntVar(&cfg.size, "size", 1024, "event body size in bytes")
	flag.StringVar(&rates, "rates", "500,1000", "paced rates in events/s, comma separated")
	flag.DurationVar(&cfg.paced, "paced", 5*time.Second, "duration of each paced run")
	flag.IntVar(&cfg.rounds, "rounds", 3, "interleaved rounds per system; medians are reported")
	flag.BoolVar(&cfg.durable, "durable", true, "also measure the durable relay (relay -durable)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the work directory (flint logs, YAML)")
	flag.Parse()
	for _, r := range strings.Split(rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "loadgen: bad rate %q\n", r)
			os.Exit(2)
		}
		cfg.rates = append(cfg.rates, n)
	}
	cfg.flintArgs = strings.Fields(flintArgs)
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// result is what one round measured on one system.
type result struct {
	startup    time.Duration
	throughput float64       // delivered events/s
	cpuPerEv   time.Duration // at full load
	lost       int
	paced      map[int]paced
	stop       time.Duration
}

type paced struct {
	p50, p99 time.Duration
	cpuPerEv time.Duration
	achieved float64
}

func run(cfg config) error {
	work, err := os.MkdirTemp("", "flint-bench-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Fprintln(os.Stderr, "work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	systems := []string{"flint", "relay"}
	if cfg.durable {
		systems = append(systems, "durable")
	}
	results := map[string][]result{}
	for round := range cfg.rounds {
		for _, sys := range systems {
			fmt.Fprintf(os.Stderr, "round %d: %s\n", round+1, sys)
			r, err := measure(cfg, sys, filepath.Join(work, fmt.Sprintf("%s-%d", sys, round)))
			if err != nil {
				return fmt.Errorf("%s: %w", sys, err)
			}
			results[sys] = append(results[sys], r)
		}
	}
	report(os.Stdout, cfg, "relay", results["flint"], results["relay"], true)
	if cfg.durable {
		report(os.Stdout, cfg, "durable", results["flint"], results["durable"], false)
	}
	return nil
}

// measure runs one system through every phase.
func measure(cfg config, sys, dir string) (result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return result{}, err
	}
	total := 1 + cfg.warmup + cfg.events
	for _, r := range cfg.rates {
		total += r * int(cfg.paced/time.Second)
	}
	tg, err := newTarget(total)
	if err != nil {
		return result{}, err
	}
	defer tg.close()
	port, err := freeport.Find()
	if err != nil {
		return result{}, err
	}
	hook := fmt.Sprintf("http://127.0.0.1:%d/bench", port)
	var cmd *exec.Cmd
	switch sys {
	case "flint":
		if err := writeYAML(dir, port, tg.url); err != nil {
			return result{}, err
		}
		args := append([]string{"dev", "-f", dir, "--broker-addr", "127.0.0.1:0", "--log-level", "warn"}, cfg.flintArgs...)
		cmd = exec.Command(cfg.flint, args...)
	case "durable":
		cmd = exec.Command(cfg.relay, "-durable", "-listen", fmt.Sprintf("127.0.0.1:%d", port), "-target", tg.url)
	default:
		cmd = exec.Command(cfg.relay, "-listen", fmt.Sprintf("127.0.0.1:%d", port), "-target", tg.url)
	}
	logf, err := os.Create(filepath.Join(dir, sys+".log"))
	if err != nil {
		return result{}, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	ld := newLoad(hook, cfg.size, total)

	var res result
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	defer func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	// Start → first event delivered: send event 0 until it is accepted.
	for {
		if ld.send(0) == nil {
			break
		}
		select {
		case <-exited:
			return result{}, fmt.Errorf("exited before accepting an event: %v (log in %s)", exitErr, logf.Name())
		case <-time.After(time.Millisecond):
		}
		if time.Since(began) > 30*time.Second {
			return result{}, errors.New("no event accepted within 30s")
		}
	}
	if err := tg.wait(1, 10*time.Second); err != nil {
		return result{}, err
	}
	res.startup = time.Duration(tg.arrival[0].Load() - began.UnixNano())

	next := 1
	ld.burst(next, cfg.warmup, cfg.concurrency)
	next += cfg.warmup
	if err := tg.wait(int64(next), 30*time.Second); err != nil {
		return result{}, fmt.Errorf("warm-up: %w", err)
	}

	pid := cmd.Process.Pid
	cpu0, err := cpuTime(pid)
	if err != nil {
		return result{}, err
	}
	t0 := time.Now()
	failed := ld.burst(next, cfg.events, cfg.concurrency)
	next += cfg.events
	werr := tg.wait(int64(next), 60*time.Second)
	elapsed := time.Duration(tg.last.Load() - t0.UnixNano())
	cpu1, err := cpuTime(pid)
	if err != nil {
		return result{}, err
	}
	res.lost = next - int(tg.delivered.Load())
	if werr != nil && res.lost == 0 {
		return result{}, werr
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "  %d sends failed\n", failed)
	}
	res.throughput = float64(cfg.events) / elapsed.Seconds()
	res.cpuPerEv = (cpu1 - cpu0) / time.Duration(cfg.events)

	res.paced = map[int]paced{}
	for _, rate := range cfg.rates {
		n := rate * int(cfg.paced/time.Second)
		cpu0, _ := cpuTime(pid)
		t0 := time.Now()
		ld.paced(next, n, rate)
		sent := time.Since(t0)
		if err := tg.wait(int64(next+n), 30*time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "  paced %d/s: %v\n", rate, err)
		}
		cpu1, _ := cpuTime(pid)
		lat := make([]time.Duration, 0, n)
		for i := next; i < next+n; i++ {
			if a, s := tg.arrival[i].Load(), ld.sent[i].Load(); a > 0 && s > 0 {
				lat = append(lat, time.Duration(a-s))
			}
		}
		slices.Sort(lat)
		res.paced[rate] = paced{
			p50:      percentile(lat, 0.50),
			p99:      percentile(lat, 0.99),
			cpuPerEv: (cpu1 - cpu0) / time.Duration(n),
			achieved: float64(n) / sent.Seconds(),
		}
		next += n
	}
	res.lost = next - int(tg.delivered.Load())

	// Idle now, with no client connection open: time the exit on SIGTERM. (A
	// connection that never carried a request holds http.Server.Shutdown for 5 s.)
	ld.client.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond)
	stopAt := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		res.stop = time.Since(stopAt)
	case <-time.After(30 * time.Second):
		res.stop = -1
	}
	return res, nil
}

// load sends numbered events to one webhook.
type load struct {
	hook   string
	client *http.Client
	pad    string
	sent   []atomic.Int64 // send time per event, unix ns
}

func newLoad(hook string, size, total int) *load {
	return &load{
		hook: hook,
		client: &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: time.Second}).DialContext,
			MaxIdleConnsPerHost: 512,
			IdleConnTimeout:     90 * time.Second,
		}, Timeout: 30 * time.Second},
		pad:  strings.Repeat("x", max(size-len(`{"seq":"0000000","kind":"load","pad":""}`), 0)),
		sent: make([]atomic.Int64, total),
	}
}

// send posts event seq once and returns nil when it was accepted (200). The body is
// valid JSON of a fixed size: the sequence number is a zero-padded string.
func (l *load) send(seq int) error {
	body := fmt.Sprintf(`{"seq":"%07d","kind":"load","pad":"%s"}`, seq, l.pad)
	l.sent[seq].Store(time.Now().UnixNano())
	resp, err := l.client.Post(l.hook, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// burst sends events from..from+n with concurrency senders as fast as they are
// accepted, retrying refused ones a few times; it returns how many failed.
func (l *load) burst(from, n, concurrency int) int {
	var next, failed atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for {
				seq := int(next.Add(1) - 1)
				if seq >= from+n {
					return
				}
				if !l.retry(seq) {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(failed.Load())
}

func (l *load) retry(seq int) bool {
	for range 5 {
		if l.send(seq) == nil {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// paced sends events from..from+n at rate per second, open loop: each event
// leaves at its scheduled time whatever happened to the previous ones.
func (l *load) paced(from, n, rate int) {
	jobs := make(chan int, 1024)
	var wg sync.WaitGroup
	for range 256 {
		wg.Go(func() {
			for seq := range jobs {
				l.retry(seq)
			}
		})
	}
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		jobs <- from + i
	}
	close(jobs)
	wg.Wait()
}

// target is the HTTP endpoint every event ends at.
type target struct {
	srv       *http.Server
	url       string
	arrival   []atomic.Int64 // unix ns, by seq
	delivered atomic.Int64   // distinct events
	last      atomic.Int64   // last first-arrival, unix ns
}

func newTarget(total int) (*target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &target{url: "http://" + ln.Addr().String() + "/sink", arrival: make([]atomic.Int64, total)}
	t.srv = &http.Server{Handler: t, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

// ServeHTTP records the arrival of the event whose "seq" the body carries.
func (t *target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UnixNano()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if seq, ok := seqOf(body); ok && seq < len(t.arrival) {
		if t.arrival[seq].CompareAndSwap(0, now) {
			t.delivered.Add(1)
			t.last.Store(now)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// seqOf finds the number after the first "seq" in body, whether the event is
// there as JSON or as an escaped JSON string.
func seqOf(body []byte) (int, bool) {
	i := bytes.Index(body, []byte("seq"))
	if i < 0 {
		return 0, false
	}
	i += 3
	for i < len(body) && (body[i] < '0' || body[i] > '9') {
		i++
	}
	j := i
	for j < len(body) && body[j] >= '0' && body[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(string(body[i:j]))
	return n, err == nil
}

// wait waits until n distinct events arrived.
func (t *target) wait(n int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for t.delivered.Load() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d events delivered after %s", t.delivered.Load(), n, timeout)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

func (t *target) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = t.srv.Shutdown(ctx)
}

// cpuTime is the user plus system CPU time of a process so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading CPU time: %w", err)
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, errors.New("reading CPU time: short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("reading CPU time: bad /proc stat")
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// writeYAML writes the EventSource and Sensor flint dev runs: a webhook whose
// events an HTTP trigger posts, whole, to the target.
func writeYAML(dir string, port int, targetURL string) error {
	docs := fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: bench
spec:
  webhook:
    load:
      port: "%d"
      endpoint: /bench
      method: POST
---
apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata:
  name: bench
spec:
  dependencies:
    - name: load
      eventSourceName: bench
      eventName: load
  triggers:
    - template:
        name: sink
        http:
          url: %s
          method: POST
          payload:
            - src: {dependencyName: load, dataKey: body}
              dest: event
      atLeastOnce: true
      policy:
        status:
          allow: [200]
`, port, targetURL)
	return os.WriteFile(filepath.Join(dir, "bench.yaml"), []byte(docs), 0o644)
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(math.Ceil(q*float64(len(sorted))))-1, len(sorted)-1)]
}

// median keeps, per metric, the median over rounds.
func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	out := result{
		startup:    time.Duration(pick(func(r result) float64 { return float64(r.startup) })),
		throughput: pick(func(r result) float64 { return r.throughput }),
		cpuPerEv:   time.Duration(pick(func(r result) float64 { return float64(r.cpuPerEv) })),
		stop:       time.Duration(pick(func(r result) float64 { return float64(r.stop) })),
		paced:      map[int]paced{},
	}
	for _, r := range rs {
		out.lost += r.lost
	}
	for rate := range rs[0].paced {
		out.paced[rate] = paced{
			p50:      time.Duration(pick(func(r result) float64 { return float64(r.paced[rate].p50) })),
			p99:      time.Duration(pick(func(r result) float64 { return float64(r.paced[rate].p99) })),
			cpuPerEv: time.Duration(pick(func(r result) float64 { return float64(r.paced[rate].cpuPerEv) })),
			achieved: pick(func(r result) float64 { return r.paced[rate].achieved }),
		}
	}
	return out
}

// pairedRatio is the median, minimum and maximum over rounds of flint's value
// divided by a baseline's in the same round: the rounds interleave the systems,
// so each pair ran in the same window of a machine whose speed drifts.
func pairedRatio(fs, rs []result, v func(result) float64) (med, lo, hi float64, ok bool) {
	var ratios []float64
	for i := range min(len(fs), len(rs)) {
		if b := v(rs[i]); b != 0 {
			ratios = append(ratios, v(fs[i])/b)
		}
	}
	if len(ratios) == 0 {
		return 0, 0, 0, false
	}
	slices.Sort(ratios)
	return ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1], true
}

// report prints flint next to one baseline, base, with the targets when
// targets is set (they are set against the bare relay).
func report(w io.Writer, cfg config, base string, fs, rs []result, targets bool) {
	f, r := median(fs), median(rs)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }
	ratio := func(v func(result) float64) (string, string) {
		med, lo, hi, ok := pairedRatio(fs, rs, v)
		if !ok {
			return "-", ""
		}
		if len(fs) < 2 {
			return fmt.Sprintf("%.2f×", med), ""
		}
		return fmt.Sprintf("%.2f×", med), fmt.Sprintf("%.2f–%.2f×", lo, hi)
	}
	if targets {
		fmt.Fprintf(w, "\n%d × %d B JSON events, %d concurrent; paced runs of %s; %d round(s): medians, and the ratio\n"+
			"is the median of the rounds' own ratios (each round runs every system in turn) with their range\n",
			cfg.events, cfg.size, cfg.concurrency, cfg.paced, cfg.rounds)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-32s %12s %12s %7s %12s  %s\n", "", "flint dev", base, "ratio", "range", map[bool]string{true: "target"}[targets])
	row := func(name, a, b string, v func(result) float64, target string) {
		rt, rg := "", ""
		if v != nil {
			rt, rg = ratio(v)
		}
		if !targets {
			target = ""
		}
		fmt.Fprintf(w, "%-32s %12s %12s %7s %12s  %s\n", name, a, b, rt, rg, target)
	}
	row("delivered events/s", fmt.Sprintf("%.0f", f.throughput), fmt.Sprintf("%.0f", r.throughput),
		func(x result) float64 { return x.throughput }, "≥ 0.60×")
	row("CPU per event (full load)", ms(f.cpuPerEv), ms(r.cpuPerEv),
		func(x result) float64 { return float64(x.cpuPerEv) }, "≤ 2×")
	for _, rate := range cfg.rates {
		fp, rp := f.paced[rate], r.paced[rate]
		row(fmt.Sprintf("e2e p50 at %d/s", rate), ms(fp.p50), ms(rp.p50),
			func(x result) float64 { return float64(x.paced[rate].p50) }, "")
		target := ""
		if rate == 1000 {
			target = "≤ 2×"
		}
		row(fmt.Sprintf("e2e p99 at %d/s", rate), ms(fp.p99), ms(rp.p99),
			func(x result) float64 { return float64(x.paced[rate].p99) }, target)
		row(fmt.Sprintf("CPU per event at %d/s", rate), ms(fp.cpuPerEv), ms(rp.cpuPerEv),
			func(x result) float64 { return float64(x.paced[rate].cpuPerEv) }, "")
	}
	row("start → first event delivered", ms(f.startup), ms(r.startup),
		func(x result) float64 { return float64(x.startup) }, "flint ≤ 50 ms")
	row("exit after SIGTERM (idle)", ms(f.stop), ms(r.stop), nil, "flint ≤ 1 s")
	row("events lost", strconv.Itoa(f.lost), strconv.Itoa(r.lost), nil, "0")
}

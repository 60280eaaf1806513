package nsq

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/freeport"
	"github.com/nsqio/go-nsq"
)

// nsqVersion is the nsq release hack/nsqd.sh builds (hack/tools/nsq/go.mod).
const nsqVersion = "v1.3.0"

// nsqDir is where hack/nsqd.sh puts nsqd and nsqlookupd: $FLINT_NSQ_DIR, or
// its cache directory.
func nsqDir() string {
	if d := os.Getenv("FLINT_NSQ_DIR"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "flint", "tools", "nsq-"+nsqVersion)
}

// needNSQ returns the paths of nsqd and nsqlookupd, failing the test when
// they are missing under CI=true and skipping it loudly otherwise.
func needNSQ(t testing.TB) (nsqd, nsqlookupd string) {
	t.Helper()
	dir := nsqDir()
	nsqd, nsqlookupd = filepath.Join(dir, "nsqd"), filepath.Join(dir, "nsqlookupd")
	for _, p := range []string{nsqd, nsqlookupd} {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("NSQ TESTS NOT RUN: %s is missing; build it with `bash hack/nsqd.sh` (or `make test`): %v", p, err)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return nsqd, nsqlookupd
}

// server is an nsqlookupd and an nsqd registered with it, on loopback ports
// of their own, the nsqd keeping its data in a temporary directory so that a
// restart keeps its messages.
type server struct {
	t                       testing.TB
	nsqdBin, lookupdBin     string
	dataDir                 string
	lookupdTCP, lookupdHTTP string
	nsqdTCP, nsqdHTTP       string
	nsqdArgs                []string
	lookupd, nsqd           *exec.Cmd
}

// startServer starts nsqlookupd and nsqd; extra are more nsqd flags.
func startServer(t testing.TB, extra ...string) *server {
	t.Helper()
	nsqd, lookupd := needNSQ(t)
	s := &server{
		t: t, nsqdBin: nsqd, lookupdBin: lookupd, dataDir: t.TempDir(),
		lookupdTCP: freeAddr(t), lookupdHTTP: freeAddr(t), nsqdTCP: freeAddr(t), nsqdHTTP: freeAddr(t),
		nsqdArgs: extra,
	}
	s.lookupd = s.start(s.lookupdBin, "-tcp-address", s.lookupdTCP, "-http-address", s.lookupdHTTP,
		"-broadcast-address", "127.0.0.1", "-log-level", "warn")
	waitPing(t, s.lookupdHTTP)
	t.Cleanup(func() { stopCmd(s.lookupd) })
	s.StartNSQD()
	t.Cleanup(func() { stopCmd(s.nsqd) })
	return s
}

func (s *server) start(bin string, args ...string) *exec.Cmd {
	s.t.Helper()
	cmd := exec.Command(bin, args...)
	out := &testWriter{t: s.t, prefix: filepath.Base(bin) + ": "}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting %s: %v", bin, err)
	}
	return cmd
}

// StartNSQD starts nsqd on its addresses, over its data directory.
func (s *server) StartNSQD() {
	s.t.Helper()
	args := append([]string{
		"-tcp-address", s.nsqdTCP, "-http-address", s.nsqdHTTP, "-https-address", "",
		"-broadcast-address", "127.0.0.1", "-lookupd-tcp-address", s.lookupdTCP,
		"-data-path", s.dataDir, "-log-level", "warn",
	}, s.nsqdArgs...)
	s.nsqd = s.start(s.nsqdBin, args...)
	waitPing(s.t, s.nsqdHTTP)
}

// StopNSQD stops nsqd with SIGTERM: it writes the messages it holds, in
// flight or not, to its data directory and exits.
func (s *server) StopNSQD() {
	s.t.Helper()
	stopCmd(s.nsqd)
}

// LookupdAddress is nsqlookupd's HTTP address, an entry's hostAddress.
func (s *server) LookupdAddress() string { return s.lookupdHTTP }

// CreateChannel creates topic and its channel, so that what is published
// before a consumer connects waits in the channel.
func (s *server) CreateChannel(topic, channel string) {
	s.t.Helper()
	s.post("/topic/create?topic=" + topic)
	s.post("/channel/create?topic=" + topic + "&channel=" + channel)
	// nsqd tells nsqlookupd of a new topic and channel asynchronously.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.lookupdHTTP + "/channels?topic=" + topic)
		if err == nil {
			b := make([]byte, 4096)
			n, _ := resp.Body.Read(b)
			resp.Body.Close()
			if strings.Contains(string(b[:n]), `"`+channel+`"`) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("nsqlookupd does not list channel %s of topic %s", channel, topic)
}

func (s *server) post(path string) {
	s.t.Helper()
	resp, err := http.Post("http://"+s.nsqdHTTP+path, "", nil)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("POST %s: %s", path, resp.Status)
	}
}

// Publish publishes bodies to topic, in order, over TCP.
func (s *server) Publish(ctx context.Context, topic string, bodies [][]byte) error {
	p, err := nsq.NewProducer(s.nsqdTCP, nsq.NewConfig())
	if err != nil {
		return err
	}
	p.SetLogger(nil, nsq.LogLevelError)
	defer p.Stop()
	for len(bodies) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(bodies), 100)
		if err := p.MultiPublish(topic, bodies[:n]); err != nil {
			return err
		}
		bodies = bodies[n:]
	}
	return nil
}

// channelStats are the counters nsqd keeps of a channel.
type channelStats struct {
	Depth       int64  `json:"depth"`
	InFlight    int    `json:"in_flight_count"`
	Deferred    int    `json:"deferred_count"`
	Messages    int64  `json:"message_count"`
	Requeues    int64  `json:"requeue_count"`
	Timeouts    int64  `json:"timeout_count"`
	ChannelName string `json:"channel_name"`
	Clients     []struct {
		TLS bool `json:"tls"`
	} `json:"clients"`
}

// Stats returns nsqd's counters of topic's channel.
func (s *server) Stats(topic, channel string) channelStats {
	s.t.Helper()
	var out struct {
		Topics []struct {
			Name     string         `json:"topic_name"`
			Channels []channelStats `json:"channels"`
		} `json:"topics"`
	}
	fetchJSON(s.t, "http://"+s.nsqdHTTP+"/stats?format=json&topic="+topic+"&channel="+channel, &out)
	for _, tp := range out.Topics {
		for _, c := range tp.Channels {
			if tp.Name == topic && c.ChannelName == channel {
				return c
			}
		}
	}
	s.t.Fatalf("nsqd has no channel %s of topic %s", channel, topic)
	return channelStats{}
}

func fetchJSON(t testing.TB, url string, v any) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func stopCmd(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(freeport.Port(t)))
}

func waitPing(t testing.TB, httpAddr string) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := c.Get("http://" + httpAddr + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s does not answer /ping", httpAddr)
}

// testWriter writes a process's output to the test log, line by line.
type testWriter struct {
	t      testing.TB
	prefix string
}

func (w *testWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(w.prefix + line)
	}
	return len(p), nil
}

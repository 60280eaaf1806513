package mqtt_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/flintevents/flint/pkg/freeport"
)

// mosquittoBinary is Debian's mosquitto.
const mosquittoBinary = "/usr/sbin/mosquitto"

// mosquitto is a broker a test started on its own port, with a persistence
// file in the test's temporary directory, so that a restart keeps the
// persistent sessions and the messages queued for them.
type mosquitto struct {
	bin, dir, conf string
	port           int
	cmd            *exec.Cmd
	exited         chan struct{}
}

// startMosquitto starts a broker; users (name → password) turn anonymous
// access off. Without the binary the test fails when CI=true and is skipped
// otherwise.
func startMosquitto(t testing.TB, users map[string]string) *mosquitto {
	t.Helper()
	bin, err := exec.LookPath(mosquittoBinary)
	if err != nil {
		if bin, err = exec.LookPath("mosquitto"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("mosquitto is required with CI=true: %v", err)
			}
			t.Skipf("SKIPPED: no mosquitto binary (%v); install Debian's mosquitto to run the mqtt tests", err)
		}
	}
	m := &mosquitto{bin: bin, dir: t.TempDir(), port: freeport.Port(t)}
	m.conf = filepath.Join(m.dir, "mosquitto.conf")
	conf := []string{
		fmt.Sprintf("listener %d 127.0.0.1", m.port),
		"persistence true",
		"persistence_location " + m.dir + "/",
		"persistence_file mosquitto.db",
		"max_queued_messages 100000",
		"max_inflight_messages " + inflightWindow(),
		"log_dest stderr",
		"log_type error",
		"log_type warning",
	}
	if u, err := user.Current(); err == nil {
		// Started as root, mosquitto would switch to its own user, which
		// cannot write the persistence file into the test's directory.
		conf = append(conf, "user "+u.Username)
	}
	if len(users) == 0 {
		conf = append(conf, "allow_anonymous true")
	} else {
		pw := filepath.Join(m.dir, "passwords")
		for u, p := range users {
			args := []string{"-b", pw, u, p}
			if _, err := os.Stat(pw); err != nil {
				args = append([]string{"-c"}, args...)
			}
			if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_passwd: %v: %s", err, out)
			}
		}
		conf = append(conf, "allow_anonymous false", "password_file "+pw)
	}
	if err := os.WriteFile(m.conf, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start(t)
	t.Cleanup(func() { m.stop(t) })
	return m
}

// url is the broker's address as an entry's url.
func (m *mosquitto) url() string { return "tcp://127.0.0.1:" + strconv.Itoa(m.port) }

// start runs the broker and waits until it accepts connections.
func (m *mosquitto) start(t testing.TB) {
	t.Helper()
	m.cmd = exec.Command(m.bin, "-c", m.conf)
	m.cmd.Stderr = testWriter{t}
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("starting mosquitto: %v", err)
	}
	m.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(m.cmd, m.exited)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", m.port), time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto did not listen on %d: %v", m.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the broker with SIGTERM, which saves its persistence file (the
// clients' connections drop at once), and waits for it to exit.
func (m *mosquitto) stop(t testing.TB) {
	t.Helper()
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
	m.cmd = nil
}

// publish sends each body to topic at QoS 1 and returns once the broker
// acknowledged them all.
func (m *mosquitto) publish(ctx context.Context, topic string, bodies ...[]byte) error {
	o := paho.NewClientOptions().AddBroker(m.url()).SetClientID(fmt.Sprintf("publisher-%d", time.Now().UnixNano())).
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(false)
	return m.publishAs(ctx, o, topic, bodies...)
}

func (m *mosquitto) publishAs(ctx context.Context, o *paho.ClientOptions, topic string, bodies ...[]byte) error {
	c := paho.NewClient(o)
	if err := waitToken(ctx, c.Connect()); err != nil {
		return fmt.Errorf("publisher connecting: %w", err)
	}
	defer c.Disconnect(100)
	toks := make([]paho.Token, 0, len(bodies))
	for _, b := range bodies {
		toks = append(toks, c.Publish(topic, 1, false, b))
	}
	for _, tok := range toks {
		if err := waitToken(ctx, tok); err != nil {
			return fmt.Errorf("publishing: %w", err)
		}
	}
	return nil
}

func waitToken(ctx context.Context, tok paho.Token) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// testWriter logs what the broker writes.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("mosquitto: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}

// untilSubscribed publishes to topic until a source reports (on got) that a
// message arrived: its subscription, and its session, exist.
func untilSubscribed(t testing.TB, m *mosquitto, topic string, got <-chan struct{}) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		if err := m.publish(context.Background(), topic, []byte(`"warmup"`)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
			return
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("the source did not subscribe within 15s")
		}
	}
}

// pahoOptions are a publisher's options on m.
func pahoOptions(m *mosquitto, clientID string) *paho.ClientOptions {
	return paho.NewClientOptions().AddBroker(m.url()).SetClientID(clientID).
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(false)
}

// inflightWindow is mosquitto's max_inflight_messages, the QoS 1 messages
// it sends a client before an acknowledgement: its default, 20, unless
// FLINT_MQTT_INFLIGHT says otherwise (the benchmark's second measurement).
func inflightWindow() string {
	if v := os.Getenv("FLINT_MQTT_INFLIGHT"); v != "" {
		return v
	}
	return "20"
}

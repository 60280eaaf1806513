package amqp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The machine's RabbitMQ, which every test shares; each test works in a
// vhost of its own.
const (
	rabbitAddr = "127.0.0.1:5672"
	rabbitUser = "guest"
	rabbitPass = "guest"
)

// needRabbit fails the test when RabbitMQ or rabbitmqctl is absent and
// CI=true, and skips it loudly otherwise.
func needRabbit(t testing.TB) {
	t.Helper()
	problem := ""
	if c, err := net.DialTimeout("tcp", rabbitAddr, 2*time.Second); err != nil {
		problem = fmt.Sprintf("RabbitMQ is not listening on %s (%v); start it with `rabbitmq-server -detached` or hack/services.sh", rabbitAddr, err)
	} else {
		_ = c.Close()
		if _, err := exec.LookPath("rabbitmqctl"); err != nil {
			problem = "rabbitmqctl is not on PATH: the tests make a vhost each with it"
		}
	}
	if problem == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(problem)
	}
	t.Skip("SKIPPING: " + problem)
}

// rabbitmqctl runs one rabbitmqctl command.
func rabbitmqctl(t testing.TB, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "rabbitmqctl", append([]string{"-q"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// vhost is a vhost of one test on the machine's RabbitMQ.
type vhost struct {
	name string
}

// newVhost makes a vhost for t, where guest may do everything, and deletes
// it when t ends. It takes one rabbitmqctl call (import_definitions): each
// call starts an Erlang VM, which takes seconds.
func newVhost(t testing.TB) *vhost {
	t.Helper()
	needRabbit(t)
	name := fmt.Sprintf("flint-test-%s-%08x", unsafeName.ReplaceAllString(t.Name(), "-"), rand.Uint32())
	defs, err := json.Marshal(map[string]any{
		"vhosts":      []map[string]string{{"name": name}},
		"permissions": []map[string]string{{"user": rabbitUser, "vhost": name, "configure": ".*", "write": ".*", "read": ".*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Debian's rabbitmqctl runs as the rabbitmq user: the file is readable
	// to all (it holds no secret) outside the test's private directory.
	path := filepath.Join(os.TempDir(), name+".json")
	if err := os.WriteFile(path, defs, 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.Remove(path) }()
	rabbitmqctl(t, "import_definitions", path)
	t.Cleanup(func() { rabbitmqctl(t, "delete_vhost", name) })
	return &vhost{name: name}
}

// url is the vhost's url with guest's credentials.
func (v *vhost) url() string { return v.urlAs(rabbitUser + ":" + rabbitPass + "@") }

// urlAs is the vhost's url with userinfo ("user:pass@" or "").
func (v *vhost) urlAs(userinfo string) string {
	return "amqp://" + userinfo + rabbitAddr + "/" + url.PathEscape(v.name)
}

// dial connects to the vhost as guest.
func (v *vhost) dial(t testing.TB) *amqp091.Connection {
	t.Helper()
	c, err := amqp091.DialConfig(v.url(), amqp091.Config{Dial: amqp091.DefaultDial(10 * time.Second)})
	if err != nil {
		t.Fatalf("connecting to %s: %v", v.name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// declare declares a direct exchange and a durable queue bound to it with
// key, as the source's spec does, so that messages published before the
// source runs wait in the queue.
func (v *vhost) declare(t testing.TB, exchange, queue, key string) {
	t.Helper()
	c := v.dial(t)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ch.Close() }()
	if err := ch.ExchangeDeclare(exchange, "direct", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(queue, key, exchange, false, nil); err != nil {
		t.Fatal(err)
	}
}

// publish publishes msgs to exchange with key on a confirmed channel and
// returns once the broker holds them all.
func (v *vhost) publish(ctx context.Context, exchange, key string, msgs ...amqp091.Publishing) error {
	c, err := amqp091.DialConfig(v.url(), amqp091.Config{Dial: amqp091.DefaultDial(10 * time.Second)})
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	ch, err := c.Channel()
	if err != nil {
		return err
	}
	if err := ch.Confirm(false); err != nil {
		return err
	}
	var confirms []*amqp091.DeferredConfirmation
	for _, m := range msgs {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, true, false, m)
		if err != nil {
			return err
		}
		confirms = append(confirms, dc)
	}
	for i, dc := range confirms {
		ok, err := dc.WaitContext(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("message %d was not confirmed", i)
		}
	}
	return nil
}

// messages is the count of ready messages in queue.
func (v *vhost) messages(t testing.TB, queue string) int {
	t.Helper()
	c := v.dial(t)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ch.Close() }()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q.Messages
}

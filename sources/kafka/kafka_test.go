package kafka_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/kafka"
	"github.com/flintevents/flint/sources/sourcetest"
)

// newCluster starts a kfake cluster (franz-go's in-process Kafka broker)
// with one topic of three partitions, closed when the test ends.
func newCluster(t testing.TB, topic string, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, topic)}, opts...)...)
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// produce writes records and waits until the cluster holds them.
func produce(t testing.TB, addr string, rs []*kgo.Record, opts ...kgo.Opt) {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("producing: %v", err)
	}
}

// load reads an EventSource from testdata and points its entries at addr.
func load(t testing.TB, file, addr string) *v1alpha1.EventSource {
	t.Helper()
	es := sourcetest.Load(t, "testdata/"+file)
	for name, e := range es.Spec.Kafka {
		e.URL = addr
		es.Spec.Kafka[name] = e
	}
	return es
}

// waitEvents waits until rec holds n events, or fails.
func waitEvents(t testing.TB, rec *sourcetest.Recorder, n int, got *[]sources.Event) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(*got) < n {
		*got = append(*got, rec.Take()...)
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events arrived", len(*got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventData(t *testing.T) {
	stamp := time.UnixMilli(1767225600123)
	cases := []struct {
		name     string
		jsonBody bool
		metadata map[string]string
		record   *kgo.Record
		want     string
	}{{
		name: "body in base64, the last of a repeated header wins",
		record: &kgo.Record{Key: []byte("order-7"), Value: []byte(`{"id":7}`), Partition: 2, Timestamp: stamp,
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("a")}, {Key: "trace", Value: []byte("b")}, {Key: "kind", Value: []byte("new")}}},
		want: `{"topic":"orders","key":"order-7","partition":2,"body":"eyJpZCI6N30=","timestamp":"` + stamp.String() + `","headers":{"kind":"new","trace":"b"}}`,
	}, {
		name:     "jsonBody puts the value as JSON, metadata is copied",
		jsonBody: true,
		metadata: map[string]string{"team": "shop"},
		record:   &kgo.Record{Value: []byte(`{"id":7}`), Partition: 0, Timestamp: stamp},
		want:     `{"topic":"orders","key":"","partition":0,"body":{"id":7},"timestamp":"` + stamp.String() + `","headers":{},"metadata":{"team":"shop"}}`,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cluster := newCluster(t, "orders")
			addr := cluster.ListenAddrs()[0]
			produce(t, addr, []*kgo.Record{{Topic: "orders", Value: []byte("not json"), Partition: c.record.Partition}}, kgo.RecordPartitioner(kgo.ManualPartitioner()))
			c.record.Topic = "orders"
			produce(t, addr, []*kgo.Record{c.record}, kgo.RecordPartitioner(kgo.ManualPartitioner()))
			es := load(t, "group.yaml", addr)
			e := es.Spec.Kafka["orders"]
			e.JSONBody, e.Metadata = c.jsonBody, c.metadata
			es.Spec.Kafka["orders"] = e
			rec := &sourcetest.Recorder{}
			sourcetest.Start(t, kafka.New, es, sources.Deps{}, rec.Emit)
			var got []sources.Event
			want := 2
			if c.jsonBody {
				want = 1 // the value that is not JSON is skipped
			}
			waitEvents(t, rec, want, &got)
			// Events are emitted concurrently: find the record's by its id.
			wantID := fmt.Sprintf("orders/%d/1", c.record.Partition)
			var ev sources.Event
			for _, e := range got {
				if e.ID == wantID {
					ev = e
				}
			}
			if ev.ID != wantID {
				t.Fatalf("no event with id %q among %d", wantID, len(got))
			}
			if ev.Name != "orders" {
				t.Errorf("event name %q, want orders", ev.Name)
			}
			if string(ev.Data) != c.want {
				t.Errorf("event data\n got %s\nwant %s", ev.Data, c.want)
			}
			if !ev.Time.Equal(stamp) {
				t.Errorf("event time %v, want the record's %v", ev.Time, stamp)
			}
		})
	}
}

// committed is the group's committed offset of orders/0; -1 when none.
func committed(t *testing.T, addr, group string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetching offsets: %v", err)
	}
	o, ok := offs.Lookup("orders", 0)
	if !ok {
		return -1
	}
	return o.At
}

func TestCommitsOnlyStoredRecords(t *testing.T) {
	cases := []struct {
		name   string
		refuse bool
		want   int64
	}{
		{name: "stored records are committed", want: 3},
		{name: "a broker refusing every event leaves the records uncommitted", refuse: true, want: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := newCluster(t, "orders").ListenAddrs()[0]
			var rs []*kgo.Record
			for i := range 3 {
				rs = append(rs, &kgo.Record{Topic: "orders", Value: []byte(fmt.Sprint(i))})
			}
			produce(t, addr, rs, kgo.RecordPartitioner(kgo.ManualPartitioner()))
			var mu sync.Mutex
			tries := 0
			emit := func(context.Context, sources.Event) error {
				mu.Lock()
				defer mu.Unlock()
				tries++
				if c.refuse {
					return errors.New("refused")
				}
				return nil
			}
			r := sourcetest.Start(t, kafka.New, load(t, "group.yaml", addr), sources.Deps{}, emit)
			deadline := time.Now().Add(20 * time.Second)
			for {
				mu.Lock()
				n := tries
				mu.Unlock()
				if n >= 3 || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			if err := r.Stop(10 * time.Second); err != nil {
				t.Fatalf("stopping: %v", err)
			}
			if got := committed(t, addr, "flint"); got != c.want {
				t.Errorf("committed offset %d, want %d", got, c.want)
			}
		})
	}
}

func TestPartitionModeStartsAtNewest(t *testing.T) {
	addr := newCluster(t, "orders").ListenAddrs()[0]
	manual := kgo.RecordPartitioner(kgo.ManualPartitioner())
	produce(t, addr, []*kgo.Record{{Topic: "orders", Partition: 1, Value: []byte("before")}}, manual)
	rec := &sourcetest.Recorder{}
	sourcetest.Start(t, kafka.New, load(t, "partition.yaml", addr), sources.Deps{}, rec.Emit)
	time.Sleep(time.Second) // the source reads the end offset as it starts
	produce(t, addr, []*kgo.Record{
		{Topic: "orders", Partition: 0, Value: []byte("other partition")},
		{Topic: "orders", Partition: 1, Value: []byte("after")},
	}, manual)
	var got []sources.Event
	waitEvents(t, rec, 1, &got)
	time.Sleep(300 * time.Millisecond)
	got = append(got, rec.Take()...)
	if len(got) != 1 {
		t.Fatalf("%d events, want 1 (the record written after the start, on partition 1)", len(got))
	}
	if body := bodyOf(t, got[0]); body != "after" || got[0].ID != "orders/1/1" {
		t.Errorf("event %s with body %q, want orders/1/1 with body after", got[0].ID, body)
	}
}

func TestSASL(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			cluster := newCluster(t, "orders", kfake.EnableSASL(), kfake.Superuser(mech, "flint", "s3cret"))
			addr := cluster.ListenAddrs()[0]
			var auth kgo.Opt
			switch mech {
			case "PLAIN":
				auth = kgo.SASL(plain.Auth{User: "flint", Pass: "s3cret"}.AsMechanism())
			case "SCRAM-SHA-256":
				auth = kgo.SASL(scram.Auth{User: "flint", Pass: "s3cret"}.AsSha256Mechanism())
			default:
				auth = kgo.SASL(scram.Auth{User: "flint", Pass: "s3cret"}.AsSha512Mechanism())
			}
			produce(t, addr, []*kgo.Record{{Topic: "orders", Value: []byte("secret order")}}, auth)
			es := load(t, "group.yaml", addr)
			e := es.Spec.Kafka["orders"]
			e.SASL = &v1alpha1.SASLConfig{Mechanism: mech,
				UserSecret:     secretRef("kafka", "user"),
				PasswordSecret: secretRef("kafka", "password")}
			es.Spec.Kafka["orders"] = e
			env := map[string]string{secret.EnvName("kafka", "user"): "flint", secret.EnvName("kafka", "password"): "s3cret"}
			deps := sources.Deps{Secrets: secret.Local{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
			rec := &sourcetest.Recorder{}
			sourcetest.Start(t, kafka.New, es, deps, rec.Emit)
			var got []sources.Event
			waitEvents(t, rec, 1, &got)
			if body := bodyOf(t, got[0]); body != "secret order" {
				t.Errorf("body %q, want secret order", body)
			}
		})
	}
}

func TestRejectsInvalid(t *testing.T) {
	cases := map[string]string{
		"invalid-no-partition.yaml":    "spec.kafka[orders].partition",
		"invalid-partition.yaml":       "spec.kafka[orders].partition",
		"invalid-strategy.yaml":        "spec.kafka[orders].consumerGroup.rebalanceStrategy",
		"invalid-version.yaml":         "spec.kafka[orders].version",
		"invalid-schema-registry.yaml": "spec.kafka[orders].schemaRegistry",
		"invalid-sasl-secret.yaml":     "spec.kafka[orders].sasl.userSecret",
		"invalid-config.yaml":          "spec.kafka[orders].config",
		"invalid-filter.yaml":          "spec.kafka[orders].filter.expression",
	}
	deps := sources.Deps{Secrets: secret.Local{Getenv: func(string) (string, bool) { return "", false }}}
	for file, path := range cases {
		t.Run(file, func(t *testing.T) {
			_, err := kafka.New(sourcetest.Load(t, "testdata/"+file), deps)
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *apis.FieldError", err, err)
			}
			found := false
			for _, e := range fe.WrappedErrors() {
				for _, p := range e.Paths {
					found = found || p == path
				}
			}
			if !found {
				t.Errorf("error %q does not name %s", fe.Error(), path)
			}
		})
	}
}

func secretRef(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}

// bodyOf is the record value an event carries (its body, base64).
func bodyOf(t testing.TB, ev sources.Event) string {
	t.Helper()
	b, err := bodyOfData(ev.Data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func bodyOfData(data []byte) (string, error) {
	var d struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return "", fmt.Errorf("event data %s: %w", data, err)
	}
	b, err := base64.StdEncoding.DecodeString(d.Body)
	if err != nil {
		return "", fmt.Errorf("body %q: %w", d.Body, err)
	}
	return string(b), nil
}

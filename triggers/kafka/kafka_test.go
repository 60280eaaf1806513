package kafka_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/kafka"
	"github.com/flintevents/flint/triggers/triggertest"
)

// newCluster starts a kfake cluster (franz-go's in-process Kafka broker)
// with a topic of three partitions; it returns the broker address.
func newCluster(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "orders"))
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// readOne reads the first record of the topic.
func readOne(t *testing.T, addr string) *kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("no record on the topic")
		}
		if rs := fs.Records(); len(rs) > 0 {
			if len(rs) > 1 {
				t.Errorf("%d records on the topic, want 1", len(rs))
			}
			return rs[0]
		}
	}
}

var secrets = secret.Local{Getenv: func(k string) (string, bool) {
	if k == secret.EnvName("kafka", "token") {
		return "s3cret", true
	}
	return "", false
}}

func build(t *testing.T, spec *v1alpha1.KafkaTrigger) triggers.Instance {
	t.Helper()
	typ, ok := triggers.Lookup(v1alpha1.TriggerTypeKafka)
	if !ok {
		t.Fatal("kafka is not registered")
	}
	raw, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = yaml.YAMLToJSON(raw)
	inst, err := typ.Build(raw, triggers.Deps{Secrets: secrets})
	if err != nil {
		t.Fatalf("building: %v", err)
	}
	t.Cleanup(func() { _ = inst.Close() })
	return inst
}

func TestFiringProducesThisRecord(t *testing.T) {
	key := "order-42"
	cases := []struct {
		name          string
		spec          v1alpha1.KafkaTrigger
		payload       []byte
		wantKey       string
		wantPartition int32 // -1: any
		wantHeaders   string
	}{{
		name: "key hashed as sarama, headers by name then secure headers",
		spec: v1alpha1.KafkaTrigger{PartitioningKey: &key,
			Headers: map[string]string{"b": "2", "a": "1"},
			SecureHeaders: []*v1alpha1.SecureHeader{{Name: "token", ValueFrom: &v1alpha1.ValueFromSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "kafka"}, Key: "token"}}}}},
		payload:       []byte(`{"id":42}`),
		wantKey:       key,
		wantPartition: kafka.HashPartition([]byte(key), 3),
		wantHeaders:   "a=1,b=2,token=s3cret",
	}, {
		name:          "partition when set",
		spec:          v1alpha1.KafkaTrigger{Partition: 2, PartitioningKey: &key},
		payload:       []byte("plain text"),
		wantKey:       key,
		wantPartition: 2,
	}, {
		name:          "no payload is an empty value, no key any partition",
		spec:          v1alpha1.KafkaTrigger{},
		wantPartition: -1,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := newCluster(t)
			spec := c.spec
			spec.URL, spec.Topic = addr, "orders"
			inst := build(t, &spec)
			before := time.Now().Add(-time.Second)
			if _, err := inst.Fire(context.Background(), &spec, triggers.Firing{Sensor: "s", Trigger: "t", Payload: c.payload}); err != nil {
				t.Fatalf("Fire: %v", err)
			}
			r := readOne(t, addr)
			if string(r.Value) != string(c.payload) || r.Value == nil {
				t.Errorf("value %q (nil %v), want %q", r.Value, r.Value == nil, c.payload)
			}
			if string(r.Key) != c.wantKey {
				t.Errorf("key %q, want %q", r.Key, c.wantKey)
			}
			if c.wantPartition >= 0 && r.Partition != c.wantPartition {
				t.Errorf("partition %d, want %d", r.Partition, c.wantPartition)
			}
			var hs []string
			for _, h := range r.Headers {
				hs = append(hs, h.Key+"="+string(h.Value))
			}
			if got := strings.Join(hs, ","); got != c.wantHeaders {
				t.Errorf("headers %q, want %q", got, c.wantHeaders)
			}
			if r.Timestamp.Before(before) {
				t.Errorf("timestamp %v, want the firing's time", r.Timestamp)
			}
		})
	}
}

func TestFailedProduceFailsTheFiring(t *testing.T) {
	addr := newCluster(t)
	spec := v1alpha1.KafkaTrigger{URL: addr, Topic: "orders", Partition: 9}
	inst := build(t, &spec)
	_, err := inst.Fire(context.Background(), &spec, triggers.Firing{Payload: []byte("x")})
	if err == nil || !strings.Contains(err.Error(), `producing to topic "orders"`) {
		t.Fatalf("Fire to partition 9 of 3 = %v, want a produce error", err)
	}
}

func TestHashPartitionIsSaramas(t *testing.T) {
	// FNV-1a of "" is 0x811c9dc5, -2128831035 as int32: sarama takes
	// -2128831035 % 7 = -2 and negates it; masking the sign bit (Java) gives 0.
	cases := []struct {
		key  string
		n    int32
		want int32
	}{{"", 7, 2}, {"", 3, 0}, {"a", 1, 0}}
	for _, c := range cases {
		if got := kafka.HashPartition([]byte(c.key), c.n); got != c.want {
			t.Errorf("HashPartition(%q, %d) = %d, want %d", c.key, c.n, got, c.want)
		}
	}
}

// silentBroker accepts connections and never answers: a firing waits on it
// until its context ends.
func silentBroker(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	return ln.Addr().String()
}

func TestConformance(t *testing.T) {
	addr := newCluster(t)
	triggertest.Run(t, triggertest.Case{
		Key:      "kafka",
		Spec:     "url: " + addr + "\ntopic: orders\npayload: [{src: {dependencyName: d, dataKey: a}, dest: a}]",
		BadSpec:  "url: " + addr + "\ntopic: orders\nschemaRegistry: {url: 'http://127.0.0.1:8081', schemaId: 1}",
		BadPath:  "schemaRegistry",
		Blocking: "url: " + silentBroker(t) + "\ntopic: orders",
		Deps:     triggers.Deps{Secrets: secrets},
		Firing:   triggers.Firing{Sensor: "s", Trigger: "t", Payload: []byte(`{"a":1}`)},
		Check: func(t *testing.T, _ triggers.Result, err error) {
			if err != nil {
				t.Fatalf("Fire: %v", err)
			}
			if r := readOne(t, addr); string(r.Value) != `{"a":1}` {
				t.Errorf("value %s, want the payload", r.Value)
			}
		},
	})
}

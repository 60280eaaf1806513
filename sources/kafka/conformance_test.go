package kafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/kafka"
	"github.com/flintevents/flint/sources/sourcetest"
)

// restartable is a kfake cluster that keeps its data in a directory, so that
// closing it and starting a new one on the same port with the same directory
// is a broker stop and start: the records and the group's committed offsets
// survive.
type restartable struct {
	opts    []kfake.Opt
	cluster *kfake.Cluster
	addr    string
}

func newRestartable(t *testing.T, topic string) *restartable {
	t.Helper()
	r := &restartable{opts: []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(freeport.Port(t)),
		kfake.DataDir(t.TempDir()),
		kfake.SeedTopics(3, topic),
	}}
	r.StartBroker(t)
	t.Cleanup(func() {
		if r.cluster != nil {
			r.cluster.Close()
		}
	})
	return r
}

func (r *restartable) StopBroker(*testing.T) {
	r.cluster.Close()
	r.cluster = nil
}

func (r *restartable) StartBroker(t *testing.T) {
	t.Helper()
	c, err := kfake.NewCluster(r.opts...)
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	r.cluster, r.addr = c, c.ListenAddrs()[0]
}

// pullBackend is the kafka source's conformance backend: a topic of three
// partitions read by one consumer group.
type pullBackend struct {
	*restartable
}

func (b pullBackend) Source(t *testing.T) sources.Source {
	t.Helper()
	src, err := kafka.New(load(t, "group.yaml", b.addr), sources.Deps{})
	if err != nil {
		t.Fatalf("building the source: %v", err)
	}
	return src
}

func (b pullBackend) Publish(ctx context.Context, bodies []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rs := make([]*kgo.Record, len(bodies))
	for i, body := range bodies {
		rs[i] = &kgo.Record{Key: []byte(body), Value: []byte(body)}
	}
	return cl.ProduceSync(ctx, rs...).FirstErr()
}

func (b pullBackend) Body(ev sources.Event) (string, error) {
	return bodyOfData(ev.Data)
}

func TestPullConformance(t *testing.T) {
	sourcetest.RunPull(t, pullBackend{newRestartable(t, "orders")})
}

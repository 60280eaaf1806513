package dev_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// TestDevOnAClusteredJetStream runs flint dev with --nats naming every node
// of a 3-node JetStream cluster and --stream-replicas 3: the broker's stream
// and the sensor's state bucket have three replicas, and events are still
// delivered after the node that leads the broker's stream is killed.
func TestDevOnAClusteredJetStream(t *testing.T) {
	cl := natsdtest.RunCluster(t, 3)
	tg := newTarget(t, true, 0)
	port := freeport.Port(t)
	opts := dev.Options{NATSURL: cl.URLs()}
	opts.Broker.StreamReplicas = 3
	r := start(t, objects(t, port, tg.URL), opts)
	defer r.stop(t)
	post(t, port, "before")
	waitFor(t, func() bool { return tg.count() == 1 })

	js, err := jetstream.New(cl.Connect())
	if err != nil {
		t.Fatal(err)
	}
	var broker jetstream.Stream
	for name := range js.StreamNames(t.Context()).Name() {
		if strings.HasPrefix(name, "broker_") && !strings.Contains(name, "dead") {
			if broker, err = js.Stream(t.Context(), name); err != nil {
				t.Fatal(err)
			}
		}
	}
	if broker == nil {
		t.Fatal("no broker stream on the cluster")
	}
	if got := broker.CachedInfo().Config.Replicas; got != 3 {
		t.Errorf("broker stream %s has %d replicas, want 3", broker.CachedInfo().Config.Name, got)
	}
	// Sensor state buckets are made on first use: each one made has 3 replicas.
	for name := range js.KeyValueStoreNames(t.Context()).Name() {
		kv, err := js.KeyValue(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		st, err := kv.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas; got != 3 {
			t.Errorf("state bucket %s has %d replicas, want 3", name, got)
		}
	}

	leader := broker.CachedInfo().Cluster.Leader
	node := cl.Node(leader)
	if node < 0 {
		t.Fatalf("stream leader %q is no running node", leader)
	}
	cl.Stop(node)
	for i := range 5 {
		post(t, port, fmt.Sprint("after-", i))
	}
	waitFor(t, func() bool { return tg.count() == 6 })
}

// TestDevStreamReplicasNeedACluster: more than one replica on the embedded
// server, which is one node, is refused before anything starts.
func TestDevStreamReplicasNeedACluster(t *testing.T) {
	opts := dev.Options{}
	opts.Broker.StreamReplicas = 3
	err := dev.Run(t.Context(), objects(t, freeport.Port(t), "http://127.0.0.1:1"), opts)
	if err == nil || !strings.Contains(err.Error(), "--stream-replicas 3 needs --nats") {
		t.Fatalf("Run = %v, want the replicas refused without --nats", err)
	}
}

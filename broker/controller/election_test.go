package controller_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"knative.dev/pkg/logging"

	"github.com/flintevents/flint/broker/controller"
)

// TestLeaderElection runs two controller replicas with leader election on a
// real API server: one holds the Lease and reconciles a Broker; when it stops,
// it releases the Lease and the other takes over and reconciles the next.
func TestLeaderElection(t *testing.T) {
	t.Parallel()
	c, _ := newAPI(t)
	env, ns, js := c.env, c.ns, c.js
	logger := zaptest.NewLogger(t)

	type replica struct {
		cancel context.CancelFunc
		done   chan error
	}
	start := func(id string) replica {
		ctx, cancel := context.WithCancel(logging.WithLogger(context.Background(), logger.Named(id).Sugar()))
		r := replica{cancel: cancel, done: make(chan error, 1)}
		go func() {
			r.done <- controller.RunElected(ctx, env.Clients, controller.Options{JetStream: js, IngressHost: "ingress.test", Namespace: ns},
				controller.Election{Namespace: ns, Name: "controller", Identity: id,
					LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 200 * time.Millisecond})
		}()
		return r
	}
	replicas := map[string]replica{"a": start("a"), "b": start("b")}
	var once sync.Once
	stopAll := func() {
		once.Do(func() {
			for id, r := range replicas {
				r.cancel()
				if err := <-r.done; err != nil && !errors.Is(err, controller.ErrLeadershipLost) {
					t.Errorf("replica %s: %v", id, err)
				}
			}
		})
	}
	t.Cleanup(stopAll)

	leases, err := coordinationv1client.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	holder := func() string {
		l, err := leases.Leases(ns).Get(t.Context(), "controller", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	c.createBroker(t, newBroker(ns, "first"))
	c.waitBroker(t, "first", brokerReady)
	first := holder()
	if first != "a" && first != "b" {
		t.Fatalf("the Lease is held by %q, want a or b", first)
	}

	leader := replicas[first]
	leader.cancel()
	if err := <-leader.done; err != nil {
		t.Errorf("the leader stopped with %v, want nil", err)
	}
	leader.done <- nil // for stopAll
	c.createBroker(t, newBroker(ns, "second"))
	c.waitBroker(t, "second", brokerReady)
	if second := holder(); second == first || second == "" {
		t.Errorf("after %s stopped the Lease is held by %q, want the other replica", first, second)
	}
}

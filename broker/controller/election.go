package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"knative.dev/pkg/logging"

	"github.com/flintevents/flint/pkg/kube"
)

// Defaults of an Election, client-go's usual ones.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// ErrLeadershipLost is RunElected's error when another replica took the lease
// over while this one reconciled: the process exits, so that a replica that
// lost the lease never reconciles again on what it believed as the leader.
var ErrLeadershipLost = errors.New("another controller replica took the lease over")

// Election is how the replicas of the controller choose the one that
// reconciles: the holder of a coordination.k8s.io Lease.
type Election struct {
	// Namespace and Name name the Lease; required.
	Namespace, Name string
	// Identity names this replica in the Lease, such as its pod name; required.
	Identity string
	// LeaseDuration is how long followers wait before they take a lease its
	// holder stopped renewing; RenewDeadline how long the holder keeps
	// trying to renew before it gives up; RetryPeriod the wait between
	// tries. Defaults DefaultLeaseDuration, DefaultRenewDeadline and
	// DefaultRetryPeriod.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

func (e Election) withDefaults() Election {
	if e.LeaseDuration <= 0 {
		e.LeaseDuration = DefaultLeaseDuration
	}
	if e.RenewDeadline <= 0 {
		e.RenewDeadline = DefaultRenewDeadline
	}
	if e.RetryPeriod <= 0 {
		e.RetryPeriod = DefaultRetryPeriod
	}
	return e
}

// RunElected waits as a follower until this replica holds the Lease e names,
// then runs Run while it holds it. It returns nil once ctx ended (releasing
// the lease, so a follower takes over at once), Run's error, or
// ErrLeadershipLost when the lease was lost.
func RunElected(ctx context.Context, clients *kube.Clients, opts Options, e Election) error {
	e = e.withDefaults()
	switch {
	case e.Namespace == "" || e.Name == "":
		return errors.New("leader election: the lease needs a namespace and a name")
	case e.Identity == "":
		return errors.New("leader election: no identity for this replica")
	case clients == nil || clients.Config == nil:
		return errors.New("leader election: no Kubernetes clients")
	}
	leases, err := coordinationv1client.NewForConfig(clients.Config)
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	logger := logging.FromContext(ctx)
	elected, stop := context.WithCancel(ctx)
	defer stop()
	// The elector calls OnStartedLeading in a goroutine of its own; the
	// lease's context comes back here, where Run runs and is waited for.
	leading := make(chan context.Context, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: e.Namespace, Name: e.Name},
			Client:     leases,
			LockConfig: resourcelock.ResourceLockConfig{Identity: e.Identity},
		},
		LeaseDuration:   e.LeaseDuration,
		RenewDeadline:   e.RenewDeadline,
		RetryPeriod:     e.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            e.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) { leading <- lctx },
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				if id != e.Identity {
					logger.Infow("following", "leader", id, "lease", e.Namespace+"/"+e.Name)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	electionDone := make(chan struct{})
	go func() {
		defer close(electionDone)
		le.Run(elected)
	}()
	var lctx context.Context
	select {
	case lctx = <-leading:
	case <-electionDone:
		select { // acquired, and the election ended at once
		case lctx = <-leading:
		default:
			return nil // ctx ended before this replica led
		}
	}
	logger.Infow("leading: reconciling brokers and triggers", "lease", e.Namespace+"/"+e.Name, "identity", e.Identity)
	runErr := Run(lctx, clients, opts)
	stop()
	<-electionDone
	switch {
	case runErr != nil:
		return runErr
	case ctx.Err() != nil:
		logger.Infow("stopped leading: released the lease", "identity", e.Identity)
		return nil
	}
	return ErrLeadershipLost
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"knative.dev/pkg/logging"
)

// Retry pacing of keys whose reconcile failed: per key, exponential from retryBase up
// to retryMax; over all keys, at most retryRate per second after a burst of retryBurst.
const (
	retryBase  = 5 * time.Millisecond
	retryMax   = time.Minute
	retryRate  = 10
	retryBurst = 100
)

// reconcileTimeout bounds one reconcile, so a hung call cannot hold a worker for good.
const reconcileTimeout = 30 * time.Second

// requeueAfter is what a reconcile returns to be run again after a delay without it
// counting as a failure: a Trigger waiting for its consumer.
type requeueAfter time.Duration

func (d requeueAfter) Error() string {
	return fmt.Sprintf("look again in %s", time.Duration(d))
}

// isRequeue reports whether err asks for the key to be reconciled again after a delay.
func isRequeue(err error) (time.Duration, bool) {
	var d requeueAfter
	if errors.As(err, &d) {
		return time.Duration(d), true
	}
	return 0, false
}

// loop reconciles the keys (namespace/name) of one kind from a rate-limited work queue.
// The queue never hands one key to two workers at once, and holds a key added many
// times while it waits only once.
type loop struct {
	kind      string
	queue     workqueue.TypedRateLimitingInterface[string]
	reconcile func(ctx context.Context, key string) error
}

func newLoop(kind string, reconcile func(ctx context.Context, key string) error) *loop {
	limiter := workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](retryBase, retryMax),
		&workqueue.TypedBucketRateLimiter[string]{Limiter: rate.NewLimiter(rate.Limit(retryRate), retryBurst)},
	)
	return &loop{kind: kind, queue: workqueue.NewTypedRateLimitingQueue(limiter), reconcile: reconcile}
}

// enqueue adds the key of an object (or of the tombstone of a deleted one).
func (l *loop) enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		l.queue.Add(key)
	}
}

// run reconciles keys with the given number of workers until ctx ends, then shuts the
// queue down and returns once every worker has finished its key.
func (l *loop) run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for l.next(ctx) {
			}
		})
	}
	<-ctx.Done()
	l.queue.ShutDown()
	wg.Wait()
}

// next reconciles one key; false means the queue is shut down.
func (l *loop) next(ctx context.Context) bool {
	key, shutdown := l.queue.Get()
	if shutdown {
		return false
	}
	defer l.queue.Done(key)
	if ctx.Err() != nil {
		return false
	}
	logger := logging.FromContext(ctx).With(zap.String("kind", l.kind), zap.String("key", key))
	rctx, cancel := context.WithTimeout(logging.WithLogger(ctx, logger), reconcileTimeout)
	err := l.reconcile(rctx, key)
	cancel()
	delay, again := isRequeue(err)
	switch {
	case err == nil:
		l.queue.Forget(key)
	case again:
		l.queue.Forget(key)
		l.queue.AddAfter(key, delay)
	case ctx.Err() != nil:
		// Stopping: the error is the cancellation's.
	default:
		logger.Warnw("reconcile failed; retrying", zap.Error(err), zap.Int("retries", l.queue.NumRequeues(key)))
		l.queue.AddRateLimited(key)
	}
	return true
}

package compile

import (
	"fmt"
	"math"
	"time"

	eventingduckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// Delivery defaults of the Triggers that feed a sensor.
const (
	// DefaultSensorTimeout bounds one delivery attempt to a sensor. A sensor
	// answers only after its triggers ran (an http trigger waits 60 s by
	// default), so an attempt may take as long as a Knative revision allows.
	DefaultSensorTimeout = 5 * time.Minute
	// RevisionTimeout is how long Knative lets one request to a sensor's
	// function run: the cluster's default revision timeout (config-defaults
	// revision-timeout-seconds, 300 s), which is what `kn func deploy` gives
	// the function, as func.yaml sets no timeoutSeconds. Knative cuts a
	// request at this time, so no delivery to a sensor may be given longer.
	RevisionTimeout = 5 * time.Minute
	// DefaultDeliveryHorizon is how long a delivery to a sensor is retried before the
	// event is dead-lettered: long enough to outlast the outage of a trigger target.
	DefaultDeliveryHorizon = 24 * time.Hour
	// DefaultSensorBackoffDelay is the first wait between retries, doubling after each
	// up to MaxBackoff.
	DefaultSensorBackoffDelay = "PT0.2S"
	// MaxBackoff is where flint's dispatcher caps exponential backoff by default (its
	// --max-backoff): retries come at least once a minute, so a sensor back from an
	// outage gets its events within a minute.
	MaxBackoff = time.Minute
	// DefaultSensorRetry is how often a failed delivery is retried: 0.2 s doubling to
	// 51.2 s (9 retries, 102.2 s), then once a minute, for DefaultDeliveryHorizon.
	// Knative's DeliverySpec counts retries, not time, so the horizon is this count.
	DefaultSensorRetry int32 = 1448

	// firstBackoff is DefaultSensorBackoffDelay as a duration.
	firstBackoff = 200 * time.Millisecond

	// defaultAttempt is how long one firing of a trigger type that declares
	// no attempt timeout (triggers.AttemptTimeout) is assumed to take.
	defaultAttempt = time.Minute
	// maxFiringTime is where the time a sensor may take to fire stops being counted.
	maxFiringTime = time.Hour
)

// Delivery is the delivery spec of the Triggers that feed sensor s: retries for
// DefaultDeliveryHorizon (DefaultSensorRetry retries with exponential backoff
// from 0.2 s capped at a minute), then the broker keeps the event in its
// dead-letter stream, where `flint dlq` lists and replays it. Each attempt is
// bounded by 5 min, or by the longest time the sensor's triggers may take to
// fire, when that is longer (every trigger and dlqTrigger in turn, each for
// all attempts of its retryStrategy, its timeout, 60 s for types without one,
// and the waits between them), but never by more than RevisionTimeout: Knative
// would cut a longer attempt and the broker deliver the event again while its
// triggers may have fired. TimeoutWarnings names the triggers that may take longer.
func Delivery(s *v1alpha1.Sensor) *eventingduckv1.DeliverySpec {
	return DeliveryWithin(s, DefaultDeliveryHorizon)
}

// DeliveryWithin is Delivery retrying for horizon instead of
// DefaultDeliveryHorizon (at least one retry).
func DeliveryWithin(s *v1alpha1.Sensor, horizon time.Duration) *eventingduckv1.DeliverySpec {
	timeout := min(max(DefaultSensorTimeout, sensorFiringTime(s)), RevisionTimeout)
	retry := RetriesFor(horizon, firstBackoff, MaxBackoff)
	policy := eventingduckv1.BackoffPolicyExponential
	delay := DefaultSensorBackoffDelay
	iso := isoSeconds(timeout)
	return &eventingduckv1.DeliverySpec{Timeout: &iso, Retry: &retry, BackoffPolicy: &policy, BackoffDelay: &delay}
}

// RetriesFor is the retry count whose waits add up to at least horizon when the first
// wait is first, each next one doubles, and none exceeds limit (the dispatcher's
// backoff cap); at least 1.
func RetriesFor(horizon, first, limit time.Duration) int32 {
	if first <= 0 || limit <= 0 {
		return 1
	}
	var total time.Duration
	n, wait := int32(0), min(first, limit)
	for total < horizon && n < math.MaxInt32 {
		if wait >= limit {
			rest := (horizon - total + limit - 1) / limit
			return int32(min(int64(n)+int64(rest), math.MaxInt32))
		}
		total += wait
		n++
		wait = min(2*wait, limit)
	}
	return max(n, 1)
}

// isoSeconds renders d as an ISO 8601 duration in whole seconds, e.g. "PT300S"
// ("PT5M" for the default, as Knative users write it).
func isoSeconds(d time.Duration) string {
	if d == DefaultSensorTimeout {
		return "PT5M"
	}
	return fmt.Sprintf("PT%dS", int64(math.Ceil(d.Seconds())))
}

// sensorFiringTime is the longest time s may take to fire all its triggers.
func sensorFiringTime(s *v1alpha1.Sensor) time.Duration {
	var total time.Duration
	for i := range s.Spec.Triggers {
		t := &s.Spec.Triggers[i]
		total += triggerTime(t)
		if t.DlqTrigger != nil {
			total += triggerTime(t.DlqTrigger)
		}
	}
	return total
}

// attemptTime is how long one attempt of a trigger may take, as its type's
// registration says (triggers.AttemptTimeout); defaultAttempt for a type
// that does not say.
func attemptTime(t *v1alpha1.Trigger) time.Duration {
	d, _ := attemptOf(t)
	return d
}

// attemptOf is attemptTime and the trigger's field that sets it, relative
// to the trigger (e.g. "template.http.timeout").
func attemptOf(t *v1alpha1.Trigger) (time.Duration, string) {
	if t.Template == nil {
		return defaultAttempt, "template"
	}
	key := t.Template.TypeKey()
	if typ, ok := triggers.Lookup(key); ok && typ.Attempt != nil {
		a := typ.Attempt(t)
		return a.Timeout, a.Field
	}
	return defaultAttempt, "template." + key
}

// triggerTime is the time all attempts of one trigger may take: its
// retryStrategy's attempts (as the engine reads it, see v1alpha1.Schedule)
// times the attempt timeout plus the waits between attempts, jitter included.
func triggerTime(t *v1alpha1.Trigger) time.Duration {
	return min(t.RetryStrategy.Schedule().Longest(attemptTime(t)), maxFiringTime)
}

// TimeoutWarnings are warning-level field errors, with paths in s, for a
// Sensor whose triggers may take longer to fire than RevisionTimeout, the
// most its Triggers' delivery.timeout is given (see Delivery): each trigger
// or dlqTrigger whose http.timeout alone is longer, else each whose
// retryStrategy makes it longer, else spec.triggers when only all together
// are. It is nil when the triggers fit.
func TimeoutWarnings(s *v1alpha1.Sensor) *apis.FieldError {
	total := sensorFiringTime(s)
	if total <= RevisionTimeout {
		return nil
	}
	limit := fmt.Sprintf("longer than the %s that Knative lets a request to the sensor's function run "+
		"(its revision timeout, which func.yaml cannot raise): the Triggers' delivery.timeout is capped at %s, "+
		"and a firing still running then is cut and the event delivered again",
		RevisionTimeout, isoSeconds(RevisionTimeout))
	var errs *apis.FieldError
	check := func(t *v1alpha1.Trigger, path string) {
		attempt, field := attemptOf(t)
		switch {
		case attempt > RevisionTimeout:
			errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("one attempt may take %s, %s", attempt, limit),
				path+"."+field).At(apis.WarningLevel))
		case triggerTime(t) > RevisionTimeout:
			errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("its attempts and the waits between them may take %s, %s", triggerTime(t), limit),
				path+".retryStrategy").At(apis.WarningLevel))
		}
	}
	for i := range s.Spec.Triggers {
		t := &s.Spec.Triggers[i]
		path := fmt.Sprintf("spec.triggers[%d]", i)
		check(t, path)
		if t.DlqTrigger != nil {
			check(t.DlqTrigger, path+".dlqTrigger")
		}
	}
	if errs == nil {
		errs = apis.ErrGeneric(fmt.Sprintf("the triggers, one after the other, may take %s, %s", total, limit),
			"spec.triggers").At(apis.WarningLevel)
	}
	return errs
}

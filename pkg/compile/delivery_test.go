package compile

import (
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// backoffWaits adds up the waits of retry retries that start at first, double and are
// capped at limit, as the broker's dispatcher spaces them.
func backoffWaits(retry int32, first, limit time.Duration) time.Duration {
	var total time.Duration
	wait := first
	for range retry {
		total += min(wait, limit)
		wait = min(2*wait, limit)
	}
	return total
}

func TestRetriesFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		horizon, first, limit time.Duration
		want                  int32
	}{
		{"default: a day, 0.2 s doubling to a minute", 24 * time.Hour, 200 * time.Millisecond, time.Minute, 1448},
		{"within the doubling", time.Second, 200 * time.Millisecond, time.Minute, 3},
		{"capped from the start", time.Hour, 2 * time.Minute, time.Minute, 60},
		{"no horizon", 0, time.Second, time.Minute, 1},
		{"no backoff", time.Hour, 0, time.Minute, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := RetriesFor(tc.horizon, tc.first, tc.limit)
			if got != tc.want {
				t.Fatalf("RetriesFor(%s, %s, %s) = %d, want %d", tc.horizon, tc.first, tc.limit, got, tc.want)
			}
			if tc.first > 0 && tc.horizon > 0 {
				if w := backoffWaits(got, tc.first, tc.limit); w < tc.horizon {
					t.Fatalf("%d retries wait %s, less than the horizon %s", got, w, tc.horizon)
				}
				if w := backoffWaits(got-1, tc.first, tc.limit); w >= tc.horizon {
					t.Fatalf("%d retries already wait %s, the horizon %s", got-1, w, tc.horizon)
				}
			}
		})
	}
}

// TestSensorDeliveryOutlastsOutages is the delivery spec of every sensor: its retries
// must outlast a day-long outage of the sensor (they lasted 6.2 s), with backoff that
// reaches the dispatcher's cap.
func TestSensorDeliveryOutlastsOutages(t *testing.T) {
	t.Parallel()
	d := Delivery(&v1alpha1.Sensor{})
	if d.Retry == nil || d.BackoffDelay == nil || d.BackoffPolicy == nil {
		t.Fatalf("delivery spec %+v lacks retry, backoffPolicy or backoffDelay", d)
	}
	if *d.Retry != DefaultSensorRetry || *d.BackoffDelay != DefaultSensorBackoffDelay || *d.BackoffPolicy != "exponential" {
		t.Fatalf("retry=%d delay=%s policy=%s, want %d, %s, exponential", *d.Retry, *d.BackoffDelay, *d.BackoffPolicy, DefaultSensorRetry, DefaultSensorBackoffDelay)
	}
	if w := backoffWaits(*d.Retry, firstBackoff, MaxBackoff); w < DefaultDeliveryHorizon {
		t.Fatalf("retries wait %s in all, want at least %s", w, DefaultDeliveryHorizon)
	}
	if d.DeadLetterSink != nil {
		t.Fatalf("dead-letter sink %v: the broker's dead-letter stream keeps what a sensor never took", d.DeadLetterSink)
	}
	short := DeliveryWithin(&v1alpha1.Sensor{}, time.Minute)
	if *short.Retry != RetriesFor(time.Minute, firstBackoff, MaxBackoff) || *short.Retry >= *d.Retry {
		t.Fatalf("a one-minute horizon gives %d retries", *short.Retry)
	}
}

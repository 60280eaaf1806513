package sensor

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	eventingduckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/compile"
)

// TestDeliveryCoversRetries derives, from the same Sensor, the delivery of the
// Trigger that feeds it (pkg/compile) and the longest time the engine may
// spend firing it: every attempt taking its http.timeout, every wait of the
// trigger's retryStrategy at its longest jitter. The broker must wait for the
// sensor that long before it delivers the event again; where Knative's
// revision timeout cuts it shorter, `flint compile` must warn with that time.
func TestDeliveryCoversRetries(t *testing.T) {
	t.Parallel()
	sensors := loadAgreementSensors(t, "testdata/retry-agreement.yaml")
	tests := []struct {
		sensor string
		// longest is what the engine may take, worked out by hand as a check on engineTime.
		longest time.Duration
	}{
		{sensor: "none", longest: time.Minute},
		// 5 attempts of 60 s, 4 waits of 30 s with up to 30 s of jitter.
		{sensor: "duration-30s", longest: 9 * time.Minute},
		{sensor: "duration-30s-steps-5", longest: 9 * time.Minute},
		{sensor: "duration-30s-short-attempts", longest: 290 * time.Second},
		{sensor: "steps-1", longest: time.Minute},
		// 5 attempts, 4 waits of 1 s to 2 s.
		{sensor: "empty", longest: 308 * time.Second},
		// 4 attempts of 30 s, waits of 5, 10 and 20 s doubled by jitter.
		{sensor: "factor-2", longest: 190 * time.Second},
		// 5 attempts of 30 s, waits of 20, 40, 80 and 160 s doubled by jitter.
		{sensor: "factor-2-long", longest: 750 * time.Second},
		{sensor: "jitter-0", longest: 330 * time.Second},
		{sensor: "default-jitter", longest: 310 * time.Second},
		// Two of 3 attempts of 40 s and waits of 10 s doubled by jitter.
		{sensor: "two-triggers", longest: 320 * time.Second},
		// 3 attempts of 40 s with 2 waits of up to 20 s, then 2 of 40 s with one of up to 10 s.
		{sensor: "dlq", longest: 250 * time.Second},
	}
	if len(tests) != len(sensors) {
		t.Fatalf("%d cases for %d sensors in testdata", len(tests), len(sensors))
	}
	for _, tc := range tests {
		t.Run(tc.sensor, func(t *testing.T) {
			t.Parallel()
			s := sensors[tc.sensor]
			if s == nil {
				t.Fatalf("no Sensor %s in testdata", tc.sensor)
			}
			var total, longestTrigger time.Duration
			for i := range s.Spec.Triggers {
				tr := &s.Spec.Triggers[i]
				d := engineTime(tr)
				longestTrigger = max(longestTrigger, d)
				total += d
				if tr.DlqTrigger != nil {
					dlq := engineTime(tr.DlqTrigger)
					longestTrigger = max(longestTrigger, dlq)
					total += dlq
				}
			}
			if total != tc.longest {
				t.Fatalf("the engine may take %s, want %s", total, tc.longest)
			}
			timeout := deliveryTimeout(t, compile.Delivery(s))
			warnings := compile.TimeoutWarnings(s)
			if total <= compile.RevisionTimeout {
				if timeout < total {
					t.Errorf("delivery timeout %s, shorter than the %s the engine may retry", timeout, total)
				}
				if warnings != nil {
					t.Errorf("warnings %v for triggers that fit", warnings)
				}
				return
			}
			if timeout != compile.RevisionTimeout {
				t.Errorf("delivery timeout %s, want the revision timeout %s", timeout, compile.RevisionTimeout)
			}
			if warnings == nil {
				t.Fatalf("no warning, but the engine may retry for %s, longer than the %s delivery timeout", total, timeout)
			}
			// The warning names the trigger that alone is too long, else all of them.
			want := total
			if longestTrigger > compile.RevisionTimeout {
				want = longestTrigger
			}
			if !strings.Contains(warnings.Error(), want.String()) {
				t.Errorf("warning %q does not say the %s the engine may take", warnings.Error(), want)
			}
			if errs := warnings.Filter(apis.ErrorLevel); errs != nil {
				t.Errorf("errors where warnings were due: %v", errs)
			}
		})
	}
}

// engineTime is the longest time the engine's retry loop may spend firing
// tr: it runs the loop of tr's retryStrategy against a trigger that always
// fails, each attempt taking the trigger's http.timeout, with the jitter of
// every wait at its largest, and adds up what it would have waited.
func engineTime(tr *v1alpha1.Trigger) time.Duration {
	attempt := time.Duration(tr.Template.HTTP.Timeout) * time.Second
	var total time.Duration
	b := newBackoff(tr.RetryStrategy)
	b.random = func() float64 { return 1 }
	b.sleep = func(_ context.Context, d time.Duration) error {
		total += d
		return nil
	}
	_ = b.do(context.Background(), func() error {
		total += attempt
		return errors.New("refused")
	})
	return total
}

// deliveryTimeout reads the ISO 8601 timeout pkg/compile writes ("PT5M", "PT420S").
func deliveryTimeout(t *testing.T, d *eventingduckv1.DeliverySpec) time.Duration {
	t.Helper()
	if d == nil || d.Timeout == nil {
		t.Fatal("delivery without a timeout")
	}
	iso, ok := strings.CutPrefix(*d.Timeout, "PT")
	timeout, err := time.ParseDuration(strings.ToLower(iso))
	if !ok || err != nil {
		t.Fatalf("delivery timeout %q is not PT<n>S or PT<n>M", *d.Timeout)
	}
	return timeout
}

// loadAgreementSensors reads the Sensors of a multi-document YAML file by name.
func loadAgreementSensors(t *testing.T, path string) map[string]*v1alpha1.Sensor {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*v1alpha1.Sensor{}
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		if strings.TrimSpace(doc) == "" || !strings.Contains(doc, "kind: Sensor") {
			continue
		}
		s := &v1alpha1.Sensor{}
		if err := yaml.UnmarshalStrict([]byte(doc), s); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[s.Name] = s
	}
	return out
}

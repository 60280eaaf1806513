package dispatcher

import (
	"slices"
	"testing"
	"time"

	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"
)

func ptr[T any](v T) *T { return &v }

func TestParseDelivery(t *testing.T) {
	t.Parallel()
	dls := &pkgduckv1.Destination{URI: apis.HTTP("dls.example")}
	tests := []struct {
		name    string
		spec    *duckv1.DeliverySpec
		want    Delivery
		wantErr string
	}{
		{name: "nil", spec: nil, want: Delivery{}},
		{name: "full", spec: &duckv1.DeliverySpec{
			Retry: ptr(int32(3)), BackoffPolicy: ptr(duckv1.BackoffPolicyLinear), BackoffDelay: ptr("PT0.2S"),
			Timeout: ptr("PT5S"), DeadLetterSink: dls,
		}, want: Delivery{Retry: 3, BackoffPolicy: duckv1.BackoffPolicyLinear, BackoffDelay: 200 * time.Millisecond, Timeout: 5 * time.Second}},
		{name: "delay without policy is exponential", spec: &duckv1.DeliverySpec{BackoffDelay: ptr("PT1S")},
			want: Delivery{BackoffPolicy: duckv1.BackoffPolicyExponential, BackoffDelay: time.Second}},
		{name: "format and retryAfterMax", spec: &duckv1.DeliverySpec{Format: ptr(duckv1.DeliveryFormatJson), RetryAfterMax: ptr("PT30S")},
			want: Delivery{Structured: true, RetryAfterMax: 30 * time.Second}},
		{name: "retryAfterMax PT0S disables", spec: &duckv1.DeliverySpec{RetryAfterMax: ptr("PT0S")}, want: Delivery{}},
		{name: "bad format", spec: &duckv1.DeliverySpec{Format: ptr(duckv1.FormatType("xml"))}, wantErr: "format"},
		{name: "bad retryAfterMax", spec: &duckv1.DeliverySpec{RetryAfterMax: ptr("30s")}, wantErr: "retryAfterMax"},
		{name: "negative retry", spec: &duckv1.DeliverySpec{Retry: ptr(int32(-1))}, wantErr: "retry"},
		{name: "bad policy", spec: &duckv1.DeliverySpec{BackoffPolicy: ptr(duckv1.BackoffPolicyType("random"))}, wantErr: "backoffPolicy"},
		{name: "bad delay", spec: &duckv1.DeliverySpec{BackoffDelay: ptr("200ms")}, wantErr: "backoffDelay"},
		{name: "zero timeout", spec: &duckv1.DeliverySpec{Timeout: ptr("PT0S")}, wantErr: "timeout"},
		{name: "ref-only dead-letter sink", spec: &duckv1.DeliverySpec{DeadLetterSink: &pkgduckv1.Destination{
			Ref: &pkgduckv1.KReference{Kind: "Service", Name: "x"}}}, wantErr: "deadLetterSink.ref"},
		{name: "relative dead-letter sink", spec: &duckv1.DeliverySpec{DeadLetterSink: &pkgduckv1.Destination{
			URI: &apis.URL{Path: "/x"}}}, wantErr: "deadLetterSink.uri"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDelivery(tc.spec)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseDelivery = %+v, want a problem at %q", got, tc.wantErr)
				}
				if problems := err.WrappedErrors(); len(problems) != 1 || !slices.Equal(problems[0].Paths, []string{tc.wantErr}) {
					t.Fatalf("error = %q, want one problem at %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.spec != nil && tc.spec.DeadLetterSink != nil {
				if got.DeadLetterSink == nil || got.DeadLetterSink.String() != "http://dls.example" {
					t.Fatalf("dead-letter sink = %v", got.DeadLetterSink)
				}
				got.DeadLetterSink = nil
			}
			if got != tc.want {
				t.Fatalf("ParseDelivery = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseDeliveryReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := ParseDelivery(&duckv1.DeliverySpec{
		Retry: ptr(int32(-1)), BackoffDelay: ptr("200ms"), Format: ptr(duckv1.FormatType("xml")),
		DeadLetterSink: &pkgduckv1.Destination{URI: &apis.URL{Path: "/x"}},
	})
	want := `invalid value: -1: retry
must not be negative
invalid value: /x: deadLetterSink.uri
must be an absolute http(s) URL
invalid value: 200ms: backoffDelay
` + mustBeDuration + `
invalid value: xml: format
must be json or binary`
	if err == nil || err.Error() != want {
		t.Errorf("ParseDelivery error =\n%v\nwant\n%s", err, want)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	const d = 100 * time.Millisecond
	tests := []struct {
		policy duckv1.BackoffPolicyType
		delay  time.Duration
		n      int
		want   time.Duration
	}{
		{duckv1.BackoffPolicyLinear, d, 1, d},
		{duckv1.BackoffPolicyLinear, d, 3, 3 * d},
		{duckv1.BackoffPolicyExponential, d, 1, d},
		{duckv1.BackoffPolicyExponential, d, 2, 2 * d},
		{duckv1.BackoffPolicyExponential, d, 4, 8 * d},
		{duckv1.BackoffPolicyExponential, d, 100, DefaultMaxBackoff},
		{duckv1.BackoffPolicyExponential, d, 10, 512 * d}, // 51.2 s; the next is capped
		{duckv1.BackoffPolicyExponential, d, 11, DefaultMaxBackoff},
		{duckv1.BackoffPolicyExponential, time.Hour, 40, DefaultMaxBackoff},
		{duckv1.BackoffPolicyLinear, d, 1 << 40, DefaultMaxBackoff},
		{duckv1.BackoffPolicyExponential, 0, 3, 0},
		{"", d, 3, 4 * d},
	}
	for _, tc := range tests {
		got := Delivery{BackoffPolicy: tc.policy, BackoffDelay: tc.delay}.backoff(tc.n)
		if got != tc.want {
			t.Errorf("backoff(%s, %s, %d) = %s, want %s", tc.policy, tc.delay, tc.n, got, tc.want)
		}
	}
}

func TestMaxDeliver(t *testing.T) {
	t.Parallel()
	sink := mustURL(t, "http://dls")
	tests := []struct {
		d    Delivery
		want int
	}{
		{Delivery{}, 1},
		{Delivery{Retry: 2}, 3},
		{Delivery{DeadLetterSink: sink}, 4},
		{Delivery{Retry: 4, DeadLetterSink: sink}, 10},
	}
	for _, tc := range tests {
		if got := tc.d.maxDeliver(); got != tc.want {
			t.Errorf("maxDeliver(retry %d, dls %v) = %d, want %d", tc.d.Retry, tc.d.DeadLetterSink != nil, got, tc.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]bool{
		0: true, 500: true, 502: true, 503: true, 599: true, 404: true, 408: true, 409: true, 429: true, 700: true,
		400: false, 401: false, 403: false, 405: false, 413: false, 422: false, 301: false, 302: false, 100: false,
	} {
		if got := retryable(code); got != want {
			t.Errorf("retryable(%d) = %v, want %v", code, got, want)
		}
	}
}

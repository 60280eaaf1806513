package dispatcher

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	"knative.dev/pkg/apis"
)

// DefaultMaxBackoff caps a computed retry delay when Delivery.MaxBackoff is not set:
// exponential backoff grows to a minute and stays there, so a subscriber back from an
// outage gets its events within a minute.
const DefaultMaxBackoff = time.Minute

// mustBeDuration is why a backoffDelay or timeout is refused.
const mustBeDuration = "must be a positive ISO-8601 duration such as PT0.2S or P1DT2H"

// Delivery is a parsed Knative DeliverySpec: how often and how patiently a trigger's
// subscriber is tried, and where events go when it keeps failing.
type Delivery struct {
	// Retry is the number of retries after the first attempt.
	Retry int
	// BackoffPolicy is duckv1.BackoffPolicyLinear or duckv1.BackoffPolicyExponential;
	// empty (or no BackoffDelay) means retry without delay.
	BackoffPolicy duckv1.BackoffPolicyType
	// BackoffDelay is the base delay of the backoff policy.
	BackoffDelay time.Duration
	// Timeout bounds one attempt; 0 means the dispatcher's default.
	Timeout time.Duration
	// DeadLetterSink receives events that could not be delivered; nil drops them with a log line.
	DeadLetterSink *url.URL
	// Structured sends events in structured mode (format: json) instead of binary mode.
	Structured bool
	// RetryAfterMax caps how long a Retry-After header on a 429 or 503 may delay the next
	// attempt; 0 ignores the header.
	RetryAfterMax time.Duration
	// MaxBackoff caps the backoff between retries; 0 means DefaultMaxBackoff. It is not
	// part of a DeliverySpec: the dispatcher sets it from its configuration.
	MaxBackoff time.Duration
}

// ParseDelivery reads a DeliverySpec; nil means no retries and no dead-letter sink.
// It reports every problem, with paths relative to the spec (e.g. "backoffDelay");
// the caller puts in where the spec sits.
func ParseDelivery(spec *duckv1.DeliverySpec) (Delivery, *apis.FieldError) {
	var d Delivery
	if spec == nil {
		return d, nil
	}
	var errs *apis.FieldError
	if spec.Retry != nil {
		if *spec.Retry < 0 {
			errs = errs.Also(apis.ErrInvalidValue(*spec.Retry, "retry", "must not be negative"))
		}
		d.Retry = int(*spec.Retry)
	}
	if spec.BackoffPolicy != nil {
		switch p := *spec.BackoffPolicy; p {
		case duckv1.BackoffPolicyLinear, duckv1.BackoffPolicyExponential:
			d.BackoffPolicy = p
		default:
			errs = errs.Also(apis.ErrInvalidValue(p, "backoffPolicy", "must be linear or exponential"))
		}
	}
	var err error
	if spec.BackoffDelay != nil {
		if d.BackoffDelay, err = parseDuration(*spec.BackoffDelay); err != nil {
			errs = errs.Also(apis.ErrInvalidValue(*spec.BackoffDelay, "backoffDelay", mustBeDuration))
		}
		if d.BackoffPolicy == "" {
			d.BackoffPolicy = duckv1.BackoffPolicyExponential
		}
	}
	if spec.Timeout != nil {
		if d.Timeout, err = parseDuration(*spec.Timeout); err != nil {
			errs = errs.Also(apis.ErrInvalidValue(*spec.Timeout, "timeout", mustBeDuration))
		}
	}
	if spec.RetryAfterMax != nil {
		if d.RetryAfterMax, err = parseISO(*spec.RetryAfterMax); err != nil || d.RetryAfterMax < 0 {
			errs = errs.Also(apis.ErrInvalidValue(*spec.RetryAfterMax, "retryAfterMax", "must be an ISO-8601 duration such as PT30S"))
		}
	}
	if spec.Format != nil {
		switch f := *spec.Format; f {
		case duckv1.DeliveryFormatJson:
			d.Structured = true
		case duckv1.DeliveryFormatBinary:
		default:
			errs = errs.Also(apis.ErrInvalidValue(f, "format", "must be json or binary"))
		}
	}
	if dls := spec.DeadLetterSink; dls != nil {
		if dls.URI == nil {
			errs = errs.Also(apis.ErrGeneric("a reference cannot be resolved outside a cluster, set deadLetterSink.uri", "deadLetterSink.ref"))
		} else if d.DeadLetterSink, err = absoluteURL(dls.URI.String()); err != nil {
			errs = errs.Also(apis.ErrInvalidValue(dls.URI.String(), "deadLetterSink.uri", err.Error()))
		}
	}
	if errs != nil {
		return Delivery{}, errs
	}
	return d, nil
}

// IsEmpty reports whether spec sets no delivery option at all, in which case the
// broker's spec.delivery applies instead.
func IsEmpty(spec *duckv1.DeliverySpec) bool {
	return spec == nil || (spec.DeadLetterSink == nil && spec.Retry == nil && spec.Timeout == nil &&
		spec.BackoffPolicy == nil && spec.BackoffDelay == nil && spec.RetryAfterMax == nil && spec.Format == nil)
}

// absoluteURL parses an http(s) URL with a host.
func absoluteURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("must be an absolute http(s) URL")
	}
	return u, nil
}

// backoff is the delay before retry number n (1 for the first retry): linear waits
// delay*n, exponential delay*2^(n-1), so both wait delay before the first retry; both
// are capped at MaxBackoff.
func (d Delivery) backoff(n int) time.Duration {
	if d.BackoffDelay <= 0 || n < 1 {
		return 0
	}
	limit := d.MaxBackoff
	if limit <= 0 {
		limit = DefaultMaxBackoff
	}
	var b time.Duration
	switch d.BackoffPolicy {
	case duckv1.BackoffPolicyLinear:
		if n > int(limit/d.BackoffDelay) {
			return limit
		}
		b = d.BackoffDelay * time.Duration(n)
	default:
		if n > 62 {
			return limit
		}
		b = d.BackoffDelay << (n - 1)
		if b>>(n-1) != d.BackoffDelay {
			return limit // overflowed
		}
	}
	if b <= 0 || b > limit {
		return limit
	}
	return b
}

// retryDelay is the wait before retry number n after out: the backoff, or a longer
// Retry-After the subscriber asked for on a 429 or 503, capped at RetryAfterMax.
func (d Delivery) retryDelay(n int, out outcome) time.Duration {
	delay := d.backoff(n)
	if d.RetryAfterMax > 0 && out.retryAfter > delay {
		delay = min(out.retryAfter, d.RetryAfterMax)
	}
	return delay
}

// attempts is how many times the subscriber is tried.
func (d Delivery) attempts() int { return d.Retry + 1 }

// maxDeliver is how many deliveries of an event try its subscriber and then its
// dead-letter sink: the subscriber attempts, plus as many tries (at least 3) for the
// dead-letter sink when there is one. Past it the event goes to the broker's
// dead-letter stream.
func (d Delivery) maxDeliver() int {
	if d.DeadLetterSink == nil {
		return d.attempts()
	}
	return d.attempts() + max(d.attempts(), 3)
}

// retryable is the Knative retry table: no response, 5xx, 404, 408, 409 and 429 are
// retried; 1xx, 3xx and other 4xx are not; unknown codes are.
func retryable(code int) bool {
	switch {
	case code == 0, code >= 500:
		return true
	case code == http.StatusNotFound, code == http.StatusRequestTimeout,
		code == http.StatusConflict, code == http.StatusTooManyRequests:
		return true
	case code >= 100 && code < 500:
		return false
	}
	return true
}

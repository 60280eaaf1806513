package metrics

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Broker holds the metric families of the broker data plane, with Knative's
// names (event_count, event_dispatch_latencies) and labels. The ingress
// counts with an empty trigger_name; a response_code of 0 means no response.
type Broker struct {
	count        *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	filtered     *prometheus.CounterVec
	deadLettered *prometheus.CounterVec
}

func newBroker(reg prometheus.Registerer) *Broker {
	coded := []string{LabelNamespace, LabelBroker, LabelTrigger, LabelResponseCode, LabelResponseCodeClass}
	plain := []string{LabelNamespace, LabelBroker, LabelTrigger}
	b := &Broker{
		count: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "event_count",
			Help: "Events received by a broker ingress (trigger_name empty) or dispatched to a trigger's subscriber, by response code."}, coded),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "event_dispatch_latencies",
			Help: "Time to store an event (ingress) or to deliver it to a trigger's subscriber, in milliseconds.", Buckets: latencyBuckets}, coded),
		filtered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flint_broker_events_filtered_total",
			Help: "Events a trigger's filter did not pass."}, plain),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flint_broker_events_dead_lettered_total",
			Help: "Events a trigger gave up on, kept by its dead-letter sink or its broker's dead-letter stream."}, plain),
	}
	reg.MustRegister(b.count, b.latency, b.filtered, b.deadLettered)
	return b
}

// maxCode bounds the response codes that have a slot in a BrokerTarget; others share slot 0.
const maxCode = 600

// BrokerTarget is the metrics of one broker ingress or one trigger. The
// children of each response code are resolved on first use and kept, so a
// dispatch costs no label lookup.
type BrokerTarget struct {
	b                        *Broker
	namespace, broker, trigg string
	filtered, deadLettered   prometheus.Counter
	codes                    [maxCode]atomic.Pointer[codeMetrics]
}

type codeMetrics struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// Ingress resolves the metrics of a broker's ingress. A nil Broker yields a
// nil BrokerTarget, whose methods do nothing.
func (b *Broker) Ingress(namespace, broker string) *BrokerTarget {
	if b == nil {
		return nil
	}
	// An ingress filters and dead-letters nothing: it has no children of those families.
	return &BrokerTarget{b: b, namespace: namespace, broker: broker}
}

// Trigger resolves the metrics of a trigger of a broker. A nil Broker yields
// a nil BrokerTarget, whose methods do nothing.
func (b *Broker) Trigger(namespace, broker, trigger string) *BrokerTarget {
	if b == nil {
		return nil
	}
	return &BrokerTarget{
		b: b, namespace: namespace, broker: broker, trigg: trigger,
		filtered:     b.filtered.WithLabelValues(namespace, broker, trigger),
		deadLettered: b.deadLettered.WithLabelValues(namespace, broker, trigger),
	}
}

// Dispatched counts an event answered with code (0: no response) since start.
func (t *BrokerTarget) Dispatched(code int, start time.Time) {
	if t == nil {
		return
	}
	slot := code
	if slot < 0 || slot >= maxCode {
		slot = 0
	}
	m := t.codes[slot].Load()
	if m == nil {
		c := strconv.Itoa(slot)
		m = &codeMetrics{
			count:   t.b.count.WithLabelValues(t.namespace, t.broker, t.trigg, c, codeClass(slot)),
			latency: t.b.latency.WithLabelValues(t.namespace, t.broker, t.trigg, c, codeClass(slot)),
		}
		t.codes[slot].Store(m)
	}
	m.count.Inc()
	m.latency.Observe(sinceMillis(start))
}

// Filtered counts an event the trigger's filter did not pass.
func (t *BrokerTarget) Filtered() {
	if t != nil && t.filtered != nil {
		t.filtered.Inc()
	}
}

// DeadLettered counts an event the trigger gave up on.
func (t *BrokerTarget) DeadLettered() {
	if t != nil && t.deadLettered != nil {
		t.deadLettered.Inc()
	}
}

// codeClass is Knative's response_code_class: "2xx", "5xx", … and "0xx" for no response.
func codeClass(code int) string {
	return strconv.Itoa(code/100) + "xx"
}

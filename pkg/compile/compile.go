// Package compile turns Argo Events objects into the Knative object graph
// that runs them: the Brokers their eventBusName references, one Trigger per
// distinct event a Sensor depends on, and where each source and sensor sends
// and receives. flint dev runs this graph in process and a cluster
// deployment applies it, so the two never drift.
package compile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

const (
	// DefaultName is the namespace of objects that name none and the broker
	// of those whose eventBusName is empty.
	DefaultName = "default"
	// BrokerClassAnnotation is the annotation that selects a Broker's implementation.
	BrokerClassAnnotation = "eventing.knative.dev/broker.class"
	// BrokerClass is flint's JetStream-backed broker class, set on the Brokers Compile adds.
	BrokerClass = "flint-jetstream"

	eventingAPIVersion = "eventing.knative.dev/v1"
	servingAPIVersion  = "serving.knative.dev/v1"
)

// Input is the Argo and Knative objects to compile, as read from manifests
// (defaults applied, validated).
type Input struct {
	EventSources []*v1alpha1.EventSource
	Sensors      []*v1alpha1.Sensor
	Brokers      []*eventingv1.Broker
	Triggers     []*eventingv1.Trigger
}

// Options says where the compiled graph's sensors are reached: SensorRef
// when set, else SensorURL.
type Options struct {
	// SensorURL is the subscriber URI of a sensor's Triggers (flint dev: a loopback URL; a
	// cluster: the sensor's Knative Service address, e.g. http://<name>.<ns>.svc.cluster.local).
	SensorURL func(namespace, sensor string) *apis.URL
	// SensorRef, when set, is the subscriber reference of a sensor's Triggers
	// instead (a cluster: the sensor's Knative Service, see ServiceRef).
	SensorRef func(namespace, sensor string) *duckv1.KReference
}

// ServiceRef is the Options.SensorRef of a cluster: the Knative Service that
// `kn func deploy` creates for the sensor, named SensorServiceName.
func ServiceRef(namespace, sensor string) *duckv1.KReference {
	return &duckv1.KReference{APIVersion: servingAPIVersion, Kind: "Service", Namespace: namespace, Name: SensorServiceName(sensor)}
}

// subscriber is the destination of the Triggers that feed a sensor.
func (o Options) subscriber(ns, sensor string) (duckv1.Destination, error) {
	if o.SensorRef != nil {
		if ref := o.SensorRef(ns, sensor); ref != nil {
			return duckv1.Destination{Ref: ref}, nil
		}
		return duckv1.Destination{}, fmt.Errorf("compiling sensor %s/%s: no subscriber reference", ns, sensor)
	}
	if uri := o.SensorURL(ns, sensor); uri != nil {
		return duckv1.Destination{URI: uri}, nil
	}
	return duckv1.Destination{}, fmt.Errorf("compiling sensor %s/%s: no subscriber URL", ns, sensor)
}

// Sensor is one compiled Sensor: the broker it listens on, the path it is
// served at in one process, and the names of the Triggers that feed it.
type Sensor struct {
	Sensor *v1alpha1.Sensor
	// Namespace and Broker locate the broker the sensor's Triggers subscribe to.
	Namespace, Broker string
	// Path is "/<namespace>/<name>".
	Path string
	// Triggers names the sensor's Triggers, in dependency order.
	Triggers []string
}

// Source is one adapter to run: one type key of one EventSource.
type Source struct {
	EventSource *v1alpha1.EventSource
	// Key is the type key, e.g. "webhook".
	Key string
	// Namespace and Broker locate the broker the source emits into.
	Namespace, Broker string
	// SinkPath is the broker ingress path, "/<namespace>/<broker>".
	SinkPath string
}

// Graph is the Knative object graph of an Input.
type Graph struct {
	// Brokers are the declared Brokers (of class flint-jetstream when they
	// name none), then one of that class per referenced eventBusName that
	// none declares, and default/default always.
	Brokers []*eventingv1.Broker
	// Triggers are the declared Triggers, then those feeding each sensor.
	Triggers []*eventingv1.Trigger
	Sensors  []Sensor
	Sources  []Source
}

// Compile builds the graph of in. Every Trigger it adds feeds one sensor with
// the events of one (eventSourceName, eventName) pair of its dependencies,
// filtering on the CloudEvent source and subject, with the sensor's delivery
// spec (see Delivery) and a name that is a valid DNS-1123 label unique in
// its namespace (see TriggerName). The result depends only on in.
func Compile(in Input, opts Options) (*Graph, error) {
	if opts.SensorURL == nil && opts.SensorRef == nil {
		return nil, fmt.Errorf("compiling: neither Options.SensorURL nor Options.SensorRef is set")
	}
	g := &Graph{Triggers: append([]*eventingv1.Trigger(nil), in.Triggers...)}
	g.Brokers = brokers(in)

	taken := map[string]bool{} // namespace/name of every Trigger
	for _, t := range in.Triggers {
		taken[namespace(t.Namespace)+"/"+t.Name] = true
	}
	for _, es := range in.EventSources {
		ns, br := namespace(es.Namespace), busName(es.Spec.EventBusName)
		for _, key := range es.Spec.TypeKeys() {
			g.Sources = append(g.Sources, Source{EventSource: es, Key: key, Namespace: ns, Broker: br,
				SinkPath: "/" + ns + "/" + br})
		}
	}
	for _, s := range in.Sensors {
		ns, br := namespace(s.Namespace), busName(s.Spec.EventBusName)
		sub, err := opts.subscriber(ns, s.Name)
		if err != nil {
			return nil, err
		}
		cs := Sensor{Sensor: s, Namespace: ns, Broker: br, Path: "/" + ns + "/" + s.Name}
		delivery := Delivery(s)
		seen := map[[2]string]bool{}
		for _, d := range s.Spec.Dependencies {
			pair := [2]string{d.EventSourceName, d.EventName}
			if seen[pair] {
				continue
			}
			seen[pair] = true
			name := uniqueName(TriggerName(s.Name, d.Name), s.Name+"-"+d.Name, ns, taken)
			cs.Triggers = append(cs.Triggers, name)
			g.Triggers = append(g.Triggers, &eventingv1.Trigger{
				TypeMeta:   metav1.TypeMeta{APIVersion: eventingAPIVersion, Kind: "Trigger"},
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: eventingv1.TriggerSpec{
					Broker: br,
					Filter: &eventingv1.TriggerFilter{Attributes: eventingv1.TriggerFilterAttributes{
						"source":  d.EventSourceName,
						"subject": d.EventName,
					}},
					Subscriber: *sub.DeepCopy(),
					Delivery:   delivery.DeepCopy(),
				},
			})
		}
		g.Sensors = append(g.Sensors, cs)
	}
	return g, nil
}

// brokers returns the declared brokers plus one for every referenced broker
// that none declares, sorted by namespace/name.
func brokers(in Input) []*eventingv1.Broker {
	refs := map[[2]string]bool{{DefaultName, DefaultName}: true}
	for _, es := range in.EventSources {
		refs[[2]string{namespace(es.Namespace), busName(es.Spec.EventBusName)}] = true
	}
	for _, s := range in.Sensors {
		refs[[2]string{namespace(s.Namespace), busName(s.Spec.EventBusName)}] = true
	}
	out := make([]*eventingv1.Broker, 0, len(in.Brokers)+len(refs))
	for _, b := range in.Brokers {
		delete(refs, [2]string{namespace(b.Namespace), b.Name})
		if _, ok := b.Annotations[BrokerClassAnnotation]; !ok {
			b = b.DeepCopy()
			if b.Annotations == nil {
				b.Annotations = map[string]string{}
			}
			b.Annotations[BrokerClassAnnotation] = BrokerClass
		}
		out = append(out, b)
	}
	implicit := make([][2]string, 0, len(refs))
	for r := range refs {
		implicit = append(implicit, r)
	}
	sort.Slice(implicit, func(i, j int) bool {
		return implicit[i][0] < implicit[j][0] || (implicit[i][0] == implicit[j][0] && implicit[i][1] < implicit[j][1])
	})
	for _, r := range implicit {
		out = append(out, &eventingv1.Broker{
			TypeMeta: metav1.TypeMeta{APIVersion: eventingAPIVersion, Kind: "Broker"},
			ObjectMeta: metav1.ObjectMeta{Namespace: r[0], Name: r[1],
				Annotations: map[string]string{BrokerClassAnnotation: BrokerClass}},
		})
	}
	return out
}

// maxNameLength is the longest DNS-1123 label.
const maxNameLength = 63

// TriggerName is the name of the Trigger that feeds sensor with the events of
// its dependency: "<sensor>-<dependency>" when that is a DNS-1123 label of at
// most 63 characters; otherwise that string lower-cased, with every character
// other than a-z, 0-9 and '-' replaced by '-', cut to fit, and suffixed with
// "-" and 8 hex digits of its SHA-256, so that distinct names stay distinct.
func TriggerName(sensor, dependency string) string {
	return labelName(sensor + "-" + dependency)
}

func labelName(raw string) string {
	return shortName(raw, maxNameLength)
}

// maxServiceNameLength is the longest Knative Service name whose revisions
// ("<name>-00001") and their private Kubernetes Services
// ("<name>-00001-private") still have names of at most 63 characters.
const maxServiceNameLength = maxNameLength - len("-00001-private")

// SensorServiceName is the name of a sensor's Knative Service and kn func
// function: the sensor's name when it is a DNS-1123 label of at most 49
// characters, otherwise a label made from it as TriggerName does.
func SensorServiceName(sensor string) string {
	return shortName(sensor, maxServiceNameLength)
}

// SourceServiceName is the name of the Knative Service that runs the entries
// of one type key of an EventSource: "<eventSource>-<typeKey>" lower-cased,
// made a label of at most 49 characters as SensorServiceName does.
func SourceServiceName(eventSource, typeKey string) string {
	return shortName(strings.ToLower(eventSource+"-"+typeKey), maxServiceNameLength)
}

// shortName is raw when it is a DNS-1123 label of at most limit characters,
// otherwise raw sanitised, cut and suffixed with a hash of raw.
func shortName(raw string, limit int) string {
	clean := sanitize(raw)
	if clean == raw && len(clean) <= limit {
		return clean
	}
	return withHashMax(clean, raw, limit)
}

// sanitize lower-cases raw, replaces every character other than a-z, 0-9 and
// '-' with '-' and trims the dashes at both ends.
func sanitize(raw string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(raw) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// withHash cuts prefix to leave room for "-" and a hash of raw.
func withHash(prefix, raw string) string {
	return withHashMax(prefix, raw, maxNameLength)
}

// withHashMax cuts prefix so that it, "-" and a hash of raw fit in limit characters.
func withHashMax(prefix, raw string, limit int) string {
	sum := sha256.Sum256([]byte(raw))
	suffix := hex.EncodeToString(sum[:4])
	if len(prefix) > limit-len(suffix)-1 {
		prefix = strings.TrimRight(prefix[:limit-len(suffix)-1], "-")
	}
	if prefix == "" {
		return "t-" + suffix
	}
	return prefix + "-" + suffix
}

// uniqueName returns name, or, when a Trigger of the namespace already has
// it, a name hashed from raw and a counter; it records the name as taken.
func uniqueName(name, raw, ns string, taken map[string]bool) string {
	for i := 1; taken[ns+"/"+name]; i++ {
		name = withHash(sanitize(raw), fmt.Sprintf("%s#%d", raw, i))
	}
	taken[ns+"/"+name] = true
	return name
}

func namespace(ns string) string {
	if ns == "" {
		return DefaultName
	}
	return ns
}

func busName(name string) string {
	if name == "" {
		return DefaultName
	}
	return name
}

package compile

import (
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
)

// Defaults of the cluster objects Cluster writes.
const (
	// DefaultClusterDomain is the DNS domain of a cluster's Services unless
	// ClusterOptions say otherwise.
	DefaultClusterDomain = "cluster.local"
	// DefaultBrokerIngress is the base URL of flint's broker ingress as
	// config/ installs it; a broker is reached at "<base>/<namespace>/<broker>".
	DefaultBrokerIngress = "http://broker-ingress.flint-system.svc." + DefaultClusterDomain
	// SourceImagePrefix is the ko import path of the source images; the
	// image of a type is "<SourceImagePrefix>/<type in lower case>" (see
	// SourceImageName).
	SourceImagePrefix = "ko://github.com/flintevents/flint/sources/cmd"
	// PushSourceTarget is the concurrency target of a push source's pods:
	// requests are short (a source answers once the broker stored the
	// event), so one pod takes many at once before Knative adds another.
	PushSourceTarget = 100

	// EventSourceDir is where a source's EventSource YAML is mounted.
	EventSourceDir = "/etc/flint/eventsource"
	// EventSourceKey is the ConfigMap key and file name of the EventSource YAML.
	EventSourceKey = "eventsource.yaml"
	// SecretsDir is where the Secrets an object references are mounted, one
	// directory per Secret, as FLINT_SECRETS_DIR reads them.
	SecretsDir = "/var/run/flint/secrets"
	// DefaultNATSURL is the NATS that config/ installs, whose JetStream
	// keeps every sensor function's condition state and idempotency keys.
	DefaultNATSURL = "nats://nats.flint-system.svc." + DefaultClusterDomain + ":4222"

	// Labels set on every object Cluster writes.
	LabelPartOf      = "app.kubernetes.io/part-of"
	LabelEventSource = "flintevents.io/eventsource"
	LabelSourceType  = "flintevents.io/eventsource-type"
	LabelSensor      = "flintevents.io/sensor"

	annotationMinScale = "autoscaling.knative.dev/min-scale"
	annotationMaxScale = "autoscaling.knative.dev/max-scale"
	annotationTarget   = "autoscaling.knative.dev/target"

	envEventSourceFile = "EVENTSOURCE_FILE"
	envSecretsDir      = "FLINT_SECRETS_DIR"
	envNATSURL         = "FLINT_NATS_URL"
	envSink            = "K_SINK"
	envEventNames      = "FLINT_EVENT_NAMES"
)

// ClusterOptions tune the objects Cluster writes.
type ClusterOptions struct {
	// ImageRepo, when set, names a source type's image "<ImageRepo>/<type>"
	// instead of its ko:// import path.
	ImageRepo string
	// BrokerIngress is the broker ingress base URL; when empty, that of
	// config/ in ClusterDomain (DefaultBrokerIngress in cluster.local).
	BrokerIngress string
	// ClusterDomain is the DNS domain of the cluster's Services, in the
	// address of the broker ingress; DefaultClusterDomain when empty.
	ClusterDomain string
}

// BrokerIngressIn is the base URL of the broker ingress config/ installs,
// in a cluster whose Services' DNS domain is domain.
func BrokerIngressIn(domain string) string {
	return "http://broker-ingress.flint-system.svc." + strings.Trim(domain, ".")
}

// NATSURLIn is the URL of the NATS config/ installs, in a cluster whose
// Services' DNS domain is domain.
func NATSURLIn(domain string) string {
	return "nats://nats.flint-system.svc." + strings.Trim(domain, ".") + ":4222"
}

// Cluster returns the objects a cluster applies to run g: its Brokers, for
// every source a ConfigMap holding its EventSource, Knative Services running
// the type's image (one, or more when entries share an endpoint on different
// ports; see sourceServices) and, for sources whose type needs rights in the
// cluster (sources.Type.RBAC), a ServiceAccount with those rights, and for
// sources whose entries manage hooks the
// Jobs that register and (under TeardownDir) remove them; for every sensor
// whose triggers act on the cluster a
// ServiceAccount with the rights they use (see SensorServiceAccount); then
// g's Triggers. The sensors themselves are kn func projects (see Function).
// A push source that serves TLS itself is refused (PushTLSReason), and so is
// a source whose type key no registered source type serves. The
// objects come in a fixed order that depends only on g and opts.
func Cluster(g *Graph, opts ClusterOptions) ([]Object, error) {
	if opts.ClusterDomain == "" {
		opts.ClusterDomain = DefaultClusterDomain
	}
	if opts.BrokerIngress == "" {
		opts.BrokerIngress = BrokerIngressIn(opts.ClusterDomain)
	}
	var out []Object
	for _, b := range g.Brokers {
		out = append(out, Object{Value: b, Comment: fmt.Sprintf(
			"Broker %s carries the events of the EventSources and Sensors whose eventBusName is %q.\n"+
				"Its class %s is flint's NATS JetStream broker (installed by config/).", b.Name, b.Name, b.Annotations[BrokerClassAnnotation])})
	}
	services := map[string]string{} // namespace/name of every Knative Service -> what it runs
	for _, s := range g.Sensors {
		services[s.Namespace+"/"+SensorServiceName(s.Sensor.Name)] = "sensor " + s.Sensor.Name
	}
	configMaps := map[string]bool{}
	var errs *apis.FieldError
	for _, src := range g.Sources {
		typ, ok := sources.Lookup(src.Key)
		if !ok {
			errs = errs.Also(&apis.FieldError{
				Message: fmt.Sprintf("not runnable yet: event source type %q (runnable: %s)", src.Key, strings.Join(sources.Keys(), ", ")),
				Paths:   []string{src.Key},
				Details: fmt.Sprintf("EventSource %s/%s", src.Namespace, src.EventSource.Name),
			}).ViaField("spec")
			continue
		}
		if tls := pushTLS(src.EventSource, src.Key); tls != nil {
			errs = errs.Also(tls.ViaField("spec"))
			continue
		}
		svcs, err := sourceServices(src, typ.Kind)
		if err != nil {
			errs = errs.Also(fieldError(err).ViaField("spec"))
			continue
		}
		wake := ""
		if typ.Kind == sources.Pull && typ.Backlog && !keptWarm(src.EventSource.Annotations) {
			var fe *apis.FieldError
			if wake, fe = wakeSchedule(src.EventSource.Annotations); fe != nil {
				errs = errs.Also(fe)
				continue
			}
		}
		for _, svc := range svcs {
			key := src.Namespace + "/" + svc.name
			if other, taken := services[key]; taken {
				return nil, fmt.Errorf("compiling eventsource %s/%s: its %s Knative Service %s has the name of the one of %s",
					src.Namespace, src.EventSource.Name, src.Key, svc.name, other)
			}
			services[key] = "eventsource " + src.EventSource.Name
		}
		cm := configMapName(src.EventSource.Name)
		if !configMaps[src.Namespace+"/"+cm] {
			configMaps[src.Namespace+"/"+cm] = true
			obj, err := eventSourceConfigMap(src, cm)
			if err != nil {
				return nil, err
			}
			out = append(out, obj)
		}
		var objs []Object
		for _, svc := range svcs {
			objs = append(objs, sourceObjects(src, typ, svc, cm, wake, opts)...)
		}
		out = append(out, objs...)
		jobs, err := hookJobs(src, typ.Hooks, objs)
		if err != nil {
			return nil, err
		}
		out = append(out, jobs...)
	}
	if errs != nil {
		return nil, errs
	}
	for _, s := range g.Sensors {
		out = append(out, sensorRBAC(s)...)
	}
	for _, t := range g.Triggers {
		comment := fmt.Sprintf("Trigger %s of broker %s.", t.Name, t.Spec.Broker)
		if f := t.Spec.Filter; f != nil && f.Attributes["source"] != "" {
			comment = fmt.Sprintf("Trigger %s delivers the events %s of EventSource %s from broker %s\n"+
				"to the sensor's Knative Service (deployed with `kn func deploy`), retrying as the delivery spec says.",
				t.Name, f.Attributes["subject"], f.Attributes["source"], t.Spec.Broker)
		}
		out = append(out, Object{Value: t, Comment: comment})
	}
	return out, nil
}

func fieldError(err error) *apis.FieldError {
	if fe, ok := err.(*apis.FieldError); ok {
		return fe
	}
	return &apis.FieldError{Message: err.Error()}
}

// configMapName is the name of the ConfigMap holding an EventSource.
func configMapName(eventSource string) string {
	return shortName(strings.ToLower(eventSource+"-eventsource"), maxNameLength)
}

// eventSourceConfigMap holds the EventSource YAML that the source images read.
func eventSourceConfigMap(src Source, name string) (Object, error) {
	es := src.EventSource
	m, err := toMap(es)
	if err != nil {
		return Object{}, fmt.Errorf("encoding eventsource %s: %w", es.Name, err)
	}
	clean(m)
	setNamespace(m, src.Namespace)
	text, err := yaml.Marshal(m)
	if err != nil {
		return Object{}, fmt.Errorf("encoding eventsource %s: %w", es.Name, err)
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: objectMeta(name, src.Namespace, map[string]string{LabelEventSource: es.Name}),
		Data:       map[string]string{EventSourceKey: string(text)},
	}
	return Object{Value: cm, Comment: fmt.Sprintf(
		"The EventSource %s, read by each of its source Services from %s/%s.\n"+
			"Secret references stay references: the values are never written here.", es.Name, EventSourceDir, EventSourceKey)}, nil
}

// setNamespace sets metadata.namespace of an object map.
func setNamespace(m map[string]any, ns string) {
	md, ok := m["metadata"].(map[string]any)
	if !ok {
		md = map[string]any{}
		m["metadata"] = md
	}
	md["namespace"] = ns
}

func toMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(raw, &m)
	return m, err
}

func objectMeta(name, ns string, labels map[string]string) metav1.ObjectMeta {
	l := map[string]string{LabelPartOf: "flint"}
	for k, v := range labels {
		l[k] = v
	}
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: l}
}

// SourceImageName is the name of a source type's image, and of its command
// folder under sources/cmd: the type key in lower case, as an image
// reference allows no capitals (redisStream is redisstream).
func SourceImageName(key string) string { return strings.ToLower(key) }

// sourceObjects are one Knative Service of a source of type typ and, for
// types that need rights in the cluster, its ServiceAccount and RBAC; for a
// pull source woken on schedule wake, the PingSource that wakes it.
func sourceObjects(src Source, typ sources.Type, svc sourceService, configMap, wake string, opts ClusterOptions) []Object {
	es := src.EventSource
	name := svc.name
	labels := map[string]string{LabelEventSource: es.Name, LabelSourceType: src.Key}
	image := SourceImagePrefix + "/" + SourceImageName(src.Key)
	if opts.ImageRepo != "" {
		image = strings.TrimRight(opts.ImageRepo, "/") + "/" + SourceImageName(src.Key)
	}
	sink := strings.TrimRight(opts.BrokerIngress, "/") + src.SinkPath
	container := corev1.Container{
		Name:  "source",
		Image: image,
		Env: []corev1.EnvVar{
			{Name: envEventSourceFile, Value: path.Join(EventSourceDir, EventSourceKey)},
			{Name: envSink, Value: sink},
		},
		VolumeMounts:    []corev1.VolumeMount{{Name: "eventsource", MountPath: EventSourceDir, ReadOnly: true}},
		SecurityContext: restrictedSecurityContext(),
	}
	notes := []Note{{Key: "securityContext", Text: securityNote}}
	if len(svc.entries) > 0 {
		container.Env = append(container.Env, corev1.EnvVar{Name: envEventNames, Value: strings.Join(svc.entries, ",")})
		notes = append(notes, Note{Key: "name: " + envEventNames, Text: "" +
			"The entries this Service runs: others of the EventSource serve the same endpoint on another\n" +
			"port, and one port serves an endpoint once, so they run in a Service of their own."})
	}
	volumes := []corev1.Volume{{Name: "eventsource", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: configMap}},
	}}}
	if secrets := secretRefs(es, src.Key); len(secrets) > 0 {
		container.Env = append(container.Env, corev1.EnvVar{Name: envSecretsDir, Value: SecretsDir})
		for _, s := range secrets {
			vol := shortName("secret-"+s.name, maxNameLength)
			container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: path.Join(SecretsDir, s.name), ReadOnly: true})
			volumes = append(volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{
				Secret: &corev1.SecretVolumeSource{SecretName: s.name, Optional: optional(s.optional)},
			}})
		}
	}
	annotations := map[string]string{}
	switch typ.Kind {
	case sources.Push:
		container.Ports = []corev1.ContainerPort{{ContainerPort: int32(svc.port)}}
		annotations[annotationMinScale] = "0"
		annotations[annotationTarget] = strconv.Itoa(PushSourceTarget)
		notes = append(notes,
			Note{Key: annotationMinScale, Text: "A push source scales to zero: Knative holds the first request while a pod starts."},
			Note{Key: annotationTarget, Text: "Requests end once the broker stored the event, so one pod takes many at once."},
			Note{Key: "containerPort", Text: svc.portNote()})
	case sources.Pull:
		annotations[annotationMaxScale] = "1"
		switch {
		case !typ.Backlog:
			annotations[annotationMinScale] = "1"
			notes = append(notes, Note{Key: annotationMinScale, Text: "" +
				"A publish/subscribe origin keeps nothing for a reader that is away, so this source\n" +
				"cannot scale to zero without losing events: it runs always."})
		case wake == "":
			annotations[annotationMinScale] = "1"
			notes = append(notes, Note{Key: annotationMinScale, Text: "" +
				"The EventSource's min-scale keeps this pull source running: events go on as they\n" +
				"arrive, and one pod always runs."})
		default:
			annotations[annotationMinScale] = "0"
			container.Env = append(container.Env, corev1.EnvVar{Name: envWake, Value: DefaultWakeDrain.String()})
			notes = append(notes,
				Note{Key: annotationMinScale, Text: "" +
					"A pull source scales to zero: the PingSource below wakes it, and it reads its origin\n" +
					"only while a wake request lasts. An event waits " + WakeLatency(wake) + " at its origin."},
				Note{Key: "name: " + envWake, Text: "Each wake request drains the backlog for at most this long, then answers."})
		}
		notes = append(notes, Note{Key: annotationMaxScale, Text: "One pod: a second would read the same events and could emit them again."})
	default: // sources.Watch
		annotations[annotationMinScale] = "1"
		annotations[annotationMaxScale] = "1"
		notes = append(notes,
			Note{Key: annotationMinScale, Text: "A watch source receives no requests that could wake it: it runs always."},
			Note{Key: annotationMaxScale, Text: "One pod: a second would watch the same changes and emit them again."})
	}
	notes = append(notes, Note{Key: "name: " + envSink, Text: "" +
		"K_SINK is the broker's ingress URL, written out rather than bound with a SinkBinding:\n" +
		"flint's ingress has a fixed address (config/), so the source neither waits for the\n" +
		"Broker's status nor gets a second revision when eventing's webhook rewrites this Service."})
	ksvc := &servingv1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: servingAPIVersion, Kind: "Service"},
		ObjectMeta: objectMeta(name, src.Namespace, labels),
	}
	ksvc.Spec.Template.Annotations = annotations
	ksvc.Spec.Template.Labels = map[string]string{LabelEventSource: es.Name, LabelSourceType: src.Key}
	ksvc.Spec.Template.Spec.Containers = []corev1.Container{container}
	ksvc.Spec.Template.Spec.Volumes = volumes

	var out []Object
	if typ.RBAC != nil {
		ksvc.Spec.Template.Spec.ServiceAccountName = name
		out = append(out, sourceRBAC(src, typ, name, labels)...)
	}
	which := "the " + src.Key + " entries"
	if len(svc.entries) > 0 {
		which = fmt.Sprintf("the %s entries %s", src.Key, strings.Join(svc.entries, ", "))
	}
	out = append(out, Object{Value: ksvc, Comment: fmt.Sprintf(
		"Knative Service running %s of EventSource %s (a %s source),\n"+
			"emitting each event as a CloudEvent to broker %s/%s.", which, es.Name, typ.Kind, src.Namespace, src.Broker),
		Notes: notes})
	if typ.Kind == sources.Pull && wake != "" {
		out = append(out, wakeObject(src, name, labels, wake))
	}
	return out
}

func optional(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

// sourceRBAC is the ServiceAccount of a source whose type needs rights in
// the cluster and, for each Grant its type returns for the EventSource, a
// Role and RoleBinding in the Grant's namespace, or a ClusterRole and
// ClusterRoleBinding for a Grant in every namespace.
func sourceRBAC(src Source, typ sources.Type, name string, labels map[string]string) []Object {
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: objectMeta(name, src.Namespace, labels),
	}
	out := []Object{{Value: sa, Comment: fmt.Sprintf("The identity of the %s source of EventSource %s.", src.Key, src.EventSource.Name)}}
	subject := rbacv1.Subject{Kind: "ServiceAccount", Name: name, Namespace: src.Namespace}
	for _, g := range typ.RBAC(src.EventSource) {
		what := grantWording(typ.Kind, g.Rules)
		if g.Namespace == "" {
			cluster := shortName(src.Namespace+"-"+name, maxNameLength)
			out = append(out,
				Object{Value: &rbacv1.ClusterRole{
					TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
					ObjectMeta: objectMeta(cluster, "", labels),
					Rules:      g.Rules,
				}, Comment: fmt.Sprintf(what, "in every namespace", src.Namespace, src.EventSource.Name)},
				Object{Value: &rbacv1.ClusterRoleBinding{
					TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
					ObjectMeta: objectMeta(cluster, "", labels),
					RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: cluster},
					Subjects:   []rbacv1.Subject{subject},
				}})
			continue
		}
		out = append(out,
			Object{Value: &rbacv1.Role{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
				ObjectMeta: objectMeta(name, g.Namespace, labels),
				Rules:      g.Rules,
			}, Comment: fmt.Sprintf(what, "in namespace "+g.Namespace, src.Namespace, src.EventSource.Name)},
			Object{Value: &rbacv1.RoleBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
				ObjectMeta: objectMeta(name, g.Namespace, labels),
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
				Subjects:   []rbacv1.Subject{subject},
			}})
	}
	return out
}

// grantWording is the comment format of a Role or ClusterRole of a source
// type of kind with rules, taking where, then the EventSource's namespace
// and name: "Read access, in namespace x, to what EventSource ns/es
// watches." for a watch type that only reads.
func grantWording(kind sources.Kind, rules []rbacv1.PolicyRule) string {
	access := "Read access"
	for _, r := range rules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				access = "Access"
			}
		}
	}
	verb := "reads"
	switch kind {
	case sources.Watch:
		verb = "watches"
	case sources.Push:
		verb = "uses"
	}
	return access + ", %s, to what EventSource %s/%s " + verb + "."
}

// secretRef is one Secret an object reads.
type secretRef struct {
	name string
	// optional is true when every reference to the Secret is optional.
	optional bool
}

var secretSelectorType = reflect.TypeOf(corev1.SecretKeySelector{})

// secretRefs lists the Secrets referenced by the entries of one type key of
// es, sorted by name.
func secretRefs(es *v1alpha1.EventSource, key string) []secretRef {
	v := reflect.ValueOf(es.Spec)
	t := v.Type()
	for i := range t.NumField() {
		if strings.Split(t.Field(i).Tag.Get("json"), ",")[0] == key {
			return collectSecrets(v.Field(i))
		}
	}
	return nil
}

// collectSecrets walks v for SecretKeySelectors.
func collectSecrets(v reflect.Value) []secretRef {
	found := map[string]bool{} // name -> optional so far
	walk(v, func(v reflect.Value) bool {
		if v.Type() != secretSelectorType {
			return false
		}
		sel := v.Interface().(corev1.SecretKeySelector)
		if sel.Name == "" {
			return true
		}
		opt := sel.Optional != nil && *sel.Optional
		if prev, seen := found[sel.Name]; seen {
			opt = opt && prev
		}
		found[sel.Name] = opt
		return true
	})
	out := make([]secretRef, 0, len(found))
	for name, opt := range found {
		out = append(out, secretRef{name: name, optional: opt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	fsensor "github.com/flintevents/flint/functions/sensor"
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/pkg/manifest"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/triggers"
	_ "github.com/flintevents/flint/triggers/builtin"
)

// natsConfig is what config/ says about NATS and its clients.
type natsConfig struct {
	sts         *appsv1.StatefulSet
	conf        string // nats.conf of the server's ConfigMap
	secrets     map[string]*corev1.Secret
	deployments []*appsv1.Deployment
	policies    []*networkingv1.NetworkPolicy
}

func readNATSConfig(t *testing.T) natsConfig {
	t.Helper()
	c := natsConfig{secrets: map[string]*corev1.Secret{}}
	configMaps := map[string]*corev1.ConfigMap{}
	for _, d := range readConfig(t) {
		switch o := d.typed.(type) {
		case *appsv1.StatefulSet:
			if o.Name == "nats" {
				c.sts = o
			}
		case *corev1.ConfigMap:
			configMaps[o.Name] = o
		case *corev1.Secret:
			c.secrets[o.Name] = o
		case *appsv1.Deployment:
			c.deployments = append(c.deployments, o)
		case *networkingv1.NetworkPolicy:
			c.policies = append(c.policies, o)
		}
	}
	if c.sts == nil {
		t.Fatal("config has no nats StatefulSet")
	}
	for _, v := range c.sts.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && configMaps[v.ConfigMap.Name] != nil {
			c.conf = configMaps[v.ConfigMap.Name].Data["nats.conf"]
		}
	}
	if c.conf == "" {
		t.Fatal("the nats StatefulSet mounts no ConfigMap with a nats.conf")
	}
	return c
}

// secretEnv resolves the env variables of a container that read a Secret of config/.
func (c natsConfig) secretEnv(t *testing.T, where string, env []corev1.EnvVar) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		s := c.secrets[ref.Name]
		if s == nil || s.StringData[ref.Key] == "" {
			t.Fatalf("%s: env %s reads secret %s/%s, which config/ does not hold", where, e.Name, ref.Name, ref.Key)
		}
		out[e.Name] = s.StringData[ref.Key]
	}
	return out
}

// TestConfigNATSAuth runs the NATS servers of config/ (its nats.conf and the
// Secrets its environment reads, three nodes joined by its routes) and connects to it as every flint Deployment
// does: each passes --nats=$(NATS_URL), a URL with the user and password of the
// same Secret, and lands in the account with the broker streams; a sensor
// function connects as its compiled func.yaml says, with the Secret config/
// installs for it, and keeps its state in an account that sees none of them;
// a client without a user, or with a wrong password, is refused.
func TestConfigNATSAuth(t *testing.T) {
	c := readNATSConfig(t)
	var serverEnv map[string]string
	for _, ctr := range c.sts.Spec.Template.Spec.Containers {
		if ctr.Name == "nats" {
			serverEnv = c.secretEnv(t, "nats", ctr.Env)
		}
	}
	if serverEnv["NATS_USER"] == "" || serverEnv["NATS_PASSWORD"] == "" {
		t.Fatalf("the nats server reads no NATS_USER and NATS_PASSWORD from a Secret: %v", serverEnv)
	}
	for k, v := range serverEnv {
		t.Setenv(k, v) // nats.conf's $NATS_USER and $NATS_PASSWORD
	}
	addr := runConfigCluster(t, c.conf)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	const brokerStream = "broker_default__default"
	clients := 0
	for _, dep := range c.deployments {
		for _, ctr := range dep.Spec.Template.Spec.Containers {
			if !slices.Contains(ctr.Args, "--nats=$(NATS_URL)") {
				continue
			}
			clients++
			where := dep.Name + "/" + ctr.Name
			env := c.secretEnv(t, where, ctr.Env)
			if env["NATS_USER"] != serverEnv["NATS_USER"] || env["NATS_PASSWORD"] != serverEnv["NATS_PASSWORD"] {
				t.Errorf("%s: connects with user %q of another Secret than the server's", where, env["NATS_USER"])
				continue
			}
			env["NATS_ADDRESS"] = addr // config-flint's nats-address, here the test server
			var url string
			for _, e := range ctr.Env {
				if e.Name == "NATS_URL" {
					url = os.Expand(strings.NewReplacer("$(", "${", ")", "}").Replace(e.Value), func(k string) string { return env[k] })
				}
			}
			if !strings.Contains(url, env["NATS_PASSWORD"]) {
				t.Errorf("%s: NATS_URL %q carries no password", where, url)
				continue
			}
			nc, err := nats.Connect(url)
			if err != nil {
				t.Errorf("%s: connecting as config/ says: %v", where, err)
				continue
			}
			js, _ := jetstream.New(nc)
			if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: brokerStream, Subjects: []string{"broker.>"}}); err != nil {
				t.Errorf("%s: creating a broker stream: %v", where, err)
			}
			nc.Close()
		}
	}
	if clients < 3 {
		t.Errorf("%d Deployments connect to NATS, want the controller, the ingress and the dispatcher", clients)
	}

	if nc, err := nats.Connect("nats://" + addr); err == nil {
		nc.Close()
		t.Error("a client without a user is admitted")
	}
	if nc, err := nats.Connect("nats://"+addr, nats.UserInfo(serverEnv["NATS_USER"], "wrong")); err == nil {
		nc.Close()
		t.Error("a wrong password is admitted")
	}

	// A sensor function connects as its func.yaml says, from the Secret
	// config/ installs for it (copied to the function's namespace).
	s, sensorEnv := c.sensorFunction(t)
	sensorEnv[fsensor.NATSURLEnv] = "nats://" + addr
	conn, err := fsensor.NATSFromEnv(func(k string) string { return sensorEnv[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range readConfig(t) {
		if cm, ok := d.typed.(*corev1.ConfigMap); ok && cm.Name == "config-flint" {
			if want := cm.Data["stream-replicas"]; strconv.Itoa(conn.Replicas) != want {
				t.Errorf("the compiled func.yaml gives the state bucket %d replicas, want config-flint's stream-replicas, %s", conn.Replicas, want)
			}
		}
	}
	fn, err := fsensor.Connect(s, conn, sensor.Options{})
	if err != nil {
		t.Fatalf("a sensor function: %v", err)
	}
	defer fn.Close()
	ce := cloudevents.NewEvent()
	ce.SetID("1")
	ce.SetSource("orders")
	ce.SetType("webhook")
	ce.SetSubject("example")
	_ = ce.SetData(cloudevents.ApplicationJSON, map[string]any{"body": map[string]any{"n": 1}})
	if _, err := fn.Handle(ctx, ce); err != nil {
		t.Errorf("a sensor function keeps no state as the user config/ gives it: %v", err)
	}
	nc, err := nats.Connect("nats://"+addr, nats.UserInfo(sensorEnv[fsensor.NATSUserEnv], sensorEnv[fsensor.NATSPasswordEnv]))
	if err != nil {
		t.Fatalf("the sensor functions' user: %v", err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.Stream(ctx, brokerStream); err == nil {
		t.Error("the sensor functions' user sees the broker streams")
	}
	if _, err := js.KeyValue(ctx, sensor.BucketName("default", "state")); err != nil {
		t.Errorf("the sensor function kept no state in its account: %v", err)
	}
}

// sensorFunction compiles the Sensor of testdata/sensor-state.yaml into its
// kn func project, and returns it with the variables of its func.yaml, those
// that name a Secret ({{ secret:name:key }}) resolved against the Secrets
// config/ installs.
func (c natsConfig) sensorFunction(t *testing.T) (*v1alpha1.Sensor, map[string]string) {
	t.Helper()
	set, problems, err := manifest.Loader{}.Check(context.Background(), "testdata/sensor-state.yaml")
	if err != nil || len(problems) > 0 {
		t.Fatalf("testdata/sensor-state.yaml: %v %v", err, problems)
	}
	in := compile.Input{Sensors: set.Sensors()}
	g, err := compile.Compile(in, compile.Options{SensorURL: func(ns, name string) *apis.URL { return &apis.URL{Scheme: "http", Host: name + "." + ns} }})
	if err != nil {
		t.Fatal(err)
	}
	p, err := compile.Function(g.Sensors[0], nil, compile.FunctionOptions{Triggers: triggers.Lookup})
	if err != nil {
		t.Fatal(err)
	}
	var fn struct {
		Run struct {
			Envs []struct{ Name, Value string } `json:"envs"`
		} `json:"run"`
	}
	if err := yaml.Unmarshal(p.Files["func.yaml"], &fn); err != nil {
		t.Fatal(err)
	}
	ref := regexp.MustCompile(`^\{\{ secret:([^:]+):([^:]+) \}\}$`)
	env := map[string]string{}
	for _, e := range fn.Run.Envs {
		m := ref.FindStringSubmatch(e.Value)
		if m == nil {
			env[e.Name] = e.Value
			continue
		}
		s := c.secrets[m[1]]
		if s == nil || s.Namespace != c.sts.Namespace || s.StringData[m[2]] == "" {
			t.Fatalf("func.yaml: %s reads secret %s key %s, which config/ does not install in %s", e.Name, m[1], m[2], c.sts.Namespace)
		}
		env[e.Name] = s.StringData[m[2]]
	}
	if env[fsensor.NATSUserEnv] == "" {
		t.Fatalf("func.yaml sets no %s: %v", fsensor.NATSUserEnv, fn.Run.Envs)
	}
	return set.Sensors()[0], env
}

// TestConfigNATSNetworkPolicy checks that a NetworkPolicy of config/ selects the
// NATS pods and admits to their client port the pods of every flint Deployment
// and sensor functions (kn func functions in any namespace), and no other pod.
func TestConfigNATSNetworkPolicy(t *testing.T) {
	t.Parallel()
	c := readNATSConfig(t)
	natsPod := c.sts.Spec.Template.Labels
	var policies []*networkingv1.NetworkPolicy
	for _, p := range c.policies {
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err != nil {
			t.Fatalf("NetworkPolicy %s: %v", p.Name, err)
		}
		if p.Namespace == c.sts.Namespace && sel.Matches(labels.Set(natsPod)) && slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			policies = append(policies, p)
		}
	}
	if len(policies) == 0 {
		t.Fatal("no NetworkPolicy restricts ingress to the nats pods")
	}
	clientPort := int32(0)
	for _, ctr := range c.sts.Spec.Template.Spec.Containers {
		for _, p := range ctr.Ports {
			if p.Name == "client" {
				clientPort = p.ContainerPort
			}
		}
	}
	type pod struct {
		name      string
		namespace string
		labels    map[string]string
		nsLabels  map[string]string
		admitted  bool
	}
	systemNS := map[string]string{"kubernetes.io/metadata.name": c.sts.Namespace}
	pods := []pod{
		{name: "a sensor function", namespace: "shop", labels: map[string]string{"function.knative.dev/name": "sensor-orders", "serving.knative.dev/service": "sensor-orders"},
			nsLabels: map[string]string{"kubernetes.io/metadata.name": "shop"}, admitted: true},
		{name: "some other pod", namespace: "shop", labels: map[string]string{"app": "shop"}, nsLabels: map[string]string{"kubernetes.io/metadata.name": "shop"}},
		{name: "an unlabelled pod in flint-system", namespace: c.sts.Namespace, labels: map[string]string{"app": "debug"}, nsLabels: systemNS},
	}
	for _, dep := range c.deployments {
		pods = append(pods, pod{name: "Deployment " + dep.Name, namespace: dep.Namespace, labels: dep.Spec.Template.Labels, nsLabels: systemNS, admitted: true})
	}
	for _, p := range pods {
		admitted := false
		for _, pol := range policies {
			for _, rule := range pol.Spec.Ingress {
				if admitsPort(rule.Ports, clientPort) && admitsPeer(t, rule.From, pol.Namespace, p.namespace, p.labels, p.nsLabels) {
					admitted = true
				}
			}
		}
		if admitted != p.admitted {
			t.Errorf("%s (namespace %s, labels %v) admitted to the NATS client port: %v, want %v", p.name, p.namespace, p.labels, admitted, p.admitted)
		}
	}
}

// admitsPort reports whether a rule's ports include port (a rule without ports admits all).
func admitsPort(ports []networkingv1.NetworkPolicyPort, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Port == nil || p.Port.IntValue() == int(port) || p.Port.String() == "client" {
			return true
		}
	}
	return false
}

// admitsPeer reports whether one of a rule's peers admits a pod (a rule without peers admits all).
func admitsPeer(t *testing.T, peers []networkingv1.NetworkPolicyPeer, policyNS, ns string, podLabels, nsLabels map[string]string) bool {
	t.Helper()
	if len(peers) == 0 {
		return true
	}
	for _, peer := range peers {
		if peer.IPBlock != nil {
			continue
		}
		nsOK := ns == policyNS
		if peer.NamespaceSelector != nil {
			sel, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
			if err != nil {
				t.Fatal(err)
			}
			nsOK = sel.Matches(labels.Set(nsLabels))
		}
		podOK := true
		if peer.PodSelector != nil {
			sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
			if err != nil {
				t.Fatal(err)
			}
			podOK = sel.Matches(labels.Set(podLabels))
		}
		if nsOK && podOK {
			return true
		}
	}
	return false
}

// runConfigCluster runs nats.conf as the three pods of config/'s StatefulSet
// do, on loopback: each node named by POD_NAME, its routes the conf's, each
// pointed at the loopback port of the pod it names. It waits until they
// elected a JetStream meta leader and returns node 0's client address.
func runConfigCluster(t *testing.T, conf string) string {
	t.Helper()
	confFile := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	const nodes = 3
	routePorts := make([]int, nodes)
	for i := range routePorts {
		routePorts[i] = freeport.Port(t)
	}
	var servers []*server.Server
	for i := range nodes {
		t.Setenv("POD_NAME", fmt.Sprintf("nats-%d", i)) // nats.conf's $POD_NAME
		opts, err := server.ProcessConfigFile(confFile)
		if err != nil {
			t.Fatalf("nats.conf: %v", err)
		}
		if opts.ServerName != fmt.Sprintf("nats-%d", i) {
			t.Fatalf("nats.conf names the server %q, want its pod's name", opts.ServerName)
		}
		if len(opts.Routes) != nodes {
			t.Fatalf("nats.conf has %d routes, want one per pod of the StatefulSet (%d)", len(opts.Routes), nodes)
		}
		for j, r := range opts.Routes {
			if want := fmt.Sprintf("nats-%d.nats.flint-system.svc.cluster.local", j); r.Hostname() != want {
				t.Fatalf("nats.conf route %d is %s, want the pod %s", j, r, want)
			}
			r.Host = fmt.Sprintf("127.0.0.1:%d", routePorts[j])
		}
		opts.StoreDir, opts.Host, opts.Port, opts.HTTPPort, opts.NoLog, opts.NoSigs = t.TempDir(), "127.0.0.1", -1, -1, true, true
		opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", routePorts[i]
		ns, err := server.NewServer(opts)
		if err != nil {
			t.Fatalf("nats.conf: %v", err)
		}
		go ns.Start()
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatalf("nats server %d not ready", i)
		}
		servers = append(servers, ns)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !slices.ContainsFunc(servers, (*server.Server).JetStreamIsLeader) {
		if time.Now().After(deadline) {
			t.Fatal("the three servers of nats.conf elected no JetStream meta leader")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return strings.TrimPrefix(servers[0].ClientURL(), "nats://")
}

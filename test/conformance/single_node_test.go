package conformance

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// singleNodeDir is the overlay that runs config/ with one NATS server.
const singleNodeDir = "../../deploy/single-node"

// TestSingleNodeOverlay checks deploy/single-node against config/: its
// kustomization names each patch file it holds; its nats.conf is config/'s
// without the cluster block and the server name, and runs one server whose
// JetStream stores a stream; the StatefulSet runs one replica and broker
// streams get one.
func TestSingleNodeOverlay(t *testing.T) {
	kust, err := os.ReadFile(filepath.Join(singleNodeDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	patches, err := filepath.Glob(filepath.Join(singleNodeDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var natsConf string
	for _, p := range patches {
		name := filepath.Base(p)
		if name == "kustomization.yaml" {
			continue
		}
		if !strings.Contains(string(kust), "path: "+name) {
			t.Errorf("kustomization.yaml does not apply %s", name)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var head struct{ Kind string }
		if err := yaml.Unmarshal(raw, &head); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch head.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict(raw, &cm); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			switch cm.Name {
			case "nats-config":
				natsConf = cm.Data["nats.conf"]
			case "config-flint":
				if cm.Data["stream-replicas"] != "1" {
					t.Errorf("%s: stream-replicas %q, want 1", name, cm.Data["stream-replicas"])
				}
			}
		case "StatefulSet":
			var sts appsv1.StatefulSet
			if err := yaml.UnmarshalStrict(raw, &sts); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 1 {
				t.Errorf("%s: replicas %v, want 1", name, sts.Spec.Replicas)
			}
		}
	}
	clustered := readNATSConfig(t).conf
	want := regexp.MustCompile(`(?s)\s*cluster \{.*?\n\}\n`).ReplaceAllString(clustered, "\n")
	want = strings.Replace(want, "server_name: $POD_NAME\n", "", 1)
	if natsConf != want {
		t.Errorf("the overlay's nats.conf is not config/'s without its cluster block:\n%s\nwant:\n%s", natsConf, want)
	}

	for k, v := range map[string]string{"NATS_USER": "flint", "NATS_PASSWORD": "pw", "SENSOR_NATS_USER": "sensor", "SENSOR_NATS_PASSWORD": "spw"} {
		t.Setenv(k, v)
	}
	confFile := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(confFile, []byte(natsConf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(confFile)
	if err != nil {
		t.Fatalf("the overlay's nats.conf: %v", err)
	}
	opts.StoreDir, opts.Host, opts.Port, opts.HTTPPort, opts.NoLog, opts.NoSigs = t.TempDir(), "127.0.0.1", -1, -1, true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("the single server is not ready")
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.UserInfo("flint", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "probe", Subjects: []string{"probe"}, Replicas: 1}); err != nil {
		t.Errorf("one server of the overlay stores no stream: %v", err)
	}
}

package conformance

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/manifest"
)

// TestConfig checks the `ko apply -Rf config/` manifests: every document
// decodes strictly into its Kubernetes type, every ko:// image names a main
// package of this module, and the broker's Trigger configuration validates.
func TestConfig(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../config/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no config files: %v", err)
	}
	koImage := regexp.MustCompile(`ko://github\.com/flintevents/flint/(\S+)`)
	kinds := map[string]int{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(raw, []byte("\n---\n")) {
			var meta struct{ Kind string }
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s#%d: %v", file, i+1, err)
			}
			var obj any
			switch meta.Kind {
			case "Namespace":
				obj = &corev1.Namespace{}
			case "ServiceAccount":
				obj = &corev1.ServiceAccount{}
			case "ConfigMap":
				obj = &corev1.ConfigMap{}
			case "Service":
				obj = &corev1.Service{}
			case "StatefulSet":
				obj = &appsv1.StatefulSet{}
			case "Deployment":
				obj = &appsv1.Deployment{}
			default:
				t.Fatalf("%s#%d: unexpected kind %q", file, i+1, meta.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s#%d: %v", file, i+1, err)
			}
			kinds[meta.Kind]++
			if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name == "flint-broker-triggers" {
				_, problems, err := manifest.CheckReader(context.Background(), strings.NewReader(cm.Data["triggers.yaml"]), "triggers.yaml")
				if err != nil || len(problems) > 0 {
					t.Fatalf("%s: triggers.yaml: %v %v", file, err, problems)
				}
			}
			for _, m := range koImage.FindAllSubmatch(doc, -1) {
				if _, err := os.Stat(filepath.Join("../..", string(m[1]), "main.go")); err != nil {
					t.Errorf("%s#%d: image %s names no main package: %v", file, i+1, m[0], err)
				}
			}
		}
	}
	for _, k := range []string{"Namespace", "StatefulSet", "Deployment", "Service", "ConfigMap"} {
		if kinds[k] == 0 {
			t.Errorf("config has no %s", k)
		}
	}
}

package object_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers/k8s/object"
)

const configMapYAML = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
const configMapJSON = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}`

func TestLoad(t *testing.T) {
	t.Parallel()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cm.yaml":
			_, _ = w.Write([]byte(configMapYAML))
		case "/huge.yaml":
			_, _ = w.Write([]byte("data: \"" + strings.Repeat("x", object.MaxSize) + "\"\n"))
		default:
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	})
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(handler)
	t.Cleanup(secure.Close)
	file := filepath.Join(t.TempDir(), "cm.yaml")
	if err := os.WriteFile(file, []byte(configMapYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }

	tests := []struct {
		name    string
		src     v1alpha1.ArtifactLocation
		want    string
		wantErr string
	}{
		{name: "inline YAML", src: v1alpha1.ArtifactLocation{Inline: str(configMapYAML)}, want: configMapJSON},
		{name: "inline JSON", src: v1alpha1.ArtifactLocation{Inline: str(configMapJSON)}, want: configMapJSON},
		{name: "inline list", src: v1alpha1.ArtifactLocation{Inline: str("- a\n")}, wantErr: "source.inline: expected a Kubernetes object"},
		{name: "resource", src: v1alpha1.ArtifactLocation{Resource: &v1alpha1.K8SResource{Value: []byte(configMapJSON)}}, want: configMapJSON},
		{name: "url", src: v1alpha1.ArtifactLocation{URL: &v1alpha1.URLArtifact{Path: plain.URL + "/cm.yaml"}}, want: configMapJSON},
		{name: "url answering 500", src: v1alpha1.ArtifactLocation{URL: &v1alpha1.URLArtifact{Path: plain.URL + "/nope"}},
			wantErr: "source.url: fetching the object: status 500"},
		{name: "url too large", src: v1alpha1.ArtifactLocation{URL: &v1alpha1.URLArtifact{Path: plain.URL + "/huge.yaml"}},
			wantErr: "source.url: the object is larger than"},
		{name: "url without verifyCert skips the certificate check",
			src: v1alpha1.ArtifactLocation{URL: &v1alpha1.URLArtifact{Path: secure.URL + "/cm.yaml"}}, want: configMapJSON},
		{name: "url with verifyCert checks the certificate",
			src:     v1alpha1.ArtifactLocation{URL: &v1alpha1.URLArtifact{Path: secure.URL + "/cm.yaml", VerifyCert: true}},
			wantErr: "certificate"},
		{name: "file", src: v1alpha1.ArtifactLocation{File: &v1alpha1.FileArtifact{Path: file}}, want: configMapJSON},
		{name: "missing file", src: v1alpha1.ArtifactLocation{File: &v1alpha1.FileArtifact{Path: file + ".absent"}},
			wantErr: "source.file: opening the file"},
		{name: "configmap without a cluster",
			src:     v1alpha1.ArtifactLocation{Configmap: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "k"}},
			wantErr: "source.configmap: no Kubernetes cluster"},
		{name: "git", src: v1alpha1.ArtifactLocation{Git: &v1alpha1.GitArtifact{URL: "https://example.com/r.git"}},
			wantErr: "source: not runnable yet: git sources (runnable: resource, inline, configmap, url, file): source.git"},
		{name: "nothing", src: v1alpha1.ArtifactLocation{}, wantErr: "source: expected one of"},
	}
	loader := object.NewLoader(nil, nil)
	t.Cleanup(loader.Close)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := loader.Load(context.Background(), &tc.src, "default")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %s, %v, want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load = %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("Load = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc     string
		wantErr bool
	}{
		{doc: configMapJSON},
		{doc: `{"metadata":{"name":"cm"}}`, wantErr: true},
		{doc: `{"apiVersion":"v1"}`, wantErr: true},
		{doc: `[1]`, wantErr: true},
	}
	for _, tc := range tests {
		obj, err := object.Decode([]byte(tc.doc))
		if (err != nil) != tc.wantErr {
			t.Errorf("Decode(%s) = %v, %v; want error %t", tc.doc, obj, err, tc.wantErr)
		}
	}
}

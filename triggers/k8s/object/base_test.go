package object_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/k8s/object"
)

func TestCheckDeps(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	inline := &v1alpha1.ArtifactLocation{Inline: str(configMapYAML)}
	git := &v1alpha1.ArtifactLocation{Git: &v1alpha1.GitArtifact{URL: "https://example.com/r.git"}}
	tests := []struct {
		name    string
		noKube  bool
		src     *v1alpha1.ArtifactLocation
		wantErr string // "" for none
	}{
		{name: "a cluster and a source flint reads", src: inline},
		{name: "no cluster", noKube: true, src: inline, wantErr: "needs a Kubernetes cluster: run flint dev with --kubeconfig"},
		{name: "a git source", src: git, wantErr: "not runnable yet: git sources (runnable: resource, inline, configmap, url, file): source.git"},
		{name: "both", noKube: true, src: git, wantErr: "needs a Kubernetes cluster"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			deps := triggers.Deps{}
			if !tc.noKube {
				deps.Kube = kubetest.NoCluster(t)
			}
			err := object.CheckDeps(deps, tc.src)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckDeps = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("CheckDeps = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestBaseLoadAndObject(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	refused := errors.New("parameters refused")
	tests := []struct {
		name     string
		src      *v1alpha1.ArtifactLocation
		params   func([]byte) ([]byte, error)
		wantName string
		wantErr  string
	}{
		{name: "the source object", src: &v1alpha1.ArtifactLocation{Inline: str(configMapYAML)}, wantName: "cm"},
		{name: "with the parameters applied", src: &v1alpha1.ArtifactLocation{Inline: str(configMapYAML)},
			params: func(doc []byte) ([]byte, error) {
				return []byte(strings.Replace(string(doc), `"cm"`, `"renamed"`, 1)), nil
			},
			wantName: "renamed"},
		{name: "a source that is no object", src: &v1alpha1.ArtifactLocation{Inline: str("- a\n")},
			wantErr: "k8s.source.inline: expected a Kubernetes object"},
		{name: "an object without a kind", src: &v1alpha1.ArtifactLocation{Inline: str("metadata: {name: cm}\n")},
			wantErr: "k8s.source: the object needs apiVersion and kind"},
		{name: "parameters that fail", src: &v1alpha1.ArtifactLocation{Inline: str(configMapYAML)},
			params:  func([]byte) ([]byte, error) { return nil, refused },
			wantErr: refused.Error()},
	}
	b := object.NewBase(triggers.Deps{Kube: kubetest.NoCluster(t)}, v1alpha1.TriggerTypeK8s)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := triggers.Firing{Namespace: "ns", ApplyParameters: tc.params}
			doc, err := b.Load(context.Background(), tc.src, in)
			if err == nil {
				obj, oerr := b.Object(doc, in)
				if oerr == nil {
					if tc.wantErr != "" {
						t.Fatalf("Load and Object = %v, want an error %q", obj, tc.wantErr)
					}
					if obj.GetName() != tc.wantName {
						t.Errorf("name = %q, want %q", obj.GetName(), tc.wantName)
					}
					return
				}
				err = oerr
			}
			if tc.wantErr == "" || err.Error() != tc.wantErr {
				t.Fatalf("Load and Object = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

package kubetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
)

// crdTimeout bounds the wait for installed CRDs to be served.
const crdTimeout = 30 * time.Second

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRDs applies the CustomResourceDefinitions in the YAML files (a
// directory stands for its *.yaml and *.yml files) and returns once each is
// Established, listed by discovery and resolvable through e.Clients.Mapper.
// Documents of other kinds are skipped, so release manifests that mix CRDs
// with other objects can be given whole. Applying is idempotent: tests of one
// binary may install the same files.
func (e *Env) InstallCRDs(t testing.TB, files ...string) {
	t.Helper()
	crds, err := readCRDs(files)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	if len(crds) == 0 {
		t.Fatalf("kubetest: no CustomResourceDefinition in %v", files)
	}
	ctx, cancel := context.WithTimeout(t.Context(), crdTimeout)
	defer cancel()
	for _, crd := range crds {
		_, err := e.Clients.Dynamic.Resource(crdResource).Apply(ctx, crd.GetName(), crd,
			metav1.ApplyOptions{FieldManager: "kubetest", Force: true})
		if err != nil {
			t.Fatalf("kubetest: applying CRD %s: %v", crd.GetName(), err)
		}
	}
	dc, err := discovery.NewDiscoveryClientForConfig(e.Config)
	if err != nil {
		t.Fatalf("kubetest: discovery client: %v", err)
	}
	for _, crd := range crds {
		if err := e.waitServed(ctx, dc, crd.GetName()); err != nil {
			t.Fatalf("kubetest: CRD %s: %v", crd.GetName(), err)
		}
	}
}

// readCRDs decodes the CustomResourceDefinition documents of files.
func readCRDs(files []string) ([]*unstructured.Unstructured, error) {
	var paths []string
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("reading CRDs: %w", err)
		}
		if !info.IsDir() {
			paths = append(paths, f)
			continue
		}
		for _, pattern := range []string{"*.yaml", "*.yml"} {
			m, err := filepath.Glob(filepath.Join(f, pattern))
			if err != nil {
				return nil, fmt.Errorf("listing %s: %w", f, err)
			}
			paths = append(paths, m...)
		}
	}
	var crds []*unstructured.Unstructured
	for _, p := range paths {
		fh, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("reading CRDs: %w", err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(fh, 4096)
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fh.Close()
				return nil, fmt.Errorf("decoding %s: %w", p, err)
			}
			u := &unstructured.Unstructured{Object: doc}
			if doc == nil || u.GetKind() != "CustomResourceDefinition" {
				continue
			}
			crds = append(crds, u)
		}
		fh.Close()
	}
	return crds, nil
}

// waitServed waits until the CRD name is Established, its served versions
// are listed by discovery, and the shared REST mapper resolves its kind.
func (e *Env) waitServed(ctx context.Context, dc discovery.DiscoveryInterface, name string) error {
	var crd *unstructured.Unstructured
	err := poll(ctx, func() error {
		got, err := e.Clients.Dynamic.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !established(got) {
			return errors.New("not Established yet")
		}
		crd = got
		return nil
	})
	if err != nil {
		return err
	}
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		version, _ := v.(map[string]any)
		served, _ := version["served"].(bool)
		vname, _ := version["name"].(string)
		if !served {
			continue
		}
		gv := schema.GroupVersion{Group: group, Version: vname}
		err := poll(ctx, func() error {
			list, err := dc.ServerResourcesForGroupVersion(gv.String())
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == plural }) {
				return fmt.Errorf("%s not in discovery of %s yet", plural, gv)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = poll(ctx, func() error {
			_, err := e.Clients.Mapper.RESTMapping(schema.GroupKind{Group: group, Kind: kind}, vname)
			if err != nil {
				// The mapper's discovery cache predates the CRD: refresh it.
				meta.MaybeResetRESTMapper(e.Clients.Mapper)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("REST mapper: %w", err)
		}
	}
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		cond, _ := c.(map[string]any)
		if cond["type"] == "Established" && cond["status"] == "True" {
			return true
		}
	}
	return false
}

// poll calls fn until it returns nil or ctx ends, returning fn's last error.
func poll(ctx context.Context, fn func() error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := fn()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

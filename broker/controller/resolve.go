package controller

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"
)

// DefaultClusterDomain is the DNS domain of the cluster's Services.
const DefaultClusterDomain = "cluster.local"

// objectReader reads the object a destination refers to, remembering who referred to it.
type objectReader interface {
	get(ctx context.Context, from owner, resource schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error)
}

// destinationResolver turns a Knative Destination into the URL events go to, as
// Knative's resolver does: a uri as given; a Kubernetes Service into its cluster DNS
// name; any other object (Knative Service, Broker, Channel, ...) into the
// status.address.url it publishes as an Addressable. A ref with a uri takes the uri as a
// path relative to the ref's address.
type destinationResolver struct {
	objects       objectReader    // nil resolves uris only
	mapper        meta.RESTMapper // maps a ref's kind to its resource
	clusterDomain string          // default DefaultClusterDomain
}

// URI resolves dest for from; a ref without a namespace is in from's namespace.
func (r *destinationResolver) URI(ctx context.Context, dest pkgduckv1.Destination, from owner, namespace string) (*apis.URL, error) {
	switch {
	case dest.Ref != nil:
		u, err := r.refURL(ctx, dest.Ref, from, namespace)
		if err != nil {
			return nil, err
		}
		if dest.URI == nil {
			return u, nil
		}
		if dest.URI.URL().IsAbs() {
			return nil, fmt.Errorf("uri %q is absolute: with a ref, give a path relative to the ref's address", dest.URI)
		}
		return u.ResolveReference(dest.URI), nil
	case dest.URI != nil:
		if !dest.URI.URL().IsAbs() || dest.URI.Host == "" {
			return nil, fmt.Errorf("uri %q is not absolute (both scheme and host should be non-empty)", dest.URI)
		}
		return dest.URI, nil
	}
	return nil, errors.New("neither ref nor uri given")
}

// refURL is the address of the object ref names.
func (r *destinationResolver) refURL(ctx context.Context, ref *pkgduckv1.KReference, from owner, namespace string) (*apis.URL, error) {
	if r.objects == nil || r.mapper == nil {
		return nil, fmt.Errorf("cannot read %s %q: no cluster client", ref.Kind, ref.Name)
	}
	gk := schema.GroupKind{Group: ref.Group, Kind: ref.Kind}
	var versions []string
	if ref.APIVersion != "" {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil {
			return nil, fmt.Errorf("parsing apiVersion %q: %w", ref.APIVersion, err)
		}
		gk.Group, versions = gv.Group, []string{gv.Version}
	}
	mapping, err := r.mapper.RESTMapping(gk, versions...)
	if err != nil {
		return nil, fmt.Errorf("finding the resource of %s %s: %w", ref.Kind, ref.APIVersion, err)
	}
	if ref.Namespace != "" {
		namespace = ref.Namespace
	}
	if mapping.Scope.Name() == meta.RESTScopeNameRoot {
		namespace = ""
	}
	obj, err := r.objects.get(ctx, from, mapping.Resource, namespace, ref.Name)
	if err != nil {
		return nil, fmt.Errorf("getting %s %s: %w", ref.Kind, qualified(namespace, ref.Name), err)
	}
	if gk.Group == "" && gk.Kind == "Service" {
		domain := r.clusterDomain
		if domain == "" {
			domain = DefaultClusterDomain
		}
		return &apis.URL{Scheme: "http", Host: ref.Name + "." + namespace + ".svc." + domain}, nil
	}
	raw, _, _ := unstructured.NestedString(obj.Object, "status", "address", "url")
	if raw == "" {
		return nil, fmt.Errorf("%s %s has no status.address.url (not Addressable, or not ready yet)", ref.Kind, qualified(namespace, ref.Name))
	}
	u, err := apis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing status.address.url of %s %s: %w", ref.Kind, qualified(namespace, ref.Name), err)
	}
	return u, nil
}

// qualified is namespace/name, or name for a cluster-scoped object.
func qualified(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

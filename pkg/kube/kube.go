// Package kube builds the Kubernetes clients that source and trigger types
// share: a dynamic client and a REST mapper, so that any kind works, CRDs
// included, and a typed client for Secrets and ConfigMaps. Only the images
// that act on a cluster link it, and client-go with it.
package kube

import (
	"errors"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// Clients are the Kubernetes clients of one cluster.
type Clients struct {
	// Config is the REST configuration the clients were built from.
	Config *rest.Config
	// Dynamic reads and writes objects of any kind.
	Dynamic dynamic.Interface
	// Core is the typed core/v1 client (Secrets, ConfigMaps, Events).
	Core corev1client.CoreV1Interface
	// Mapper maps kinds to resources through cached discovery; it refreshes
	// its cache when a kind is not found, so CRDs installed later resolve.
	Mapper meta.RESTMapper
}

// New builds the clients for cfg.
func New(cfg *rest.Config) (*Clients, error) {
	if cfg == nil {
		return nil, errors.New("kube: nil rest config")
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube: dynamic client: %w", err)
	}
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube: typed client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube: discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(cached), cached, nil)
	return &Clients{Config: cfg, Dynamic: dyn, Core: core, Mapper: mapper}, nil
}

// Connect builds the clients of the cluster LoadConfig finds for kubeconfig,
// without dialing it; nil clients and a nil error when there is none.
func Connect(kubeconfig string) (*Clients, error) {
	cfg, ok, err := LoadConfig(kubeconfig)
	if err != nil || !ok {
		return nil, err
	}
	return New(cfg)
}

// Server is the address of the cluster's API server.
func (c *Clients) Server() string { return c.Config.Host }

// LoadConfig returns the REST configuration of the kubeconfig file at path;
// with an empty path, of $KUBECONFIG, else of the pod's service account when
// running in a cluster. ok is false when none of them is there.
func LoadConfig(path string) (cfg *rest.Config, ok bool, err error) {
	if path == "" {
		path = os.Getenv("KUBECONFIG")
	}
	if path != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, false, fmt.Errorf("kube: loading kubeconfig %s: %w", path, err)
		}
		return cfg, true, nil
	}
	cfg, err = rest.InClusterConfig()
	if errors.Is(err, rest.ErrNotInCluster) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("kube: in-cluster config: %w", err)
	}
	return cfg, true, nil
}

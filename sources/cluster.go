package sources

import "go.uber.org/zap"

// Cluster is the Kubernetes cluster a source type watches or reads: the
// *kube.Clients of it, behind an interface so that package sources, and the
// images of the types that need no cluster (push sources), link no client-go.
type Cluster interface {
	// Server is the address of the cluster's API server.
	Server() string
}

// Connect builds, without dialing, the clients of the cluster a kubeconfig
// file names ("" for $KUBECONFIG, else the pod's service account), whose
// own log lines go to logger; a nil Cluster and a nil error mean there is
// none.
type Connect func(kubeconfig string, logger *zap.Logger) (Cluster, error)

// Option qualifies what Register records of a type.
type Option func(*registration)

// NeedsCluster marks a type that watches or reads a Kubernetes cluster: a
// host that builds it calls connect and hands what it returns to the factory
// as Deps.Cluster. Hosts build no cluster clients for the other types.
func NeedsCluster(connect Connect) Option {
	return func(r *registration) { r.connect = connect }
}

// ClusterConnect returns how the type key reaches its cluster; nil for a type
// that needs none (or is not registered).
func ClusterConnect(key string) Connect {
	r, _ := registered.Lookup(key)
	return r.connect
}

package triggers

import (
	"go.uber.org/zap"
)

// Cluster is the Kubernetes cluster that a trigger type acts on: the
// *kube.Clients of it, behind an interface so that package triggers, and the
// functions whose triggers act on no cluster, link no client-go.
type Cluster interface {
	// Server is the address of the cluster's API server.
	Server() string
}

// Connect builds, without dialing, the clients of the cluster a kubeconfig
// file names ("" for $KUBECONFIG, else the pod's service account), whose
// own logs (client-go's) go to logger; a nil Cluster and a nil error mean
// there is none.
type Connect func(kubeconfig string, logger *zap.Logger) (Cluster, error)

// NeedsCluster marks a type that acts on a Kubernetes cluster: a host that
// builds it calls connect (ConnectCluster) and hands what it returns to the
// factory as Deps.Kube.
func NeedsCluster(connect Connect) Option {
	return func(t *Type) { t.Connect = connect }
}

// ConnectCluster connects to the cluster of kubeconfig through the first of
// the registered types that acts on one, so that a host links client-go only
// when it links such a type; client-go logs to logger. A nil Cluster and a
// nil error mean that no registered type needs a cluster, or that there is
// none.
func ConnectCluster(kubeconfig string, logger *zap.Logger) (Cluster, error) {
	for _, key := range Keys() {
		if t, _ := Lookup(key); t.Connect != nil {
			return t.Connect(kubeconfig, logger)
		}
	}
	return nil, nil
}

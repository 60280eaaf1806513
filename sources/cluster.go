package sources

import (
	"go.uber.org/zap"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

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

// Grant is rights a source's ServiceAccount is given in one namespace, or
// in every namespace.
type Grant struct {
	// Namespace is where Rules apply; "" means every namespace (a
	// ClusterRole and its ClusterRoleBinding rather than a Role and its
	// RoleBinding).
	Namespace string
	// Rules are the rights, in a fixed order.
	Rules []rbacv1.PolicyRule
}

// RBAC returns, without I/O, the rights in the cluster that es's entries of
// a type need, one Grant per namespace, sorted by namespace ("" first); none
// when they need none. `flint compile` writes the ServiceAccount of the
// type's Service and a Role (or ClusterRole) and its binding per Grant.
type RBAC func(es *v1alpha1.EventSource) []Grant

// Option qualifies what Register records of a type.
type Option func(*Type)

// NeedsCluster marks a type that watches or reads a Kubernetes cluster: a
// host that builds it calls connect and hands what it returns to the factory
// as Deps.Cluster. Hosts build no cluster clients for the other types.
func NeedsCluster(connect Connect) Option {
	return func(t *Type) { t.Connect = connect }
}

// NeedsRBAC marks a type whose entries need rights in the cluster it runs
// in: rbac says which, from the EventSource.
func NeedsRBAC(rbac RBAC) Option {
	return func(t *Type) { t.RBAC = rbac }
}

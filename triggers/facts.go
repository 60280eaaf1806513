package triggers

import (
	"encoding/json"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// Attempt is how long one firing of a trigger may take and the field that
// sets it.
type Attempt struct {
	// Timeout bounds one firing (one attempt of the retryStrategy).
	Timeout time.Duration
	// Field is the trigger's field that sets Timeout, relative to the
	// trigger, e.g. "template.http.timeout"; "template.<key>" when the type
	// fixes it.
	Field string
}

// TestFiring is how the test generated with a sensor's function fires a
// trigger type.
type TestFiring int

// How a generated function test fires a trigger type.
const (
	// TestNotFired: its target is a service the test cannot stand in for.
	// The zero TestFiring is a type that does not say, which is not fired either.
	TestNotFired TestFiring = iota + 1
	// TestFiresAsIs: the type reaches no service (log), so it fires as written.
	TestFiresAsIs
	// TestFiresLocally: the type's URL is pointed at a server the test runs (http).
	TestFiresLocally
)

// Grant is verbs on one resource that one trigger uses in one namespace.
type Grant struct {
	// Namespace is where the trigger acts; AllNamespaces for every namespace
	// and cluster-scoped objects.
	Namespace string
	// Group, Resource ("<resource>/<subresource>" for a subresource) and,
	// when one object only is read, Name.
	Group, Resource, Name string
	// Verbs are the calls the trigger makes.
	Verbs []string
	// Label names the trigger and what it does, e.g. "trigger t (k8s create)".
	Label string
	// Why says why AllNamespaces, when it is.
	Why string
}

// AllNamespaces is the Grant namespace of rights in every namespace.
const AllNamespaces = ""

// Rights are what one trigger does on the cluster, as far as its Sensor
// tells before it fires.
type Rights struct {
	// Grants are the rights to write, in the order found.
	Grants []Grant
	// Unknown lists, one line each, what only a firing tells, so that no
	// rights are written for it.
	Unknown []string
}

// AccessRequest is one trigger whose rights a host computes.
type AccessRequest struct {
	// Trigger is the trigger (a dlqTrigger is a trigger of its own).
	Trigger *v1alpha1.Trigger
	// Path is its field path in the Sensor, e.g. "spec.triggers[0]".
	Path string
	// Namespace is the sensor's, where objects go that name none.
	Namespace string
	// Resource is the resource RBAC names a kind by and whether its objects
	// are cluster-scoped, as far as the host knows without a cluster.
	Resource func(group, kind string) (resource string, clusterScoped bool)
}

// AttemptTimeout declares how long one firing of the type may take, read
// from its spec as written and the trigger around it (its policy).
func AttemptTimeout[S any](f func(spec *S, t *v1alpha1.Trigger) Attempt) Option {
	return func(t *Type) {
		t.Attempt = func(tr *v1alpha1.Trigger) Attempt {
			spec, err := specOf[S](tr, t.Key)
			if err != nil {
				spec = new(S)
			}
			return f(spec, tr)
		}
	}
}

// ClusterAccess declares the rights on the cluster that one trigger of a
// type registered with NeedsCluster uses, read from its spec as written.
func ClusterAccess[S any](f func(spec *S, req AccessRequest) Rights) Option {
	return func(t *Type) {
		t.Access = func(req AccessRequest) Rights {
			spec, err := specOf[S](req.Trigger, t.Key)
			if err != nil {
				return Rights{Unknown: []string{"trigger " + req.Trigger.Template.Name + " (" + t.Key +
					"): its spec does not decode, so no rights are written for it"}}
			}
			return f(spec, req)
		}
	}
}

// FiresInTest declares how the generated function test fires the type.
func FiresInTest(how TestFiring) Option { return func(t *Type) { t.TestFiring = how } }

// specOf decodes the spec of the type key from a trigger's template.
func specOf[S any](t *v1alpha1.Trigger, key string) (*S, error) {
	if t == nil || t.Template == nil {
		return new(S), nil
	}
	doc, err := json.Marshal(t.Template)
	if err != nil {
		return nil, err
	}
	var specs map[string]json.RawMessage
	if err := json.Unmarshal(doc, &specs); err != nil {
		return nil, err
	}
	return decode[S](specs[key])
}

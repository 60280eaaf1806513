package object

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/kube"
)

// DefaultNamespace is where an object goes when neither it nor the sensor
// names a namespace.
const DefaultNamespace = "default"

// Labels Argo Events puts on every object its triggers create.
const (
	LabelSensor          = "events.argoproj.io/sensor"
	LabelTrigger         = "events.argoproj.io/trigger"
	LabelActionTimestamp = "events.argoproj.io/action-timestamp"
)

// Client reaches objects of any kind, CRDs included, through the dynamic
// client and the REST mapper of one cluster.
type Client struct {
	kube *kube.Clients
}

// NewClient returns a client over the cluster's shared clients.
func NewClient(k *kube.Clients) *Client { return &Client{kube: k} }

// Dynamic is the cluster's dynamic client.
func (c *Client) Dynamic() dynamic.Interface { return c.kube.Dynamic }

// For returns the resource client of obj's kind. A namespaced object that
// names no namespace gets fallback (the sensor's), else DefaultNamespace;
// a cluster-scoped one loses any namespace it names.
func (c *Client) For(obj *unstructured.Unstructured, fallback string) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := c.mapping(gvk)
	if err != nil {
		return nil, err
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		obj.SetNamespace("")
		return c.kube.Dynamic.Resource(mapping.Resource), nil
	}
	if obj.GetNamespace() == "" {
		obj.SetNamespace(Namespace(fallback))
	}
	return c.kube.Dynamic.Resource(mapping.Resource).Namespace(obj.GetNamespace()), nil
}

// mapping maps a kind to its resource; a kind the mapper does not know makes
// it rediscover once, so that CRDs installed after start resolve.
func (c *Client) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	mapping, err := c.kube.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		meta.MaybeResetRESTMapper(c.kube.Mapper)
		mapping, err = c.kube.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("finding the resource of %s: %w", gvk, err)
	}
	return mapping, nil
}

// Namespace returns ns, or DefaultNamespace when it is empty.
func Namespace(ns string) string {
	if ns == "" {
		return DefaultNamespace
	}
	return ns
}

// SetCreatedLabels puts the labels Argo Events puts on what its triggers
// create: the sensor, the trigger and the time of the action in milliseconds.
func SetCreatedLabels(obj *unstructured.Unstructured, sensor, trigger string, now time.Time) {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelSensor] = sensor
	labels[LabelTrigger] = trigger
	labels[LabelActionTimestamp] = strconv.FormatInt(now.UnixMilli(), 10)
	obj.SetLabels(labels)
}

// LabelsTimeoutError is the failure of a `policy.k8s` wait whose labels never
// appeared while `errorOnBackoffTimeout` is true.
type LabelsTimeoutError struct {
	// Name is the object waited for.
	Name string
	// Labels are the labels that were expected.
	Labels map[string]string
}

func (e *LabelsTimeoutError) Error() string {
	return fmt.Sprintf("policy.k8s: %s did not get the labels %v before the backoff ran out", e.Name, e.Labels)
}

// ApplyPolicy waits, per `policy.k8s`, for the object obj (just created or
// changed through ri) to carry the policy's labels, reading it again at
// every step of the backoff. It returns the object as last read. When the
// labels never appear the firing fails only with `errorOnBackoffTimeout`
// (a *LabelsTimeoutError); a failed read fails it always, as in Argo Events.
func ApplyPolicy(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, policy *v1alpha1.TriggerPolicy) (*unstructured.Unstructured, error) {
	if policy == nil || policy.K8s == nil || len(policy.K8s.Labels) == 0 || obj == nil {
		return obj, nil
	}
	p := policy.K8s
	b := policySchedule(p)
	for step := 1; ; step++ {
		cur, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if err != nil {
			return obj, fmt.Errorf("policy.k8s: reading %s: %w", obj.GetName(), err)
		}
		obj = cur
		if hasLabels(cur.GetLabels(), p.Labels) {
			return cur, nil
		}
		if step >= b.Attempts {
			break
		}
		t := time.NewTimer(b.Wait(step, rand.Float64()))
		select {
		case <-ctx.Done():
			t.Stop()
			return obj, fmt.Errorf("policy.k8s: waiting for the labels of %s: %w", cur.GetName(), ctx.Err())
		case <-t.C:
		}
	}
	if p.ErrorOnBackoffTimeout {
		return obj, &LabelsTimeoutError{Name: obj.GetName(), Labels: p.Labels}
	}
	return obj, nil
}

// policySchedule is the schedule of policy.k8s's backoff: no backoff means
// Argo's DefaultBackoff here, not the one attempt of an absent retryStrategy.
func policySchedule(p *v1alpha1.K8SResourcePolicy) v1alpha1.Schedule {
	if p.Backoff == nil {
		return v1alpha1.DefaultSchedule()
	}
	return p.Backoff.Schedule()
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

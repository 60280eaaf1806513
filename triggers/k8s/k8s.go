// Package k8s implements Argo Events' standard `k8s` trigger: it creates,
// updates, patches or deletes one Kubernetes object of any kind, CRDs
// included, read from the trigger's `source` with the trigger's `parameters`
// applied to it.
//
// Operations behave as in Argo Events. create adds the events.argoproj.io
// sensor, trigger and action-timestamp labels and honours generateName.
// update merges the object into the live one (objects merge, other values
// replace) and updates it; patch sends the object as the `patchStrategy`
// patch (merge patch by default; a strategic merge patch works on built-in
// kinds only; for a JSON patch the object is turned into the RFC 6902
// operations that set its fields on the live object; an apply patch is a
// server-side apply by the field manager "flint" that takes over the fields
// it sets, as the sensor states what they must be). Both create the object
// when it does not exist. delete deletes it and does nothing when it is gone.
// With `liveObject`, update and patch start from the live object named by
// the source and apply the parameters to it. The object goes to its own
// namespace, else the sensor's, else "default". After create, update and
// patch, `policy.k8s` waits for its labels on the object.
package k8s

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/k8s/object"
)

// FieldManager is the field manager of server-side apply patches.
const FieldManager = "flint"

func init() {
	triggers.Register(v1alpha1.TriggerTypeK8s, New, facts()...)
}

// Trigger acts on one Kubernetes object per firing.
type Trigger struct {
	object.Base
}

// New builds the trigger over deps.Kube; it fails when the host has no
// cluster, and for sources flint cannot read (`source.git`, `source.s3`).
func New(spec *v1alpha1.StandardK8STrigger, deps triggers.Deps) (triggers.Trigger[v1alpha1.StandardK8STrigger], error) {
	if errs := object.CheckDeps(deps, spec.Source).Also(checkOperation(spec)); errs != nil {
		return nil, errs
	}
	return &Trigger{Base: object.NewBase(deps, v1alpha1.TriggerTypeK8s)}, nil
}

var patchTypes = []k8stypes.PatchType{"", k8stypes.MergePatchType, k8stypes.StrategicMergePatchType,
	k8stypes.JSONPatchType, k8stypes.ApplyYAMLPatchType}

// checkOperation reports an unknown operation or patch strategy.
func checkOperation(spec *v1alpha1.StandardK8STrigger) *apis.FieldError {
	var errs *apis.FieldError
	switch spec.Operation {
	case "", v1alpha1.Create, v1alpha1.Update, v1alpha1.Patch, v1alpha1.Delete:
	default:
		errs = apis.ErrInvalidValue(spec.Operation, "operation", "expected create, update, patch or delete")
	}
	if !slices.Contains(patchTypes, spec.PatchStrategy) {
		errs = errs.Also(apis.ErrInvalidValue(spec.PatchStrategy, "patchStrategy",
			"expected application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json or application/apply-patch+yaml"))
	}
	return errs
}

// Fire reads the object, applies the parameters, performs the operation and
// applies `policy.k8s`; Result.Object is the object as the API server
// returned it (nil after a delete).
func (t *Trigger) Fire(ctx context.Context, spec *v1alpha1.StandardK8STrigger, in triggers.Firing) (triggers.Result, error) {
	if err := checkOperation(spec); err != nil {
		return triggers.Result{}, fmt.Errorf("k8s: %w", err)
	}
	op := spec.Operation
	if op == "" {
		op = v1alpha1.Create
	}
	doc, err := t.Load(ctx, spec.Source, in)
	if err != nil {
		return triggers.Result{}, err
	}
	if spec.LiveObject && (op == v1alpha1.Update || op == v1alpha1.Patch) {
		if doc, err = t.live(ctx, doc, in.Namespace); err != nil {
			return triggers.Result{}, err
		}
	}
	obj, err := t.Object(doc, in)
	if err != nil {
		return triggers.Result{}, err
	}
	ri, err := t.Client.For(obj, in.Namespace)
	if err != nil {
		return triggers.Result{}, fmt.Errorf("k8s: %w", err)
	}
	var out *unstructured.Unstructured
	switch op {
	case v1alpha1.Create:
		out, err = t.create(ctx, ri, obj, in)
	case v1alpha1.Update:
		out, err = t.update(ctx, ri, obj, in)
	case v1alpha1.Patch:
		out, err = t.patch(ctx, ri, obj, spec.PatchStrategy, in)
	case v1alpha1.Delete:
		err = t.delete(ctx, ri, obj)
	}
	if err != nil {
		return triggers.Result{}, fmt.Errorf("k8s: %s %s %s: %w", op, obj.GetKind(), describe(obj), err)
	}
	if ce := t.Logger.Check(zap.DebugLevel, "k8s trigger acted"); ce != nil {
		ce.Write(zap.String("sensor", in.Sensor), zap.String("trigger", in.Trigger), zap.String("operation", string(op)),
			zap.String("kind", obj.GetKind()), zap.String("object", describe(obj)))
	}
	if out == nil {
		return triggers.Result{}, nil
	}
	out, err = object.ApplyPolicy(ctx, ri, out, in.Policy)
	return triggers.Result{Object: out.Object}, err
}

// live reads the live object that the source object names, for `liveObject`.
func (t *Trigger) live(ctx context.Context, doc []byte, namespace string) ([]byte, error) {
	obj, err := object.Decode(doc)
	if err != nil {
		return nil, fmt.Errorf("k8s.source: %w", err)
	}
	ri, err := t.Client.For(obj, namespace)
	if err != nil {
		return nil, fmt.Errorf("k8s: %w", err)
	}
	live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("k8s: liveObject: reading %s %s: %w", obj.GetKind(), describe(obj), err)
	}
	out, err := live.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("k8s: liveObject: encoding %s: %w", describe(obj), err)
	}
	return out, nil
}

func (t *Trigger) create(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, in triggers.Firing) (*unstructured.Unstructured, error) {
	object.SetCreatedLabels(obj, in.Sensor, in.Trigger, t.Now())
	out, err := ri.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating: %w", err)
	}
	return out, nil
}

// orCreate reads the live object; when there is none it creates obj and
// returns it as created with a nil live object.
func (t *Trigger) orCreate(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, in triggers.Firing) (live, created *unstructured.Unstructured, err error) {
	if obj.GetName() == "" {
		return nil, nil, errors.New("the object needs metadata.name")
	}
	live, err = ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		t.Logger.Info("object not found, creating it", zap.String("sensor", in.Sensor), zap.String("trigger", in.Trigger),
			zap.String("kind", obj.GetKind()), zap.String("object", describe(obj)))
		created, err = t.create(ctx, ri, obj, in)
		return nil, created, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the live object: %w", err)
	}
	return live, nil, nil
}

func (t *Trigger) update(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, in triggers.Firing) (*unstructured.Unstructured, error) {
	live, created, err := t.orCreate(ctx, ri, obj, in)
	if live == nil {
		return created, err
	}
	merge(live.Object, obj.Object)
	out, err := ri.Update(ctx, live, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("updating: %w", err)
	}
	return out, nil
}

func (t *Trigger) patch(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, strategy k8stypes.PatchType, in triggers.Firing) (*unstructured.Unstructured, error) {
	live, created, err := t.orCreate(ctx, ri, obj, in)
	if live == nil {
		return created, err
	}
	if strategy == "" {
		strategy = k8stypes.MergePatchType
	}
	var body []byte
	opts := metav1.PatchOptions{}
	switch strategy {
	case k8stypes.JSONPatchType:
		body, err = json.Marshal(jsonPatch(live.Object, obj.Object, ""))
	case k8stypes.ApplyYAMLPatchType:
		opts.FieldManager, opts.Force = FieldManager, ptr(true)
		body, err = obj.MarshalJSON()
	default:
		body, err = obj.MarshalJSON()
	}
	if err != nil {
		return nil, fmt.Errorf("encoding the patch: %w", err)
	}
	out, err := ri.Patch(ctx, obj.GetName(), strategy, body, opts)
	if err != nil {
		return nil, fmt.Errorf("patching (%s): %w", strategy, err)
	}
	return out, nil
}

func (t *Trigger) delete(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured) error {
	if obj.GetName() == "" {
		return errors.New("the object needs metadata.name")
	}
	err := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		t.Logger.Info("object not found, nothing to delete", zap.String("kind", obj.GetKind()), zap.String("object", describe(obj)))
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting: %w", err)
	}
	return nil
}

// merge merges src into dst: objects merge key by key, any other value of
// src replaces dst's.
func merge(dst, src map[string]any) {
	for k, v := range src {
		sm, sok := v.(map[string]any)
		dm, dok := dst[k].(map[string]any)
		if sok && dok {
			merge(dm, sm)
			continue
		}
		dst[k] = v
	}
}

// patchOp is one RFC 6902 operation.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// jsonPatch returns the operations that set want's fields on live, below
// the JSON pointer at: an absent field is added whole, objects recurse,
// other values are replaced and a null removes the field, as a merge patch
// would.
func jsonPatch(live, want map[string]any, at string) []patchOp {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var ops []patchOp
	for _, k := range keys {
		v := want[k]
		path := at + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
		cur, exists := live[k]
		switch {
		case v == nil && exists:
			ops = append(ops, patchOp{Op: "remove", Path: path})
		case v == nil:
		case !exists:
			ops = append(ops, patchOp{Op: "add", Path: path, Value: withoutNulls(v)})
		default:
			wm, wok := v.(map[string]any)
			cm, cok := cur.(map[string]any)
			if wok && cok {
				ops = append(ops, jsonPatch(cm, wm, path)...)
				continue
			}
			ops = append(ops, patchOp{Op: "replace", Path: path, Value: v})
		}
	}
	return ops
}

func ptr[T any](v T) *T { return &v }

// withoutNulls drops the null members of the objects in v: a null asks to
// remove a field, and an absent field has nothing to remove.
func withoutNulls(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, mv := range m {
		if mv != nil {
			out[k] = withoutNulls(mv)
		}
	}
	return out
}

// describe names an object for messages: namespace/name, or its
// generateName with a trailing "*".
func describe(obj *unstructured.Unstructured) string {
	name := obj.GetName()
	if name == "" {
		name = obj.GetGenerateName() + "*"
	}
	if ns := obj.GetNamespace(); ns != "" {
		return ns + "/" + name
	}
	return name
}

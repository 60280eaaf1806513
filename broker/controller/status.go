package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// writeStatus stores status as the status of obj (as the cache holds it) through the
// status subresource. When obj has changed in the meantime it reads the object again and
// writes over the newer version: the status is the reconciler's alone.
func writeStatus(ctx context.Context, client dynamic.NamespaceableResourceInterface, obj *unstructured.Unstructured, status any) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(status)
	if err != nil {
		return fmt.Errorf("encoding the status of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	objects := client.Namespace(obj.GetNamespace())
	current := obj
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if current == nil {
			var err error
			if current, err = objects.Get(ctx, obj.GetName(), metav1.GetOptions{}); err != nil {
				return err
			}
		}
		next := current.DeepCopy()
		next.Object["status"] = m
		current = nil // read again should this one conflict
		_, err := objects.UpdateStatus(ctx, next, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("updating the status of %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// setFinalizer adds finalizer to obj's finalizers, or removes it, and returns the
// object as updated. The patch carries obj's resourceVersion, so it fails with a
// conflict rather than overwrite finalizers it has not seen.
func setFinalizer(ctx context.Context, client dynamic.NamespaceableResourceInterface, obj *unstructured.Unstructured, finalizer string, present bool) (*unstructured.Unstructured, error) {
	finalizers := slices.DeleteFunc(slices.Clone(obj.GetFinalizers()), func(f string) bool { return f == finalizer })
	if present {
		finalizers = append(finalizers, finalizer)
	}
	if finalizers == nil {
		finalizers = []string{}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"finalizers":      finalizers,
		"resourceVersion": obj.GetResourceVersion(),
	}})
	if err != nil {
		return nil, fmt.Errorf("encoding the finalizers of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	updated, err := client.Namespace(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return nil, fmt.Errorf("updating the finalizers of %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return updated, nil
}

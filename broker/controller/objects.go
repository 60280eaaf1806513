package controller

import (
	"fmt"

	apierrs "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

// lister reads objects of one kind out of a dynamic informer's cache as T.
type lister[T any] struct {
	indexer  cache.Indexer
	resource schema.GroupResource
}

// get returns the cached object namespace/name decoded, and as the informer holds it
// (which must not be modified). A missing object is a NotFound error.
func (l lister[T]) get(namespace, name string) (*T, *unstructured.Unstructured, error) {
	obj, ok, err := l.indexer.GetByKey(namespace + "/" + name)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("reading %s %s/%s from the cache: %w", l.resource, namespace, name, err)
	case !ok:
		return nil, nil, apierrs.NewNotFound(l.resource, name)
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, nil, fmt.Errorf("reading %s %s/%s from the cache: a %T", l.resource, namespace, name, obj)
	}
	v, err := decode[T](u)
	if err != nil {
		return nil, nil, err
	}
	return v, u, nil
}

// decode converts an object of the cluster into its typed form.
func decode[T any](u *unstructured.Unstructured) (*T, error) {
	v := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, v); err != nil {
		return nil, fmt.Errorf("decoding %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return v, nil
}

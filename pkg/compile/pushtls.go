package compile

import (
	"fmt"
	"reflect"
	"strings"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// PushTLSReason is why a compiled push source may not serve TLS itself.
const PushTLSReason = "TLS terminates at the Knative ingress; remove serverCertSecret/serverKeySecret to compile"

var webhookContextType = reflect.TypeOf(v1alpha1.WebhookContext{})

// pushTLS refuses the push entries of one type key of es that serve TLS
// themselves (serverCertSecret, serverKeySecret): behind Knative the
// container is reached over plain HTTP, so such an entry would never
// answer. Paths are relative to spec, e.g. webhook[example].serverCertSecret;
// the details name the EventSource.
func pushTLS(es *v1alpha1.EventSource, key string) *apis.FieldError {
	var errs *apis.FieldError
	for _, b := range es.Spec.WebhookBindings() {
		if b.TypeKey != key {
			continue
		}
		w := webhookContext(es, b.TypeKey, b.EventName)
		if w == nil {
			continue
		}
		field := ""
		switch {
		case w.ServerCertSecret != nil:
			field = "serverCertSecret"
		case w.ServerKeySecret != nil:
			field = "serverKeySecret"
		default:
			continue
		}
		errs = errs.Also(&apis.FieldError{
			Message: PushTLSReason,
			Paths:   []string{strings.TrimPrefix(b.Path, "spec.") + "." + field},
			Details: fmt.Sprintf("EventSource %s/%s", namespace(es.Namespace), es.Name),
		})
	}
	return errs
}

// webhookContext finds the HTTP endpoint of the entry name under type key
// in es: the entry itself for webhook, its webhook field for the others.
func webhookContext(es *v1alpha1.EventSource, key, name string) *v1alpha1.WebhookContext {
	v := reflect.ValueOf(es.Spec)
	t := v.Type()
	for i := range t.NumField() {
		if strings.Split(t.Field(i).Tag.Get("json"), ",")[0] != key {
			continue
		}
		entries := v.Field(i)
		if entries.Kind() != reflect.Map {
			return nil
		}
		entry := entries.MapIndex(reflect.ValueOf(name))
		if !entry.IsValid() {
			return nil
		}
		var found *v1alpha1.WebhookContext
		walk(entry, func(v reflect.Value) bool {
			if found != nil || v.Type() != webhookContextType {
				return found != nil
			}
			w := v.Interface().(v1alpha1.WebhookContext)
			found = &w
			return true
		})
		return found
	}
	return nil
}

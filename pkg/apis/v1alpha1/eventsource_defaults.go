package v1alpha1

import "context"

// SetDefaults fills the fields Argo Events defaults: the event bus name, one
// replica, and the 1 MiB body limit of every webhook-style endpoint. It is
// idempotent and leaves fields that are set alone.
func (es *EventSource) SetDefaults(ctx context.Context) {
	if es == nil {
		return
	}
	es.Spec.SetDefaults(ctx)
}

// SetDefaults fills the defaults of an EventSourceSpec; see EventSource.SetDefaults.
func (s *EventSourceSpec) SetDefaults(_ context.Context) {
	if s.EventBusName == "" {
		s.EventBusName = DefaultEventBusName
	}
	if s.Replicas == nil {
		one := int32(1)
		s.Replicas = &one
	}
	for name, w := range s.Webhook {
		w.WebhookContext.setDefaults()
		s.Webhook[name] = w
	}
	for _, key := range s.TypeKeys() {
		for _, name := range s.EventNames(key) {
			s.pushContext(key, name).setDefaults()
		}
	}
}

func (w *WebhookContext) setDefaults() {
	if w != nil && w.MaxPayloadSize == nil {
		size := DefaultMaxWebhookPayloadSize
		w.MaxPayloadSize = &size
	}
}

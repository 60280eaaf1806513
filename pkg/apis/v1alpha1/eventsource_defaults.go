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
	for _, t := range eventSourceTypes {
		for _, name := range t.names(s) {
			if w := t.webhook(s, name); w != nil {
				w.setDefaults()
				t.commit(s, name, w)
			}
		}
	}
}

func (w *WebhookContext) setDefaults() {
	if w != nil && w.MaxPayloadSize == nil {
		size := DefaultMaxWebhookPayloadSize
		w.MaxPayloadSize = &size
	}
}

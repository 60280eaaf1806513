package v1alpha1

import (
	"context"
	"testing"
)

func TestEventSourceSetDefaults(t *testing.T) {
	t.Parallel()
	var es EventSource
	decodeFile(t, "eventsource/valid.yaml", &es)
	es.Spec.EventBusName = ""
	es.SetDefaults(context.Background())
	s := es.Spec
	if s.EventBusName != "default" {
		t.Errorf("eventBusName = %q, want default", s.EventBusName)
	}
	if *s.Replicas != 2 {
		t.Errorf("replicas = %d, want the explicit 2", *s.Replicas)
	}
	if got := *s.Webhook["example"].MaxPayloadSize; got != 2048 {
		t.Errorf("webhook[example].maxPayloadSize = %d, want the explicit 2048", got)
	}
	if got := *s.Webhook["other"].MaxPayloadSize; got != 1048576 {
		t.Errorf("webhook[other].maxPayloadSize = %d, want 1048576", got)
	}
	if got := *s.Github["push"].Webhook.MaxPayloadSize; got != 1048576 {
		t.Errorf("github[push].webhook.maxPayloadSize = %d, want 1048576", got)
	}
	if got := s.Webhook["example"].Method; got != "POST" {
		t.Errorf("webhook[example].method = %q, want POST kept", got)
	}

	var bare EventSource
	bare.SetDefaults(context.Background())
	if bare.Spec.Replicas == nil || *bare.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1", bare.Spec.Replicas)
	}
	var nilES *EventSource
	nilES.SetDefaults(context.Background()) // must not panic
}

package v1alpha1

import (
	"context"
	"net/http"
)

// Default values Argo Events applies to triggers.
const (
	// DefaultHTTPTriggerMethod is the method of an http trigger that names none.
	DefaultHTTPTriggerMethod = http.MethodPost
	// DefaultHTTPTriggerTimeout is the timeout, in seconds, of an http trigger that names none.
	DefaultHTTPTriggerTimeout int64 = 60
	// DefaultKafkaRequiredAcks is the acks a kafka trigger waits for.
	DefaultKafkaRequiredAcks int32 = 1
	// DefaultKafkaFlushFrequency is the batch flush period of a kafka trigger, in milliseconds.
	DefaultKafkaFlushFrequency int32 = 500
	// DefaultK8sPatchStrategy is the patch type of a k8s trigger with operation patch.
	DefaultK8sPatchStrategy = "application/merge-patch+json"
)

// SetDefaults fills what Argo Events defaults: event bus name, one replica, the
// `and` logical operators, `=` comparators, the operation of k8s (create) and
// argoWorkflow (submit) triggers, http method POST and timeout 60 s, kafka acks
// and flush frequency, openWhisk version and namespace, and rate limit unit
// Second. It is idempotent and leaves fields that are set alone.
func (s *Sensor) SetDefaults(ctx context.Context) {
	if s == nil {
		return
	}
	s.Spec.SetDefaults(ctx)
}

// SetDefaults fills the defaults of a SensorSpec; see Sensor.SetDefaults.
func (s *SensorSpec) SetDefaults(_ context.Context) {
	if s.EventBusName == "" {
		s.EventBusName = DefaultEventBusName
	}
	if s.Replicas == nil {
		one := int32(1)
		s.Replicas = &one
	}
	for i := range s.Dependencies {
		s.Dependencies[i].setDefaults()
	}
	for i := range s.Triggers {
		s.Triggers[i].setDefaults()
	}
}

func (d *EventDependency) setDefaults() {
	if d.FiltersLogicalOperator == EmptyLogicalOperator {
		d.FiltersLogicalOperator = AndLogicalOperator
	}
	f := d.Filters
	if f == nil {
		return
	}
	if f.DataLogicalOperator == EmptyLogicalOperator {
		f.DataLogicalOperator = AndLogicalOperator
	}
	if f.ExprLogicalOperator == EmptyLogicalOperator {
		f.ExprLogicalOperator = AndLogicalOperator
	}
	for i := range f.Data {
		if f.Data[i].Comparator == EmptyComparator {
			f.Data[i].Comparator = EqualTo
		}
	}
}

func (t *Trigger) setDefaults() {
	if t.RateLimit != nil && t.RateLimit.Unit == "" {
		t.RateLimit.Unit = Second
	}
	if t.DlqTrigger != nil {
		t.DlqTrigger.setDefaults()
	}
	if t.Template != nil {
		t.Template.setDefaults()
	}
}

func (t *TriggerTemplate) setDefaults() {
	for _, row := range triggerTypes {
		row.setDefaults(t)
	}
}

func (k *StandardK8STrigger) setDefaults() {
	if k.Operation == "" {
		k.Operation = Create
	}
	if k.Operation == Patch && k.PatchStrategy == "" {
		k.PatchStrategy = DefaultK8sPatchStrategy
	}
}

func (a *ArgoWorkflowTrigger) setDefaults() {
	if a.Operation == "" {
		a.Operation = Submit
	}
}

func (h *HTTPTrigger) setDefaults() {
	if h.Method == "" {
		h.Method = DefaultHTTPTriggerMethod
	}
	if h.Timeout == 0 {
		h.Timeout = DefaultHTTPTriggerTimeout
	}
}

func (k *KafkaTrigger) setDefaults() {
	if k.RequiredAcks == 0 {
		k.RequiredAcks = DefaultKafkaRequiredAcks
	}
	if k.FlushFrequency == 0 {
		k.FlushFrequency = DefaultKafkaFlushFrequency
	}
}

func (o *OpenWhiskTrigger) setDefaults() {
	if o.Version == "" {
		o.Version = "v1"
	}
	if o.Namespace == "" {
		o.Namespace = "_"
	}
}

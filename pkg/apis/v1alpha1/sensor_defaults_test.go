package v1alpha1

import (
	"context"
	"testing"
)

func TestSensorSetDefaults(t *testing.T) {
	t.Parallel()
	var s Sensor
	decodeFile(t, "sensor/defaults.yaml", &s)
	s.SetDefaults(context.Background())
	spec := s.Spec
	checks := []struct {
		name      string
		got, want any
	}{
		{"eventBusName", spec.EventBusName, "default"},
		{"replicas", *spec.Replicas, int32(1)},
		{"filtersLogicalOperator", spec.Dependencies[0].FiltersLogicalOperator, AndLogicalOperator},
		{"dataLogicalOperator", spec.Dependencies[0].Filters.DataLogicalOperator, AndLogicalOperator},
		{"exprLogicalOperator", spec.Dependencies[0].Filters.ExprLogicalOperator, AndLogicalOperator},
		{"comparator", spec.Dependencies[0].Filters.Data[0].Comparator, EqualTo},
		{"kept comparator", spec.Dependencies[0].Filters.Data[1].Comparator, GreaterThan},
		{"http.method", spec.Triggers[0].Template.HTTP.Method, "POST"},
		{"http.timeout", spec.Triggers[0].Template.HTTP.Timeout, int64(60)},
		{"rateLimit.unit", spec.Triggers[0].RateLimit.Unit, Second},
		{"k8s.operation", spec.Triggers[1].Template.K8s.Operation, Create},
		{"k8s.patchStrategy", string(spec.Triggers[1].Template.K8s.PatchStrategy), ""},
		{"argoWorkflow.operation", spec.Triggers[2].Template.ArgoWorkflow.Operation, Submit},
		{"kafka.requiredAcks", spec.Triggers[3].Template.Kafka.RequiredAcks, int32(1)},
		{"kafka.flushFrequency", spec.Triggers[3].Template.Kafka.FlushFrequency, int32(500)},
		{"openWhisk.version", spec.Triggers[4].Template.OpenWhisk.Version, "v1"},
		{"openWhisk.namespace", spec.Triggers[4].Template.OpenWhisk.Namespace, "_"},
		{"k8s patch strategy", string(spec.Triggers[5].Template.K8s.PatchStrategy), "application/merge-patch+json"},
		{"dlq http.method", spec.Triggers[0].DlqTrigger.Template.HTTP.Method, "POST"},
		{"conditions untouched", spec.Triggers[0].Template.Conditions, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := s.Validate(context.Background()); err != nil {
		t.Errorf("Validate() after SetDefaults = %v", err)
	}

	// Defaulting twice changes nothing and keeps explicit values.
	before := *spec.Triggers[0].Template.HTTP
	s.SetDefaults(context.Background())
	if after := *s.Spec.Triggers[0].Template.HTTP; after.Method != before.Method || after.Timeout != before.Timeout {
		t.Errorf("second SetDefaults changed http trigger: %+v -> %+v", before, after)
	}
}

package v1alpha1

import (
	"slices"
	"testing"
)

func TestTriggerTemplateTypeKeys(t *testing.T) {
	t.Parallel()
	if n := len(TriggerTypeKeys()); n != 14 {
		t.Errorf("TriggerTypeKeys() has %d keys, want 14", n)
	}
	tests := []struct {
		name string
		tmpl TriggerTemplate
		want []string
		key  string
	}{
		{name: "none", tmpl: TriggerTemplate{Name: "x"}},
		{name: "log", tmpl: TriggerTemplate{Log: &LogTrigger{}}, want: []string{"log"}, key: "log"},
		{name: "custom", tmpl: TriggerTemplate{CustomTrigger: &CustomTrigger{}}, want: []string{"custom"}, key: "custom"},
		{name: "two", tmpl: TriggerTemplate{HTTP: &HTTPTrigger{}, AWSLambda: &AWSLambdaTrigger{}}, want: []string{"awsLambda", "http"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.tmpl.TypeKeys(); !slices.Equal(got, tc.want) {
				t.Errorf("TypeKeys() = %v, want %v", got, tc.want)
			}
			if got := tc.tmpl.TypeKey(); got != tc.key {
				t.Errorf("TypeKey() = %q, want %q", got, tc.key)
			}
		})
	}
}

func TestDecodeTriggerTypes(t *testing.T) {
	t.Parallel()
	var s Sensor
	decodeFile(t, "sensor/valid.yaml", &s)
	h := s.Spec.Triggers[0].Template.HTTP
	if h.URL != "http://example.com/hook" || h.Method != "PUT" || h.Timeout != 10 {
		t.Errorf("http = %+v", h)
	}
	if h.SecureHeaders[0].ValueFrom.SecretKeyRef.Key != "bearer" || h.DynamicHeaders[0].Dest != "X-Event-Id" {
		t.Errorf("headers = %+v %+v", h.SecureHeaders[0], h.DynamicHeaders)
	}
	if v := h.Payload[1].Src.Value; v == nil || *v != "nobody" {
		t.Errorf("payload[1].src.value = %v", v)
	}
	obj, err := s.Spec.Triggers[1].Template.K8s.Source.Resource.Object()
	if err != nil || obj["kind"] != "Pod" {
		t.Errorf("k8s resource = %v, %v", obj, err)
	}
	if got := s.Spec.Triggers[0].Policy.Status.GetAllow(); !slices.Equal(got, []int{200, 201, 204}) {
		t.Errorf("GetAllow() = %v", got)
	}
}

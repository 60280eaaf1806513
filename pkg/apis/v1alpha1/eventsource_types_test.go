package v1alpha1

import (
	"slices"
	"testing"
)

func TestEventSourceTypeKeys(t *testing.T) {
	t.Parallel()
	all := EventSourceTypeKeys()
	if len(all) != 32 {
		t.Fatalf("EventSourceTypeKeys() has %d keys, want 32: %v", len(all), all)
	}
	if !slices.IsSorted(all) {
		t.Errorf("EventSourceTypeKeys() not sorted: %v", all)
	}
	for _, k := range []string{"webhook", "bitbucketserver", "storageGrid", "pubSub", "azureEventsHub", "redisStream", "sftp"} {
		if !slices.Contains(all, k) {
			t.Errorf("EventSourceTypeKeys() lacks %q", k)
		}
	}

	var es EventSource
	decodeFile(t, "eventsource/valid.yaml", &es)
	if got, want := es.Spec.TypeKeys(), []string{"calendar", "file", "github", "kafka", "resource", "webhook"}; !slices.Equal(got, want) {
		t.Errorf("TypeKeys() = %v, want %v", got, want)
	}
	if got, want := es.Spec.EventNames("webhook"), []string{"example", "other"}; !slices.Equal(got, want) {
		t.Errorf("EventNames(webhook) = %v, want %v", got, want)
	}
	if got := es.Spec.EventNames("sqs"); len(got) != 0 {
		t.Errorf("EventNames(sqs) = %v, want none", got)
	}
	for name, want := range map[string]string{"tick": "calendar", "pod-add": "resource", "nope": ""} {
		if got := es.Spec.TypeOf(name); got != want {
			t.Errorf("TypeOf(%q) = %q, want %q", name, got, want)
		}
	}
	if got := (&EventSourceSpec{}).TypeKeys(); len(got) != 0 {
		t.Errorf("empty spec TypeKeys() = %v", got)
	}
}

func TestResourceEventSourceInlineGVR(t *testing.T) {
	t.Parallel()
	var es EventSource
	decodeFile(t, "eventsource/valid.yaml", &es)
	r := es.Spec.Resource["pod-add"]
	if r.Group != "" || r.Version != "v1" || r.Resource != "pods" || r.Namespace != "default" {
		t.Errorf("resource[pod-add] = %+v", r)
	}
	if r.Filter.Labels[0].Key != "app" || r.Filter.Labels[0].Value != "my-pod" {
		t.Errorf("labels = %+v", r.Filter.Labels)
	}
}

func TestGetReplicas(t *testing.T) {
	t.Parallel()
	three, zero := int32(3), int32(0)
	tests := []struct {
		replicas *int32
		want     int32
	}{{nil, 1}, {&zero, 1}, {&three, 3}}
	for _, tc := range tests {
		if got := (EventSourceSpec{Replicas: tc.replicas}).GetReplicas(); got != tc.want {
			t.Errorf("EventSourceSpec.GetReplicas(%v) = %d, want %d", tc.replicas, got, tc.want)
		}
		if got := (SensorSpec{Replicas: tc.replicas}).GetReplicas(); got != tc.want {
			t.Errorf("SensorSpec.GetReplicas(%v) = %d, want %d", tc.replicas, got, tc.want)
		}
	}
}

func TestEventDependencyMatches(t *testing.T) {
	t.Parallel()
	d := EventDependency{Name: "d", EventSourceName: "webhook", EventName: "example"}
	tests := []struct {
		source, subject string
		want            bool
	}{{"webhook", "example", true}, {"webhook", "other", false}, {"calendar", "example", false}}
	for _, tc := range tests {
		if got := d.Matches(tc.source, tc.subject); got != tc.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tc.source, tc.subject, got, tc.want)
		}
	}
}

package awslambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/awslambda"
	"github.com/flintevents/flint/triggers/awslambda/lambdatest"
)

// podEvent is the event the resource source emits when a Pod is added;
// annotations steer the sensor's parameters.
func podEvent(id, name string, annotations map[string]string) *event.Event {
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{
		"name": name, "namespace": "default", "labels": map[string]string{"app": "my-pod"}, "annotations": annotations}}
	data, _ := json.Marshal(map[string]any{"type": "ADD", "body": pod, "group": "", "version": "v1", "resource": "pods"})
	return &event.Event{
		Context: event.Context{ID: id, Source: "k8s-pods", Subject: "pod-add", Type: "resource", SpecVersion: "1.0",
			DataContentType: "application/json", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		Data: data,
	}
}

// loadSensor builds the sensor of testdata/<name>.yaml with the test secrets.
func loadSensor(t *testing.T, name string) *sensor.Sensor {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict(raw, &s); err != nil {
		t.Fatal(err)
	}
	out, err := sensor.New(&s, sensor.Options{Deps: triggers.Deps{Secrets: testSecrets}})
	if err != nil {
		t.Fatalf("sensor.New = %v", err)
	}
	t.Cleanup(func() { _ = out.Close() })
	return out
}

// TestSensorInvokesLambda runs the k8s-resource-lambda sensor through the
// engine: the payload built from `payload`, the function, region and
// invocation type from `parameters`, the verdict from `policy.status.allow`.
func TestSensorInvokesLambda(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		pod         string
		annotations map[string]string
		answer      *lambdatest.Answer
		wantPayload string
		wantType    string
		wantRegion  string
		wantErr     string // substring of Handle's error; "" for success
		wantErrIs   error
	}{
		{
			name:        "payload from the event",
			pod:         "my-pod",
			wantPayload: `{"name":"my-pod","labels":{"app":"my-pod"}}`,
			wantType:    "RequestResponse", wantRegion: "us-east-1",
		},
		{
			name:        "201 is allowed",
			pod:         "created",
			answer:      &lambdatest.Answer{Status: http.StatusCreated, Payload: []byte(`{}`)},
			wantPayload: `{"name":"created","labels":{"app":"my-pod"}}`,
			wantType:    "RequestResponse", wantRegion: "us-east-1",
		},
		{
			name:        "region from the event",
			pod:         "moved",
			annotations: map[string]string{"region": "eu-central-1"},
			wantPayload: `{"name":"moved","labels":{"app":"my-pod"}}`,
			wantType:    "RequestResponse", wantRegion: "eu-central-1",
		},
		{
			name:        "a status outside policy.status.allow fails",
			pod:         "accepted",
			answer:      &lambdatest.Answer{Status: http.StatusAccepted, Payload: []byte(`{}`)},
			wantPayload: `{"name":"accepted","labels":{"app":"my-pod"}}`,
			wantType:    "RequestResponse", wantRegion: "us-east-1",
			wantErr: "status 202 not allowed by policy.status.allow", wantErrIs: sensor.ErrTriggerFailed,
		},
		{
			name:        "an Event invocation answers 202, which the policy refuses",
			pod:         "async",
			annotations: map[string]string{"invocationType": "Event"},
			wantPayload: `{"name":"async","labels":{"app":"my-pod"}}`,
			wantType:    "Event", wantRegion: "us-east-1",
			wantErr: "status 202 not allowed", wantErrIs: sensor.ErrTriggerFailed,
		},
		{
			name:        "a 500 fails",
			pod:         "broken",
			answer:      &lambdatest.Answer{Status: http.StatusInternalServerError},
			wantPayload: `{"name":"broken","labels":{"app":"my-pod"}}`,
			wantType:    "RequestResponse", wantRegion: "us-east-1",
			wantErr: "StatusCode: 500", wantErrIs: sensor.ErrTriggerFailed,
		},
		{
			name: "X-Amz-Function-Error fails",
			pod:  "raising",
			answer: &lambdatest.Answer{FunctionError: "Unhandled",
				Payload: []byte(`{"errorType":"ValueError","errorMessage":"no pods today"}`)},
			wantPayload: `{"name":"raising","labels":{"app":"my-pod"}}`,
			wantType:    "RequestResponse", wantRegion: "us-east-1",
			wantErr: "ValueError: no pods today", wantErrIs: awslambda.ErrFunction,
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			function := fmt.Sprintf("sensor-%d", i)
			if tc.answer != nil {
				lambda.Script(function, *tc.answer)
			}
			annotations := map[string]string{"function": function}
			for k, v := range tc.annotations {
				annotations[k] = v
			}
			s := loadSensor(t, "pods-lambda")
			err := s.Handle(context.Background(), podEvent("e-"+tc.pod, tc.pod, annotations))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Handle = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Handle = %v, want an error containing %q", err, tc.wantErr)
			case tc.wantErrIs != nil && !errors.Is(err, tc.wantErrIs):
				t.Fatalf("Handle = %v, want it to wrap %v", err, tc.wantErrIs)
			}
			if tc.wantErr != "" && !errors.Is(err, sensor.ErrTriggerFailed) {
				t.Errorf("Handle = %v, want ErrTriggerFailed so that the broker redelivers", err)
			}
			in := only(t, function)
			if string(in.Payload) != tc.wantPayload {
				t.Errorf("payload = %s, want %s", in.Payload, tc.wantPayload)
			}
			if in.InvocationType != tc.wantType || in.Region != tc.wantRegion || in.AccessKeyID != keyID {
				t.Errorf("invocation type %q in %q signed by %q, want %q in %q by %q",
					in.InvocationType, in.Region, in.AccessKeyID, tc.wantType, tc.wantRegion, keyID)
			}
		})
	}
}

func TestSensorCancelledContext(t *testing.T) {
	t.Parallel()
	lambda.Script("sensor-blocked", lambdatest.Answer{Block: true})
	s := loadSensor(t, "pods-lambda")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Handle(ctx, podEvent("e-blocked", "blocked", map[string]string{"function": "sensor-blocked"}))
	if !errors.Is(err, sensor.ErrTriggerFailed) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Handle = %v, want ErrTriggerFailed wrapping the deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Handle took %s after its deadline of 200ms", took)
	}
}

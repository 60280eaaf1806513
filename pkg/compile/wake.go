package compile

import (
	"context"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
)

// Scale to zero of pull sources: the Service of a pull type whose origin
// keeps a backlog (sources.KeepsBacklog) runs with FLINT_WAKE and min-scale
// 0, and a PingSource posts a wake request to it on a schedule; the request
// drains the origin's backlog and ends when it is empty, so Knative counts
// the pod busy exactly while it has work.
const (
	// AnnotationWakeSchedule, on an EventSource, is the cron schedule on
	// which its pull sources are woken; DefaultWakeSchedule when absent.
	AnnotationWakeSchedule = "flintevents.io/wake-schedule"
	// DefaultWakeSchedule wakes a pull source every minute.
	DefaultWakeSchedule = "* * * * *"
	// DefaultWakeDrain is how long one wake request may drain, below
	// Knative's default request timeout of 300s.
	DefaultWakeDrain = 90 * time.Second

	// wakePath is the path of a source's wake requests (sources/host's WakePath).
	wakePath = "/flint/wake"
	envWake  = "FLINT_WAKE"

	sourcesAPIVersion = "sources.knative.dev/v1"
)

// keptWarm reports whether the EventSource's own min-scale annotation keeps
// its pull sources running, which minute-level latency does not suit.
func keptWarm(annotations map[string]string) bool {
	n, err := strconv.Atoi(annotations[annotationMinScale])
	return err == nil && n >= 1
}

// wakeSchedule is the EventSource's wake schedule, checked as Knative
// checks a PingSource's; a problem is at its annotation.
func wakeSchedule(annotations map[string]string) (string, *apis.FieldError) {
	s, ok := annotations[AnnotationWakeSchedule]
	if !ok {
		return DefaultWakeSchedule, nil
	}
	spec := sourcesv1.PingSourceSpec{Schedule: s}
	spec.Sink.URI = apis.HTTP("example.invalid")
	if fe := spec.Validate(context.Background()); fe != nil {
		return "", &apis.FieldError{
			Message: fmt.Sprintf("invalid wake schedule %q: %s", s, fe.Error()),
			Paths:   []string{"metadata.annotations[" + AnnotationWakeSchedule + "]"},
		}
	}
	return s, nil
}

// WakeLatency says, for a people-facing summary, how long an event may wait
// at its origin under a wake schedule.
func WakeLatency(schedule string) string {
	if schedule == DefaultWakeSchedule {
		return "up to a minute"
	}
	return "until the next wake (" + schedule + ")"
}

// wakeObject is the PingSource that wakes the pull source Service svc of src
// on schedule.
func wakeObject(src Source, svc string, labels map[string]string, schedule string) Object {
	ps := &sourcesv1.PingSource{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcesAPIVersion, Kind: "PingSource"},
		ObjectMeta: objectMeta(shortName(svc+"-wake", maxNameLength), src.Namespace, labels),
	}
	ps.Spec.Schedule = schedule
	ps.Spec.ContentType = "application/json"
	ps.Spec.Data = `{"wake":` + strconv.Quote(svc) + `}`
	ps.Spec.Sink = duckv1.Destination{
		Ref: &duckv1.KReference{APIVersion: servingAPIVersion, Kind: "Service", Namespace: src.Namespace, Name: svc},
		URI: &apis.URL{Path: wakePath},
	}
	return Object{Value: ps, Comment: fmt.Sprintf(
		"Wakes the %s source Service %s on schedule %q: each wake drains the origin's backlog\n"+
			"into the broker, and the Service scales to zero again once it is idle. An event waits\n"+
			"%s at its origin; annotate EventSource %s with %s: \"1\" to keep it running instead.",
		src.Key, svc, schedule, WakeLatency(schedule), src.EventSource.Name, annotationMinScale)}
}

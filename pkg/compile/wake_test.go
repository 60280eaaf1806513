package compile_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/sources/host"
)

// TestPullSourceScalesToZero compiles the hdfs pull source of
// testdata/source-kinds.yaml under the EventSource annotations that choose
// how it runs: woken every minute by default, on its own schedule, or kept
// warm; a schedule Knative would refuse is refused here, at its annotation.
func TestPullSourceScalesToZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		annotations  map[string]string
		wantMinScale string
		wantSchedule string // "" for no PingSource
		wantErr      string
	}{
		{name: "default", wantMinScale: "0", wantSchedule: "* * * * *"},
		{name: "own schedule", annotations: map[string]string{compile.AnnotationWakeSchedule: "*/5 * * * *"},
			wantMinScale: "0", wantSchedule: "*/5 * * * *"},
		{name: "kept warm", annotations: map[string]string{"autoscaling.knative.dev/min-scale": "1"}, wantMinScale: "1"},
		{name: "bad schedule", annotations: map[string]string{compile.AnnotationWakeSchedule: "every minute"},
			wantErr: `invalid wake schedule "every minute"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := loadPath(t, "testdata/source-kinds.yaml")
			for _, es := range in.EventSources {
				if es.Name == "lake" {
					es.Annotations = tc.annotations
				}
			}
			objs, err := compile.Cluster(mustCompile(t, in), compile.ClusterOptions{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) ||
					!strings.Contains(err.Error(), "metadata.annotations["+compile.AnnotationWakeSchedule+"]") {
					t.Fatalf("Cluster() error = %v, want one containing %q at the annotation", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			svcObj, ok := findObject(objs, "Service/team/lake-hdfs")
			if !ok {
				t.Fatal("no Knative Service team/lake-hdfs")
			}
			ksvc := svcObj.Value.(*servingv1.Service)
			if got := ksvc.Spec.Template.Annotations["autoscaling.knative.dev/min-scale"]; got != tc.wantMinScale {
				t.Errorf("min-scale = %q, want %q", got, tc.wantMinScale)
			}
			wake := envOf(ksvc.Spec.Template.Spec.Containers[0], host.EnvWake)
			pingObj, hasPing := findObject(objs, "PingSource/team/lake-hdfs-wake")
			if tc.wantSchedule == "" {
				if hasPing || wake != "" {
					t.Errorf("a source kept warm has a PingSource (%v) or %s=%q", hasPing, host.EnvWake, wake)
				}
				return
			}
			if wake != compile.DefaultWakeDrain.String() {
				t.Errorf("%s = %q, want %s", host.EnvWake, wake, compile.DefaultWakeDrain)
			}
			if !hasPing {
				t.Fatal("no PingSource team/lake-hdfs-wake")
			}
			ps := pingObj.Value.(*sourcesv1.PingSource)
			if ps.Spec.Schedule != tc.wantSchedule {
				t.Errorf("schedule = %q, want %q", ps.Spec.Schedule, tc.wantSchedule)
			}
			ref, uri := ps.Spec.Sink.Ref, ps.Spec.Sink.URI
			if ref == nil || ref.Kind != "Service" || ref.APIVersion != "serving.knative.dev/v1" || ref.Name != "lake-hdfs" || uri == nil || uri.Path != host.WakePath {
				t.Errorf("sink = %+v %v, want the Knative Service lake-hdfs at %s", ref, uri, host.WakePath)
			}
			if !strings.Contains(pingObj.Comment, "waits") {
				t.Errorf("the PingSource's comment does not say how long an event waits: %q", pingObj.Comment)
			}
		})
	}
}

func envOf(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestPublishSubscribeSourceStaysWarm compiles a redis source, whose
// channels keep nothing for a reader that is away: it runs always, with no
// PingSource, whatever the EventSource says.
func TestPublishSubscribeSourceStaysWarm(t *testing.T) {
	t.Parallel()
	objs := mustCluster(t, loadPath(t, "../../examples/redis"))
	var found bool
	for _, o := range objs {
		if o.Kind() == "PingSource" {
			t.Errorf("a publish/subscribe source got PingSource %s", o.Value.GetName())
		}
		ksvc, ok := o.Value.(*servingv1.Service)
		if !ok || ksvc.Labels[compile.LabelSourceType] != "redis" {
			continue
		}
		found = true
		if got := ksvc.Spec.Template.Annotations["autoscaling.knative.dev/min-scale"]; got != "1" {
			t.Errorf("redis source %s has min-scale %q, want 1", ksvc.Name, got)
		}
		if w := envOf(ksvc.Spec.Template.Spec.Containers[0], host.EnvWake); w != "" {
			t.Errorf("redis source %s has %s=%q", ksvc.Name, host.EnvWake, w)
		}
	}
	if !found {
		t.Fatal("no redis source Service compiled")
	}
}

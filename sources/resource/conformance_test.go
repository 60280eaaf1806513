package resource_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/resource"
	"github.com/flintevents/flint/sources/sourcetest"
)

// inNamespace is a resource source watching a namespace of its own, so that
// the conformance runs, which share one YAML, do not see each other's
// objects; emitted tells the trigger when the source has emitted.
type inNamespace struct {
	*resource.Source
	namespace string
	emitted   chan struct{}
}

func (s *inNamespace) Run(ctx context.Context, emit sources.Emitter) error {
	return s.Source.Run(ctx, func(ctx context.Context, ev sources.Event) error {
		err := emit(ctx, ev)
		if err == nil {
			select {
			case s.emitted <- struct{}{}:
			default:
			}
		}
		return err
	})
}

func TestConformance(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	typ, ok := sources.Lookup(resource.Type)
	factory := typ.Factory
	if !ok {
		t.Fatal("resource is not registered")
	}
	sourcetest.Run(t, sourcetest.Case{
		Factory: func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
			ns, err := env.Clients.Core.Namespaces().Create(context.Background(),
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "conformance-"}}, metav1.CreateOptions{})
			if err != nil {
				return nil, fmt.Errorf("creating a namespace: %w", err)
			}
			for name, entry := range es.Spec.Resource {
				entry.Namespace = ns.Name
				es.Spec.Resource[name] = entry
			}
			src, err := factory(es, deps)
			if err != nil {
				return nil, err
			}
			return &inNamespace{Source: src.(*resource.Source), namespace: ns.Name, emitted: make(chan struct{}, 1)}, nil
		},
		Deps:  sources.Deps{Cluster: env.Clients},
		Valid: "testdata/valid.yaml",
		Invalid: map[string]string{
			"testdata/invalid-label.yaml":      "spec.resource[example].filter.labels[0]",
			"testdata/invalid-field.yaml":      "spec.resource[example].filter.fields[0].value",
			"testdata/invalid-event-type.yaml": "spec.resource[example].eventTypes[1]",
		},
		Trigger: func(t *testing.T, r *sourcetest.Running) {
			src := r.Source.(*inNamespace)
			waitReady(t, src)
			createConfigMap(t, env, src.namespace, "emit-1", map[string]string{"app": "conformance"}, nil)
			select {
			case <-src.emitted:
			case <-time.After(20 * time.Second):
				t.Fatal("no event 20s after the ConfigMap was created")
			}
		},
		Check: func(t *testing.T, ev sources.Event) {
			if ev.Name != "example" {
				t.Errorf("name = %q, want example", ev.Name)
			}
			for path, want := range map[string]string{
				"type": "ADD", "body.metadata.name": "emit-1", "body.metadata.labels.app": "conformance",
				"oldBody": "", "group": "", "version": "v1", "resource": "configmaps", "metadata.team": "infra",
			} {
				if got := gjson.GetBytes(ev.Data, path).String(); got != want {
					t.Errorf("%s = %q, want %q in %s", path, got, want, ev.Data)
				}
			}
		},
		Reject: func(t *testing.T, r *sourcetest.Running) {
			src := r.Source.(*inNamespace)
			waitReady(t, src)
			// One ConfigMap the label selector excludes, one the field
			// filter drops; neither may become an event.
			createConfigMap(t, env, src.namespace, "emit-2", map[string]string{"app": "other"}, nil)
			createConfigMap(t, env, src.namespace, "skip-1", map[string]string{"app": "conformance"}, nil)
			select {
			case <-src.emitted:
				t.Fatal("an excluded ConfigMap was emitted")
			case <-time.After(time.Second):
			}
		},
	})
}

func waitReady(t *testing.T, src *inNamespace) {
	t.Helper()
	select {
	case <-src.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("informers not synced after 30s")
	}
}

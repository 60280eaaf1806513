package pull_test

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/pull"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	withEntries := func(names ...string) *v1alpha1.EventSource {
		es := &v1alpha1.EventSource{}
		es.Name = "queues"
		es.Spec.Redis = map[string]v1alpha1.RedisEventSource{}
		for _, n := range names {
			es.Spec.Redis[n] = v1alpha1.RedisEventSource{HostAddress: "127.0.0.1:6379"}
		}
		return es
	}
	dial := func(context.Context) (pull.Consumer, error) { return nil, nil }
	good := func(string, *zap.Logger) (pull.Entry, *apis.FieldError) { return pull.Entry{Dial: dial}, nil }
	tests := []struct {
		name    string
		es      *v1alpha1.EventSource
		build   pull.EntryBuilder
		wantErr []string // each must appear in the error
	}{
		{name: "nil eventsource", build: good, wantErr: []string{"eventsource is nil"}},
		{name: "no entries", es: withEntries(), build: good, wantErr: []string{"has no spec.redis entries", "spec.redis"}},
		{
			name: "every bad entry named",
			es:   withEntries("a", "b", "c"),
			build: func(name string, _ *zap.Logger) (pull.Entry, *apis.FieldError) {
				if name == "b" {
					return pull.Entry{Dial: dial}, nil
				}
				return pull.Entry{}, apis.ErrMissingField("channels")
			},
			wantErr: []string{"spec.redis[a].channels", "spec.redis[c].channels"},
		},
		{name: "good", es: withEntries("a", "b"), build: good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var seen []string
			build := func(name string, log *zap.Logger) (pull.Entry, *apis.FieldError) {
				if log == nil {
					t.Errorf("entry %s got no logger", name)
				}
				seen = append(seen, name)
				return tt.build(name, log)
			}
			src, err := pull.Build(tt.es, "redis", sources.Deps{}, build)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want one naming %v", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
				return
			}
			if err != nil || src == nil {
				t.Fatalf("Build: %v", err)
			}
			if strings.Join(seen, ",") != "a,b" {
				t.Errorf("entries built %v, want a,b in name order", seen)
			}
		})
	}
}

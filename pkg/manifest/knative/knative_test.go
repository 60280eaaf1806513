package knative_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/manifest/document"
	"github.com/flintevents/flint/pkg/manifest/knative"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		paths                  []string
		wantBrokers, wantTrigs []string
		wantProblems           []string
	}{
		{name: "brokers and triggers", paths: []string{"testdata/valid.yaml"},
			wantBrokers: []string{"demo/default"}, wantTrigs: []string{"demo/t"}},
		{name: "argo kinds, unknown fields, invalid and duplicate triggers", paths: []string{"testdata/mixed.yaml"},
			wantTrigs: []string{"/t", "/t"},
			wantProblems: []string{
				`testdata/mixed.yaml#1: kind: unknown kind "EventSource" of apiVersion "argoproj.io/v1alpha1"; expected Broker or Trigger (eventing.knative.dev/v1)`,
				`testdata/mixed.yaml#2: spec.colour: unknown field`,
				`testdata/mixed.yaml#2: spec.subscriber.ref: expected at least one, got none`,
				`testdata/mixed.yaml#2: spec.subscriber.uri: expected at least one, got none`,
				`testdata/mixed.yaml#3: metadata.name: duplicate Trigger "t" in namespace "default" (also testdata/mixed.yaml#2)`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set, problems, err := knative.Load(context.Background(), document.Reader{}, tc.paths...)
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tc.wantProblems) {
				t.Errorf("problems =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.wantProblems, "\n  "))
			}
			var brokers, trigs []string
			for _, b := range set.Brokers {
				brokers = append(brokers, b.Namespace+"/"+b.Name)
			}
			for _, tr := range set.Triggers {
				trigs = append(trigs, tr.Namespace+"/"+tr.Name)
			}
			if !slices.Equal(brokers, tc.wantBrokers) || !slices.Equal(trigs, tc.wantTrigs) {
				t.Errorf("brokers %v, triggers %v; want %v, %v", brokers, trigs, tc.wantBrokers, tc.wantTrigs)
			}
		})
	}
}

func TestLoadInputError(t *testing.T) {
	t.Parallel()
	if _, _, err := knative.Load(context.Background(), document.Reader{}, "testdata/nope.yaml"); err == nil {
		t.Fatal("Load() of a missing file returned no error")
	}
}

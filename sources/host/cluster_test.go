package host_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/host"
)

// clusterType is a type key registered, in this test binary only, as one
// that needs a cluster; its factory refuses to build, naming the cluster it
// was handed, so that Main's error shows what the host passed.
const clusterType = "calendar"

func init() {
	sources.Register(clusterType, sources.Watch, func(_ *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
		if deps.Cluster == nil {
			return nil, errors.New("handed no cluster")
		}
		return nil, fmt.Errorf("handed the cluster at %s", deps.Cluster.Server())
	}, sources.NeedsCluster(fakeConnect))
}

// fakeCluster is a cluster whose server is the kubeconfig it was reached through.
type fakeCluster string

func (c fakeCluster) Server() string { return string(c) }

// fakeConnect reaches no cluster without a kubeconfig and fails on one named "broken".
func fakeConnect(kubeconfig string, _ *zap.Logger) (sources.Cluster, error) {
	switch kubeconfig {
	case "":
		return nil, nil
	case "broken":
		return nil, errors.New("kubeconfig is broken")
	}
	return fakeCluster(kubeconfig), nil
}

const calendarYAML = `apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: ticks
spec:
  calendar:
    tick: {interval: 10s}
`

// TestMainCluster checks what a host hands a type registered with
// sources.NeedsCluster: the cluster of --kubeconfig or KUBECONFIG, none when
// there is neither, and a failure to reach it as Main's error.
func TestMainCluster(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "--kubeconfig", args: []string{"--kubeconfig", "/etc/kube/a"}, wantErr: "handed the cluster at /etc/kube/a"},
		{name: "KUBECONFIG", env: map[string]string{"KUBECONFIG": "/etc/kube/b"}, wantErr: "handed the cluster at /etc/kube/b"},
		{name: "flag over environment", args: []string{"--kubeconfig", "/etc/kube/a"}, env: map[string]string{"KUBECONFIG": "/etc/kube/b"}, wantErr: "handed the cluster at /etc/kube/a"},
		{name: "no cluster", wantErr: "handed no cluster"},
		{name: "cluster not reached", args: []string{"--kubeconfig", "broken"}, wantErr: "connecting calendar sources to their cluster: kubeconfig is broken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"EVENTSOURCE_OBJECT": calendarYAML, "K_SINK": "http://127.0.0.1:1/ns/default", "LOG_LEVEL": "error"}
			for k, v := range tc.env {
				env[k] = v
			}
			err := host.Main(context.Background(), clusterType, tc.args, func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Main = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

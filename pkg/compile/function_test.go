package compile_test

import (
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"

	fsensor "github.com/flintevents/flint/functions/sensor"
	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/triggers"
	_ "github.com/flintevents/flint/triggers/builtin"
)

func TestFunctionEnvs(t *testing.T) {
	t.Parallel()
	in := load(t, "graph.yaml")
	g := mustCompile(t, in)
	if len(g.Sensors) == 0 {
		t.Fatal("testdata/graph.yaml compiles to no sensor")
	}
	tests := []struct {
		name string
		opts compile.FunctionOptions
		want map[string]string
	}{
		{"the NATS config/ installs", compile.FunctionOptions{Triggers: triggers.Lookup},
			map[string]string{"LOG_LEVEL": "info", fsensor.NATSURLEnv: "nats://nats.flint-system.svc.cluster.local:4222",
				fsensor.NATSUserEnv: "{{ secret:flint-nats-sensor:user }}", fsensor.NATSPasswordEnv: "{{ secret:flint-nats-sensor:password }}", fsensor.StateReplicasEnv: "3"}},
		{"one NATS server", compile.FunctionOptions{Triggers: triggers.Lookup, StateReplicas: 1},
			map[string]string{"LOG_LEVEL": "info", fsensor.NATSURLEnv: "nats://nats.flint-system.svc.cluster.local:4222",
				fsensor.NATSUserEnv: "{{ secret:flint-nats-sensor:user }}", fsensor.NATSPasswordEnv: "{{ secret:flint-nats-sensor:password }}", fsensor.StateReplicasEnv: "1"}},
		{"a NATS of one's own", compile.FunctionOptions{Triggers: triggers.Lookup, NATSURL: "nats://state.example:4222"},
			map[string]string{"LOG_LEVEL": "info", fsensor.NATSURLEnv: "nats://state.example:4222",
				fsensor.NATSUserEnv: "{{ secret:flint-nats-sensor:user }}", fsensor.NATSPasswordEnv: "{{ secret:flint-nats-sensor:password }}", fsensor.StateReplicasEnv: "3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := compile.Function(g.Sensors[0], in.EventSources, tc.opts)
			if err != nil {
				t.Fatalf("Function = %v", err)
			}
			var fn struct {
				Run struct {
					Envs []struct{ Name, Value string } `json:"envs"`
				} `json:"run"`
			}
			if err := yaml.Unmarshal(p.Files["func.yaml"], &fn); err != nil {
				t.Fatalf("func.yaml: %v\n%s", err, p.Files["func.yaml"])
			}
			got := map[string]string{}
			for _, e := range fn.Run.Envs {
				got[e.Name] = e.Value
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("func.yaml envs = %v, want %v", got, tc.want)
			}
		})
	}
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompileCapsDeliveryTimeout compiles a Sensor whose http trigger waits
// 600 s: the Trigger's delivery timeout is the revision's 300 s, and a
// warning names the trigger's timeout field and its file.
func TestCompileCapsDeliveryTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := run(t, "", "compile", "-f", "testdata/compile/timeouts.yaml", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	want := "warning: testdata/compile/timeouts.yaml#2: spec.triggers[0].template.http.timeout: one attempt may take 10m0s, longer than the 5m0s"
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	trigger, err := os.ReadFile(filepath.Join(dir, "default_trigger_slow-order.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(trigger), "timeout: PT5M\n") {
		t.Errorf("Trigger's delivery timeout is not PT5M:\n%s", trigger)
	}
}

// TestCompileIntoEarlierOutput compiles into directories that hold files
// already: an earlier output is replaced and loses what the new one no
// longer has, kn func's own files stay, and files no compile wrote are
// refused without --force and never removed.
func TestCompileIntoEarlierOutput(t *testing.T) {
	t.Parallel()
	const (
		twoSensors = "testdata/compile/two-sensors.yaml"
		oneSensor  = "testdata/compile/one-sensor.yaml"
	)
	tests := []struct {
		name string
		// earlier, when set, is compiled into the directory first.
		earlier string
		// files are written into the directory before compiling (after earlier).
		files map[string]string
		input string
		force bool
		// wantErr is in the output of a refused compile; "" when it succeeds.
		wantErr string
		// present and absent are files of the directory after compiling.
		present, absent []string
		// wantOut are lines of the summary.
		wantOut []string
	}{
		{name: "into an empty directory", input: twoSensors,
			present: []string{"default_trigger_audit-created.yaml", "default_trigger_billing-paid.yaml", "functions/billing/func.yaml", ".flint-compile"},
			wantOut: []string{"wrote DIR: 1 source Service, 1 EventSource ConfigMap, 1 Broker, 2 Triggers, 0 RBAC objects, 0 hook Jobs, 0 wake PingSources, 0 copied objects, 2 functions",
				"next:", "  ko apply -f DIR",
				"  kubectl -n flint-system get secret flint-nats-sensor -o go-template='{{range $k, $v := .data}}{{$k}}={{$v | base64decode}}{{\"\\n\"}}{{end}}' | kubectl -n default create secret generic flint-nats-sensor --from-env-file=/dev/stdin --dry-run=client -o yaml | kubectl apply -f -    # once: the NATS user sensor functions connect as",
				"  kn func deploy --path DIR/functions/audit", "  kn func deploy --path DIR/functions/billing"}},
		{name: "a Sensor less than the earlier output", earlier: twoSensors, input: oneSensor,
			files:   map[string]string{"functions/billing/.func/built-image": "x", "functions/audit/.func/built-image": "x"},
			present: []string{"default_trigger_audit-created.yaml", "functions/audit/func.yaml", "functions/audit/.func/built-image", "functions/billing/.func/built-image"},
			absent:  []string{"default_trigger_billing-paid.yaml", "functions/billing/func.yaml", "functions/billing/handle.go"},
			wantOut: []string{"files of the earlier output that this one no longer has: default_trigger_billing-paid.yaml, functions/billing/func.yaml"}},
		{name: "sources with managed hooks", input: "../compile/testdata/hooks.yaml",
			present: []string{"ci_job_managed-github-hooks-register.yaml", "teardown/ci_job_managed-github-hooks-unregister.yaml"},
			wantOut: []string{"2 hook Jobs", "wrote DIR/teardown: 1 Job removing managed hooks, to apply when the EventSources are taken down"}},
		{name: "a pull source", input: "../../examples/kafka",
			present: []string{"default_pingsource_kafka-kafka-wake.yaml"},
			wantOut: []string{"1 wake PingSource",
				`source default/kafka-kafka scales to zero, woken on "* * * * *": an event waits up to a minute at its origin (annotate its EventSource autoscaling.knative.dev/min-scale: "1" to keep it running)`}},
		{name: "the same input again", earlier: twoSensors, input: twoSensors,
			present: []string{"default_trigger_billing-paid.yaml", "functions/billing/func.yaml"},
			wantOut: []string{"2 Triggers"}},
		{name: "files compile did not write", files: map[string]string{"notes.yaml": "kind: Secret", "README": "mine"}, input: oneSensor,
			wantErr: "holds 2 files that flint compile did not write (README, notes.yaml)",
			absent:  []string{".flint-compile", "default_trigger_audit-created.yaml"}},
		{name: "files compile did not write, with --force", earlier: twoSensors, files: map[string]string{"notes.yaml": "kind: Secret"}, input: oneSensor, force: true,
			present: []string{"notes.yaml", "default_trigger_audit-created.yaml"},
			absent:  []string{"default_trigger_billing-paid.yaml"},
			wantOut: []string{"left 1 file that flint compile did not write (--force): notes.yaml"}},
		{name: "a list naming files outside the directory", earlier: oneSensor,
			files:   map[string]string{".flint-compile": "default_trigger_audit-created.yaml\n../outside.yaml\n/etc/hostname\n"},
			input:   oneSensor,
			present: []string{"default_trigger_audit-created.yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			outside := filepath.Join(parent, "outside.yaml")
			if err := os.WriteFile(outside, []byte("kind: ConfigMap"), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(parent, "out")
			if tc.earlier != "" {
				if code, out, errOut := run(t, "", "compile", "-f", tc.earlier, "-o", dir); code != 0 {
					t.Fatalf("earlier compile: exit %d\n%s%s", code, out, errOut)
				}
			}
			for name, data := range tc.files {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"compile", "-f", tc.input, "-o", dir}
			if tc.force {
				args = append(args, "--force")
			}
			code, out, errOut := run(t, "", args...)
			if tc.wantErr != "" {
				if code == 0 || !strings.Contains(out+errOut, tc.wantErr) {
					t.Errorf("exit %d, want a refusal saying %q\n%s%s", code, tc.wantErr, out, errOut)
				}
			} else if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			out = strings.ReplaceAll(out, dir, "DIR")
			for _, want := range tc.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, name := range tc.present {
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			for _, name := range tc.absent {
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name))); err == nil {
					t.Errorf("%s is still there", name)
				}
			}
			if _, err := os.Stat(outside); err != nil {
				t.Errorf("a file outside the output directory is gone: %v", err)
			}
		})
	}
}

// TestCompileClusterDomain compiles for a cluster whose Services' domain is
// not cluster.local: the source's K_SINK and the function's NATS are in it.
func TestCompileClusterDomain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		domain  string
		wantErr string
		// want are texts of the Service and of func.yaml.
		want [2]string
	}{
		{domain: "", want: [2]string{"http://broker-ingress.flint-system.svc.cluster.local/default/default", "nats://nats.flint-system.svc.cluster.local:4222"}},
		{domain: "corp.internal", want: [2]string{"http://broker-ingress.flint-system.svc.corp.internal/default/default", "nats://nats.flint-system.svc.corp.internal:4222"}},
		{domain: "Not A Domain", wantErr: `--cluster-domain "Not A Domain"`},
	}
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := []string{"compile", "-f", "testdata/compile/one-sensor.yaml", "-o", dir}
			if tc.domain != "" {
				args = append(args, "--cluster-domain", tc.domain)
			}
			code, out, errOut := run(t, "", args...)
			if tc.wantErr != "" {
				if code == 0 || !strings.Contains(errOut, tc.wantErr) {
					t.Fatalf("exit %d, want an error saying %q\n%s%s", code, tc.wantErr, out, errOut)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			for i, name := range []string{"default_service_orders-webhook.yaml", "functions/audit/func.yaml"} {
				b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), tc.want[i]) {
					t.Errorf("%s lacks %q:\n%s", name, tc.want[i], b)
				}
			}
		})
	}
}

// TestCompileWarnsOfReplacedServiceAccount compiles a Sensor whose k8s
// triggers get an account of their own: a warning names its
// serviceAccountName, which the function does not run as.
func TestCompileWarnsOfReplacedServiceAccount(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "compile", "-f", "../compile/testdata/cluster-triggers.yaml", "-o", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	want := "warning: ../compile/testdata/cluster-triggers.yaml#2: spec.template.serviceAccountName: the function runs as ServiceAccount k8s-actions"
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	if strings.Count(errOut, "serviceAccountName") != 1 {
		t.Errorf("want one warning about a serviceAccountName:\n%s", errOut)
	}
}

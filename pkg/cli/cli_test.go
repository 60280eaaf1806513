package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func run(t *testing.T, stdin string, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	root := NewRootCommand(IO{In: strings.NewReader(stdin), Out: &o, Err: &e})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	switch ee := err.(type) {
	case nil:
	case exitError:
		code = ee.code
	default:
		code = 1
		e.WriteString(err.Error())
	}
	return code, o.String(), e.String()
}

func TestValidateExamples(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "validate", "-f", "../../examples/")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"ok eventsource/webhook", "ok sensor/webhook", "ok eventsource/k8s-pods", "ok sensor/k8s-pods-lambda"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestValidateProblems(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "", "validate", "-f", "testdata/bad.yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		`warning: testdata/bad.yaml#1: spec.webhook[example].prot: unknown field, did you mean "port"?`,
		"testdata/bad.yaml#1: spec.webhook[example].port: missing field(s)",
		"testdata/bad.yaml#2: spec.dependencies[0].filters.data[0].value[0]",
		"testdata/bad.yaml#2: spec.triggers[0].template.conditions",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ok ") {
		t.Errorf("an object with problems was reported ok:\n%s", out)
	}
}

func TestValidateMigration(t *testing.T) {
	t.Parallel()
	const (
		atLeastOnce = `testdata/migrate.yaml#2: spec.triggers[0].template.atLeastOnce: unknown field`
		policy      = `testdata/migrate.yaml#2: spec.triggers[0].template.policy: unknown field`
		skipped     = `note: testdata/migrate.yaml#3: WorkflowTemplate argoproj.io/v1alpha1 "hello" is not read by flint; skipped`
		whisk       = `testdata/trigger-type.yaml: spec.triggers[0].template: expected exactly one of [argoWorkflow, awsLambda, azureEventHubs, azureServiceBus, custom, email, http, k8s, kafka, log, nats, openWhisk, pulsar, slack], got none; openwhisk: unknown field, did you mean "openWhisk"?`
	)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
		wantNot  []string
	}{
		{
			name: "unknown fields are warnings, other kinds are skipped",
			args: []string{"validate", "-f", "testdata/migrate.yaml"},
			want: []string{"warning: " + atLeastOnce + " (ignored", "warning: " + policy + " (ignored", skipped,
				"ok eventsource/webhook\n", "ok sensor/migrate\n"},
		},
		{
			name:     "--strict makes unknown fields errors",
			args:     []string{"validate", "--strict", "-f", "testdata/migrate.yaml"},
			wantCode: 1,
			want:     []string{atLeastOnce + "\n", policy + "\n", skipped, "ok eventsource/webhook\n"},
			wantNot:  []string{"warning:", "ok sensor/migrate"},
		},
		{
			name:     "a trigger template without a known type stays an error, with the did-you-mean",
			args:     []string{"validate", "-f", "testdata/trigger-type.yaml"},
			wantCode: 1,
			want:     []string{whisk + "\n"},
			wantNot:  []string{"warning:", "ok "},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, "", tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.wantCode, out, errOut)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, not := range tc.wantNot {
				if strings.Contains(out, not) {
					t.Errorf("output has %q:\n%s", not, out)
				}
			}
		})
	}
}

func TestCompileCopiesOtherKindsAndWarns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		strict   bool
		wantCode int
	}{
		{name: "warnings"},
		{name: "strict", strict: true, wantCode: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := []string{"compile", "-f", "testdata/migrate.yaml", "-o", dir, "--flint-source", "../.."}
			if tc.strict {
				args = append(args, "--strict")
			}
			code, out, errOut := run(t, "", args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.wantCode, out, errOut)
			}
			if tc.strict {
				if !strings.Contains(out, "spec.triggers[0].template.policy: unknown field\n") {
					t.Errorf("output lacks the unknown field as a problem:\n%s", out)
				}
				return
			}
			for _, want := range []string{
				"warning: testdata/migrate.yaml#2: spec.triggers[0].template.policy: unknown field",
				`note: testdata/migrate.yaml#3: WorkflowTemplate argoproj.io/v1alpha1/hello is not compiled by flint; copied unchanged`,
			} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			var copied string
			files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), "kind: WorkflowTemplate") {
					copied = string(b)
				}
			}
			if !strings.Contains(copied, "cpu: 1\n") || !strings.Contains(copied, "name: hello") {
				t.Errorf("WorkflowTemplate not copied unchanged; files %v:\n%s", files, copied)
			}
		})
	}
}

func TestValidateStdin(t *testing.T) {
	t.Parallel()
	doc := "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: default\n"
	code, out, errOut := run(t, doc, "validate", "-f", "-")
	if code != 0 || out != "ok broker/default\n" {
		t.Fatalf("exit %d, out %q, err %q", code, out, errOut)
	}
}

func TestValidateNeedsFiles(t *testing.T) {
	t.Parallel()
	if code, _, errOut := run(t, "", "validate"); code == 0 || !strings.Contains(errOut, "-f") {
		t.Fatalf("exit %d, err %q", code, errOut)
	}
}

// TestVersion: `flint version` and `flint --version` print the same line.
func TestVersion(t *testing.T) {
	t.Parallel()
	line := regexp.MustCompile(`^flint \S.* ` + runtime.GOOS + `/` + runtime.GOARCH + ` go\S+\n$`)
	var outs []string
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := run(t, "", args...)
		if code != 0 || !line.MatchString(out) {
			t.Errorf("flint %s: exit %d, out %q, err %q; want a line matching %s", strings.Join(args, " "), code, out, errOut, line)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] {
		t.Errorf("flint version printed %q, flint --version %q", outs[0], outs[1])
	}
}

// TestBrokerHelp: `flint broker --help` is laid out like every other
// command's help, with the broker image's flags in their long form.
func TestBrokerHelp(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "broker", "--help")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, err %q", code, errOut)
	}
	for _, want := range []string{
		"\n\nUsage:\n  flint broker --nats URL -f FILE... [flags]\n\nFlags:\n",
		"  -f, --filename stringArray ",
		"      --nats string ",
		"      --cluster ",
		"      --stream-max-age duration ",
		"  -h, --help ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "(default 0s)") {
		t.Errorf("help shows zero defaults:\n%s", out)
	}
	if strings.Contains(out, "Usage of broker") || strings.Contains(out, "\n  -nats ") {
		t.Errorf("help is the Go flag package's:\n%s", out)
	}
	// Its layout is that of `flint dev --help`: the long text, then usage and flags.
	_, devOut, _ := run(t, "", "dev", "--help")
	shape := regexp.MustCompile(`(?s)^\S.*\n\nUsage:\n  flint \S+ .*\[flags\]\n\nFlags:\n.*  -h, --help `)
	for name, help := range map[string]string{"broker": out, "dev": devOut} {
		if !shape.MatchString(help) {
			t.Errorf("flint %s --help does not match %s:\n%s", name, shape, help)
		}
	}
}

// TestBrokerFlags: the flags reach the broker: a bad --role and -f with
// --cluster are refused with their names.
func TestBrokerFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"broker", "-f", "x.yaml", "--role", "everything"}, `--role "everything": must be all, ingress or dispatcher`},
		{[]string{"broker", "--filename", "x.yaml", "--cluster"}, "--cluster and -f exclude each other"},
		{[]string{"broker"}, "no manifests: pass at least one -f file, or --cluster"},
	}
	for _, tc := range tests {
		code, _, errOut := run(t, "", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("flint %s: exit %d, err %q, want %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}

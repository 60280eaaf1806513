package cli

import (
	"bytes"
	"context"
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
		"testdata/bad.yaml#1: spec.webhook[example].prot: unknown field",
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

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "flint ") {
		t.Fatalf("exit %d, out %q", code, out)
	}
}

package argoworkflow

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/registry"
)

// submitOptions are the argo CLI flags of `args` that have a meaning on the
// Workflow created.
type submitOptions struct {
	name, generateName, serviceAccount, entrypoint string
	labels                                         map[string]string
	parameters                                     [][2]string // name, value in order
}

// mappedFlags names the flags parseArgs takes, for messages.
const mappedFlags = "--name, --generate-name, -p/--parameter, -l/--labels, --serviceaccount, --entrypoint"

// parseArgs reads `args` as the argo CLI reads them (`--flag value`,
// `--flag=value`); problems name `args[i]`. Operations that create no
// Workflow take no args.
func parseArgs(op v1alpha1.ArgoWorkflowOperation, args []string) (submitOptions, *apis.FieldError) {
	var opts submitOptions
	var errs *apis.FieldError
	creates := op == v1alpha1.Submit || op == v1alpha1.SubmitFrom || op == v1alpha1.Resubmit
	for i := 0; i < len(args); i++ {
		at := i
		arg := args[i]
		if !creates {
			errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("%q: %s takes no args", arg, op), apis.CurrentField).ViaFieldIndex("args", at))
			continue
		}
		flag, value, hasValue := strings.Cut(arg, "=")
		switch flag {
		case "--name", "--generate-name", "-p", "--parameter", "-l", "--labels", "--serviceaccount", "--entrypoint":
		default:
			errs = errs.Also(registry.NotRunnable(fmt.Sprintf("argo CLI flag %q (runnable: %s)", arg, mappedFlags), apis.CurrentField).
				ViaFieldIndex("args", at))
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("%s needs a value", flag), apis.CurrentField).ViaFieldIndex("args", at))
				continue
			}
			i++
			value = args[i]
		}
		switch flag {
		case "--name":
			opts.name = value
		case "--generate-name":
			opts.generateName = value
		case "--serviceaccount":
			opts.serviceAccount = value
		case "--entrypoint":
			opts.entrypoint = value
		case "-p", "--parameter":
			name, v, ok := strings.Cut(value, "=")
			if !ok || name == "" {
				errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("%s %q: expected NAME=VALUE", flag, value), apis.CurrentField).ViaFieldIndex("args", at))
				continue
			}
			opts.parameters = append(opts.parameters, [2]string{name, v})
		case "-l", "--labels":
			for _, kv := range strings.Split(value, ",") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("%s %q: expected KEY=VALUE[,KEY=VALUE]", flag, value), apis.CurrentField).ViaFieldIndex("args", at))
					break
				}
				if opts.labels == nil {
					opts.labels = map[string]string{}
				}
				opts.labels[k] = v
			}
		}
	}
	return opts, errs
}

// apply sets the options on a Workflow as the argo CLI does: passed
// parameters first, then the Workflow's own that were not passed.
func (o submitOptions) apply(wf *unstructured.Unstructured) error {
	if o.name != "" {
		wf.SetName(o.name)
	}
	if o.generateName != "" {
		wf.SetGenerateName(o.generateName)
	}
	if len(o.labels) > 0 {
		labels := wf.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		for k, v := range o.labels {
			labels[k] = v
		}
		wf.SetLabels(labels)
	}
	if o.serviceAccount != "" {
		if err := unstructured.SetNestedField(wf.Object, o.serviceAccount, "spec", "serviceAccountName"); err != nil {
			return fmt.Errorf("setting spec.serviceAccountName: %w", err)
		}
	}
	if o.entrypoint != "" {
		if err := unstructured.SetNestedField(wf.Object, o.entrypoint, "spec", "entrypoint"); err != nil {
			return fmt.Errorf("setting spec.entrypoint: %w", err)
		}
	}
	if len(o.parameters) == 0 {
		return nil
	}
	passed := map[string]bool{}
	params := make([]any, 0, len(o.parameters))
	for _, p := range o.parameters {
		passed[p[0]] = true
		params = append(params, map[string]any{"name": p[0], "value": p[1]})
	}
	old, _, err := unstructured.NestedSlice(wf.Object, "spec", "arguments", "parameters")
	if err != nil {
		return fmt.Errorf("reading spec.arguments.parameters: %w", err)
	}
	for _, p := range old {
		if m, ok := p.(map[string]any); ok {
			if name, _ := m["name"].(string); passed[name] {
				continue
			}
		}
		params = append(params, p)
	}
	if err := unstructured.SetNestedSlice(wf.Object, params, "spec", "arguments", "parameters"); err != nil {
		return fmt.Errorf("setting spec.arguments.parameters: %w", err)
	}
	return nil
}

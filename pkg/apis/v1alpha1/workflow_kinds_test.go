package v1alpha1

import "testing"

func TestSubmitFromKind(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"WorkflowTemplate": KindWorkflowTemplate, "wftmpl": KindWorkflowTemplate, "workflowtemplate": KindWorkflowTemplate,
		"ClusterWorkflowTemplate": KindClusterWorkflowTemplate, "cwftmpl": KindClusterWorkflowTemplate,
		"CronWorkflow": KindCronWorkflow, "cronwf": KindCronWorkflow,
		"Workflow": "", "": "", "ConfigMap": "",
	} {
		if got := SubmitFromKind(in); got != want {
			t.Errorf("SubmitFromKind(%q) = %q, want %q", in, got, want)
		}
	}
}

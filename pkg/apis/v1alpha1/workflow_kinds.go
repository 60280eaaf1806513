package v1alpha1

import "strings"

// The Argo Workflows kinds an argoWorkflow trigger's `submit-from` operation
// submits a Workflow from.
const (
	KindWorkflowTemplate        = "WorkflowTemplate"
	KindClusterWorkflowTemplate = "ClusterWorkflowTemplate"
	KindCronWorkflow            = "CronWorkflow"
)

// SubmitFromKind maps a kind a Workflow can be submitted from, or the short
// name the argo CLI takes for it (wftmpl, cwftmpl, cronwf), to the kind; ""
// for any other.
func SubmitFromKind(kind string) string {
	switch strings.ToLower(kind) {
	case "workflowtemplate", "wftmpl":
		return KindWorkflowTemplate
	case "clusterworkflowtemplate", "cwftmpl":
		return KindClusterWorkflowTemplate
	case "cronworkflow", "cronwf":
		return KindCronWorkflow
	}
	return ""
}

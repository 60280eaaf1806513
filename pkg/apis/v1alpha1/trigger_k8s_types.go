package v1alpha1

import k8stypes "k8s.io/apimachinery/pkg/types"

// KubernetesResourceOperation is what a k8s trigger does with its resource.
type KubernetesResourceOperation string

const (
	// Create creates the resource (the default).
	Create KubernetesResourceOperation = "create"
	// Update updates the resource.
	Update KubernetesResourceOperation = "update"
	// Patch patches the resource.
	Patch KubernetesResourceOperation = "patch"
	// Delete deletes the resource.
	Delete KubernetesResourceOperation = "delete"
)

// ArgoWorkflowOperation is what an argoWorkflow trigger does with its workflow.
type ArgoWorkflowOperation string

const (
	// Submit submits a workflow (the default).
	Submit ArgoWorkflowOperation = "submit"
	// SubmitFrom submits a workflow from an existing resource.
	SubmitFrom ArgoWorkflowOperation = "submit-from"
	// Suspend suspends a workflow.
	Suspend ArgoWorkflowOperation = "suspend"
	// Resubmit resubmits a workflow.
	Resubmit ArgoWorkflowOperation = "resubmit"
	// Retry retries a workflow.
	Retry ArgoWorkflowOperation = "retry"
	// Resume resumes a workflow.
	Resume ArgoWorkflowOperation = "resume"
	// Terminate terminates a workflow.
	Terminate ArgoWorkflowOperation = "terminate"
	// Stop stops a workflow.
	Stop ArgoWorkflowOperation = "stop"
)

// StandardK8STrigger creates, updates, patches or deletes a Kubernetes object.
type StandardK8STrigger struct {
	// Source is where the object comes from.
	Source *ArtifactLocation `json:"source,omitempty"`
	// Operation is what to do; create when empty.
	Operation KubernetesResourceOperation `json:"operation,omitempty"`
	// Parameters are applied to the object JSON.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
	// PatchStrategy is the patch content type; merge patch when empty.
	PatchStrategy k8stypes.PatchType `json:"patchStrategy,omitempty"`
	// LiveObject fetches the live object before an update.
	LiveObject bool `json:"liveObject,omitempty"`
}

// ArgoWorkflowTrigger operates on an Argo Workflow.
type ArgoWorkflowTrigger struct {
	// Source is where the workflow comes from.
	Source *ArtifactLocation `json:"source,omitempty"`
	// Operation is what to do; submit when empty.
	Operation ArgoWorkflowOperation `json:"operation,omitempty"`
	// Parameters are applied to the workflow JSON.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
	// Args are extra arguments for the argo CLI.
	Args []string `json:"args,omitempty"`
}

package sensor

import (
	"slices"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// statusAllowed reports whether a trigger result status passes the trigger's
// policy. Without a status policy (or without its allow list) any status
// passes, even 500, as in Argo Events; otherwise the status must be listed.
func statusAllowed(policy *v1alpha1.TriggerPolicy, status int) bool {
	if policy == nil || policy.Status == nil || policy.Status.Allow == nil {
		return true
	}
	return slices.Contains(policy.Status.Allow, int32(status))
}

package controller

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"
)

// reasonNewGeneration is the reason of Ready while a new generation is being reconciled,
// as Knative's reconcilers write it.
const reasonNewGeneration = "NewObservedGenFailure"

// beginReconcile prepares an object's status for a reconcile as Knative's reconcilers
// do: every condition of its kind is there (Unknown when new), and a generation not
// observed yet makes Ready Unknown until the reconcile says otherwise.
func beginReconcile(obj pkgduckv1.KRShaped) {
	status := obj.GetStatus()
	set := obj.GetConditionSet()
	m := set.Manage(status)
	m.InitializeConditions()
	if status.ObservedGeneration != obj.GetGeneration() {
		m.MarkUnknown(set.GetTopLevelConditionType(), reasonNewGeneration, "unsuccessfully observed a new generation")
	}
}

// endReconcile records that obj's generation was reconciled, successfully or not, and
// gives each condition the lastTransitionTime it has in old unless its status changed;
// the conditions that did change share one time, now.
func endReconcile(obj, old pkgduckv1.KRShaped, now time.Time) {
	status := obj.GetStatus()
	status.ObservedGeneration = obj.GetGeneration()
	keepTransitionTimes(status.Conditions, old.GetStatus(), now)
}

// keepTransitionTimes sets the lastTransitionTime of each condition: that of the same
// condition in old when its status is the same, else now.
func keepTransitionTimes(conds pkgduckv1.Conditions, old *pkgduckv1.Status, now time.Time) {
	at := apis.VolatileTime{Inner: metav1.NewTime(now)}
	for i := range conds {
		c := &conds[i]
		if prev := old.GetCondition(c.Type); prev != nil && prev.Status == c.Status {
			c.LastTransitionTime = prev.LastTransitionTime
			continue
		}
		c.LastTransitionTime = at
	}
}

package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
)

func TestEndReconcileTransitionTimes(t *testing.T) {
	t.Parallel()
	then := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := then.Add(time.Hour)
	tests := []struct {
		name   string
		old    *apis.Condition // Ready before the reconcile; nil when there was none
		status corev1.ConditionStatus
		reason string
		want   time.Time // Ready's lastTransitionTime after it
	}{
		{"new condition", nil, corev1.ConditionUnknown, ReasonConsumerNotReady, now},
		{"same status and reason", &apis.Condition{Status: corev1.ConditionUnknown, Reason: ReasonConsumerNotReady}, corev1.ConditionUnknown, ReasonConsumerNotReady, then},
		{"same status, another reason", &apis.Condition{Status: corev1.ConditionFalse, Reason: ReasonBrokerDoesNotExist}, corev1.ConditionFalse, ReasonSubscriberResolveFailed, then},
		{"status changed", &apis.Condition{Status: corev1.ConditionUnknown, Reason: ReasonConsumerNotReady}, corev1.ConditionTrue, "", now},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := &eventingv1.Trigger{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
			if tc.old != nil {
				c := *tc.old
				c.Type = apis.ConditionReady
				c.LastTransitionTime = apis.VolatileTime{Inner: metav1.NewTime(then)}
				tr.Status.Conditions = []apis.Condition{c}
				tr.Status.ObservedGeneration = 3
			}
			old := tr.DeepCopy()
			beginReconcile(tr)
			tr.Status.Conditions = append(tr.Status.Conditions[:0:0], apis.Condition{
				Type: apis.ConditionReady, Status: tc.status, Reason: tc.reason,
				LastTransitionTime: apis.VolatileTime{Inner: metav1.NewTime(now.Add(time.Minute))},
			})
			endReconcile(tr, old, now)

			ready := tr.Status.GetCondition(apis.ConditionReady)
			if got := ready.LastTransitionTime.Inner.Time; !got.Equal(tc.want) {
				t.Errorf("Ready lastTransitionTime = %s, want %s", got, tc.want)
			}
			if tr.Status.ObservedGeneration != 3 {
				t.Errorf("observedGeneration = %d, want 3", tr.Status.ObservedGeneration)
			}
		})
	}
}

func TestBeginReconcileNewGeneration(t *testing.T) {
	t.Parallel()
	b := newBroker("team-a", "default", withBrokerReady())
	b.Generation = 2 // a spec change the status has not caught up with
	beginReconcile(b)
	ready := b.Status.GetCondition(apis.ConditionReady)
	if ready.Status != corev1.ConditionUnknown || ready.Reason != reasonNewGeneration {
		t.Errorf("Ready = %s %s, want Unknown %s", ready.Status, ready.Reason, reasonNewGeneration)
	}
	for _, c := range []apis.ConditionType{eventingv1.BrokerConditionIngress, eventingv1.BrokerConditionTriggerChannel} {
		if got := b.Status.GetCondition(c); got == nil || !got.IsTrue() {
			t.Errorf("%s = %+v, want it kept True", c, got)
		}
	}
}

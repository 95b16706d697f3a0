package host

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestRolloutState(t *testing.T) {
	three := int32(3)
	dep := func(observed int64, replicas, updated, available int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
		d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: &three}}
		d.Generation = 2
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: replicas,
			UpdatedReplicas: updated, AvailableReplicas: available, Conditions: conds}
		return d
	}
	deadline := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"}
	for _, c := range []struct {
		name string
		d    *appsv1.Deployment
		want int
	}{
		{"old generation, even if available", dep(1, 3, 3, 3), rolloutPending},
		{"old generation, deadline of the old one", dep(1, 3, 0, 0, deadline), rolloutPending},
		{"not all updated", dep(2, 3, 2, 2), rolloutPending},
		{"old replicas left", dep(2, 4, 3, 3), rolloutPending},
		{"updated but not available", dep(2, 3, 3, 2), rolloutPending},
		{"done", dep(2, 3, 3, 3), rolloutDone},
		{"deadline exceeded", dep(2, 3, 1, 1, deadline), rolloutFailed},
	} {
		if got, msg := rolloutState(c.d, 2); got != c.want {
			t.Errorf("%s: got %d (%s), want %d", c.name, got, msg, c.want)
		}
	}
}

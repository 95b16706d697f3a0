package host

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
)

// Rollout outcomes.
const (
	rolloutPending = iota
	rolloutDone
	rolloutFailed
)

// rolloutState judges a Deployment the way `kubectl rollout status` does:
// done when the controller has seen generation gen and every replica is
// updated and available; failed when it reports ProgressDeadlineExceeded.
func rolloutState(d *appsv1.Deployment, gen int64) (int, string) {
	if d.Status.ObservedGeneration < gen {
		return rolloutPending, "waiting for the controller to see generation " + fmt.Sprint(gen)
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return rolloutFailed, "progress deadline exceeded: " + c.Message
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	switch {
	case s.UpdatedReplicas < want:
		return rolloutPending, fmt.Sprintf("%d of %d replicas updated", s.UpdatedReplicas, want)
	case s.Replicas > s.UpdatedReplicas:
		return rolloutPending, fmt.Sprintf("%d old replicas pending termination", s.Replicas-s.UpdatedReplicas)
	case s.AvailableReplicas < s.UpdatedReplicas:
		return rolloutPending, fmt.Sprintf("%d of %d updated replicas available", s.AvailableReplicas, s.UpdatedReplicas)
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionFalse && want > 0 {
			return rolloutPending, "Deployment not available: " + c.Message
		}
	}
	return rolloutDone, "available"
}

// waitRollout watches the Deployment from the object apply returned until
// its rollout is done or failed, or h.Timeout passes (reported as failed).
func (h *Host) waitRollout(ctx context.Context, d *appsv1.Deployment) (bool, string, error) {
	gen := d.Generation
	if st, msg := rolloutState(d, gen); st != rolloutPending {
		return st == rolloutDone, msg, nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout())
	defer cancel()
	rv := d.ResourceVersion
	sel := fields.OneTermEqualSelector("metadata.name", d.Name).String()
	for {
		w, err := h.Kube.AppsV1().Deployments(h.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: rv})
		if err != nil {
			if ctx.Err() != nil {
				return false, "timed out after " + h.timeout().String(), nil
			}
			return false, "", failed("watch Deployment %s: %v", d.Name, err)
		}
		done, ok, msg := h.consume(ctx, w, gen, &rv)
		w.Stop()
		if done {
			return ok, msg, nil
		}
		if ctx.Err() != nil {
			return false, "timed out after " + h.timeout().String(), nil
		}
		time.Sleep(200 * time.Millisecond) // the watch closed: resume from rv
	}
}

func (h *Host) consume(ctx context.Context, w watch.Interface, gen int64, rv *string) (done, ok bool, msg string) {
	for {
		select {
		case <-ctx.Done():
			return false, false, ""
		case ev, open := <-w.ResultChan():
			if !open {
				return false, false, ""
			}
			d, isDep := ev.Object.(*appsv1.Deployment)
			if !isDep {
				*rv = "" // an error event (e.g. resource version too old): re-list
				continue
			}
			if ev.Type == watch.Deleted {
				return true, false, "the Deployment was deleted"
			}
			*rv = d.ResourceVersion
			if st, m := rolloutState(d, gen); st != rolloutPending {
				return true, st == rolloutDone, m
			}
		}
	}
}

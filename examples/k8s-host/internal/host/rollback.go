package host

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
	"spinner_rollback.example/k8s-host/internal/render"
	"spinner_rollback.example/k8s-host/internal/state"
)

// Rollback carries out a plan: provisions the new volumes it names (PVCs
// from VolumeSnapshots; the old claims are kept), commits it and rolls the
// new version out. A plan that needs confirmation is refused (ExitConfirm)
// unless confirmed.
func (h *Host) Rollback(ctx context.Context, plan *spr.Plan, confirmed bool, message string) error {
	if plan.RequiresConfirmation && !confirmed {
		return &Failure{Code: ExitConfirm, Err: fmt.Errorf("the plan provisions new volumes: run again with --confirm")}
	}
	resulting, err := state.Parse(plan.State)
	if err != nil {
		return refusal(err)
	}
	for _, pv := range plan.Volumes {
		if pv.NewVolume == nil {
			continue
		}
		if err := h.provision(ctx, plan.Spinner, resulting, pv); err != nil {
			return err
		}
	}
	v, err := h.Store.Commit(plan, &spr.Meta{Author: h.Author, Message: message, Confirmed: confirmed})
	if err != nil {
		return refusal(err)
	}
	h.logf("committed v%d: rollback to v%d", v.Number, plan.TargetVersion)
	st, err := h.stateOf(plan.Spinner, v.Number)
	if err != nil {
		return err
	}
	return h.rollout(ctx, plan.Spinner, v.Number, st)
}

// provision creates the claim a plan's volume needs, with dataSource = the
// snapshot, and waits until it is Bound. A claim that already exists with
// that data source (a retried rollback) is reused.
func (h *Host) provision(ctx context.Context, spinner string, st *state.State, pv spr.PlanVolume) error {
	var vol state.Volume
	for _, v := range st.Volumes {
		if v.Name == pv.Volume {
			vol = v
		}
	}
	vol.VolumeID = pv.NewVolume.Name
	if pv.NewVolume.StorageClass != "" {
		vol.StorageClass = pv.NewVolume.StorageClass
	}
	pvc, err := render.PVC(spinner, h.Namespace, vol, pv.SnapshotID, pv.NewVolume.SizeBytes)
	if err != nil {
		return refusal(err)
	}
	claims := h.Kube.CoreV1().PersistentVolumeClaims(h.Namespace)
	got, err := claims.Create(ctx, pvc, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		got, err = claims.Get(ctx, pvc.Name, metav1.GetOptions{})
		if err == nil && (got.Spec.DataSource == nil || got.Spec.DataSource.Name != pv.SnapshotID) {
			return failed("PVC %s exists and is not from snapshot %s", pvc.Name, pv.SnapshotID)
		}
	}
	if err != nil {
		return failed("create PVC %s: %v", pvc.Name, err)
	}
	h.logf("PVC %s created from VolumeSnapshot %s (%d bytes)", pvc.Name, pv.SnapshotID, pv.NewVolume.SizeBytes)
	return h.waitBound(ctx, got)
}

func (h *Host) waitBound(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	ok, err := h.poll(ctx, func(ctx context.Context) (bool, error) {
		got, err := h.Kube.CoreV1().PersistentVolumeClaims(h.Namespace).Get(ctx, pvc.Name, metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.ClaimBound, err
	})
	if err != nil {
		return failed("PVC %s: %v", pvc.Name, err)
	}
	if !ok {
		return failed("PVC %s is not Bound after %s", pvc.Name, h.timeout())
	}
	h.logf("PVC %s is Bound", pvc.Name)
	return nil
}

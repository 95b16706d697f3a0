package host

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	snapv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
	"spinner_rollback.example/k8s-host/internal/render"
)

// Snapshot takes a VolumeSnapshot of the PVC the current version binds to
// volume, waits until status.readyToUse, and registers it with the store
// (id = the VolumeSnapshot's name). It returns the id.
func (h *Host) Snapshot(ctx context.Context, spinner, volume, class string) (string, error) {
	n, err := h.current(spinner)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", refusal(fmt.Errorf("spinner %q has no version", spinner))
	}
	st, err := h.stateOf(spinner, n)
	if err != nil {
		return "", err
	}
	claim, storageClass := "", ""
	for _, v := range st.Volumes {
		if v.Name == volume {
			claim, storageClass = v.VolumeID, v.StorageClass
		}
	}
	if claim == "" {
		return "", refusal(fmt.Errorf("v%d of %q has no volume %q", n, spinner, volume))
	}
	vs := &snapv1.VolumeSnapshot{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("%s-%s", claim, time.Now().UTC().Format("20060102-150405")), Namespace: h.Namespace,
			Labels:      map[string]string{render.LabelSpinner: spinner, render.ManagedBy: render.ManagerName},
			Annotations: map[string]string{render.AnnoSnapshotOf: volume},
		},
		Spec: snapv1.VolumeSnapshotSpec{Source: snapv1.VolumeSnapshotSource{PersistentVolumeClaimName: &claim}},
	}
	if class != "" {
		vs.Spec.VolumeSnapshotClassName = &class
	}
	api := h.Snap.SnapshotV1().VolumeSnapshots(h.Namespace)
	if vs, err = api.Create(ctx, vs, metav1.CreateOptions{}); err != nil {
		return "", failed("create VolumeSnapshot of %s: %v", claim, err)
	}
	h.logf("VolumeSnapshot %s of PVC %s created; waiting for readyToUse", vs.Name, claim)
	var ready *snapv1.VolumeSnapshot
	ok, err := h.poll(ctx, func(ctx context.Context) (bool, error) {
		got, err := api.Get(ctx, vs.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if s := got.Status; s != nil && s.Error != nil && s.Error.Message != nil {
			return false, fmt.Errorf("snapshot error: %s", *s.Error.Message)
		}
		ready = got
		return got.Status != nil && got.Status.ReadyToUse != nil && *got.Status.ReadyToUse, nil
	})
	if err != nil || !ok {
		return "", failed("VolumeSnapshot %s not ready (after %s): %v", vs.Name, h.timeout(), err)
	}
	snap := spr.Snapshot{ID: vs.Name, Volume: claim, Ready: true, StorageClass: storageClass}
	if s := ready.Status; s.RestoreSize != nil {
		snap.SizeBytes = s.RestoreSize.Value()
	}
	if s := ready.Status; s.CreationTime != nil {
		snap.CreatedAt = s.CreationTime.Time
	}
	snap.Metadata, _ = json.Marshal(map[string]string{"namespace": h.Namespace, "kind": "VolumeSnapshot"})
	if err := h.Store.RegisterSnapshot(snap); err != nil {
		return "", refusal(err)
	}
	h.logf("snapshot %s registered (%d bytes)", vs.Name, snap.SizeBytes)
	return vs.Name, nil
}

package host

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"spinner_rollback.example/k8s-host/internal/render"
	"spinner_rollback.example/k8s-host/internal/state"
)

// apply makes the cluster run st as version (0: no version, rollback
// disabled): the hashed ConfigMaps and Secrets first, missing PVCs, then the
// Deployment by server-side apply, so applying what already runs changes
// nothing (no new generation, no new ReplicaSet). It returns the Deployment.
func (h *Host) apply(ctx context.Context, spinner string, version int64, st *state.State) (*appsv1.Deployment, error) {
	vals := render.RenderValues(spinner, h.Namespace, st, h.NameKey)
	d, err := render.Deployment(spinner, st, vals, render.DeploymentOptions{
		Namespace: h.Namespace, Version: version, ProgressDeadlineSeconds: h.ProgressDeadline,
	})
	if err != nil {
		return nil, refusal(err)
	}
	if err := h.ensureValues(ctx, vals); err != nil {
		return nil, err
	}
	for _, v := range st.Volumes {
		if err := h.ensureVolume(ctx, spinner, v); err != nil {
			return nil, err
		}
	}
	body, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	force := true
	out, err := h.Kube.AppsV1().Deployments(h.Namespace).Patch(ctx, spinner, types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: render.ManagerName, Force: &force})
	if err != nil {
		return nil, failed("apply Deployment %s: %v", spinner, err)
	}
	h.logf("Deployment %s applied (version %d, generation %d)", spinner, version, out.Generation)
	return out, nil
}

// ensureValues creates the immutable objects that do not exist yet. An
// object that exists has the same name, hence the same content hash.
func (h *Host) ensureValues(ctx context.Context, vals *render.Values) error {
	for _, cm := range vals.ConfigMaps {
		_, err := h.Kube.CoreV1().ConfigMaps(h.Namespace).Create(ctx, cm, metav1.CreateOptions{FieldManager: render.ManagerName})
		if err == nil {
			h.logf("ConfigMap %s created", cm.Name)
		} else if !apierrors.IsAlreadyExists(err) {
			return failed("create ConfigMap %s: %v", cm.Name, err)
		}
	}
	for _, s := range vals.Secrets {
		_, err := h.Kube.CoreV1().Secrets(h.Namespace).Create(ctx, s, metav1.CreateOptions{FieldManager: render.ManagerName})
		if err == nil {
			h.logf("Secret %s created", s.Name)
		} else if !apierrors.IsAlreadyExists(err) {
			return failed("create Secret %s: %v", s.Name, err) // the error names the object, never its data
		}
	}
	return nil
}

// ensureVolume creates the PVC of a shared volume when it is missing; an
// existing claim is left as it is (its size and class are the cluster's).
func (h *Host) ensureVolume(ctx context.Context, spinner string, v state.Volume) error {
	_, err := h.Kube.CoreV1().PersistentVolumeClaims(h.Namespace).Get(ctx, v.VolumeID, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return failed("get PVC %s: %v", v.VolumeID, err)
	}
	pvc, err := render.PVC(spinner, h.Namespace, v, "", 0)
	if err != nil {
		return refusal(err)
	}
	if _, err := h.Kube.CoreV1().PersistentVolumeClaims(h.Namespace).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		return failed("create PVC %s: %v", v.VolumeID, err)
	}
	h.logf("PVC %s created (%s)", v.VolumeID, v.Size)
	return nil
}

// stateOf reads a version's state document with secret values revealed.
func (h *Host) stateOf(spinner string, number int64) (*state.State, error) {
	d, err := h.Store.Get(spinner, number, true)
	if err != nil {
		return nil, refusal(err)
	}
	st, err := state.Parse(d.State)
	if err != nil {
		return nil, fmt.Errorf("version %d: %w", number, err)
	}
	return st, nil
}

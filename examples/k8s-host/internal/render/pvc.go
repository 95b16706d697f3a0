package render

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"spinner_rollback.example/k8s-host/internal/state"
)

// SnapshotGroup is the API group of VolumeSnapshot.
const SnapshotGroup = "snapshot.storage.k8s.io"

// PVC renders the claim of a shared volume (ReadWriteMany: one volume for
// every instance). fromSnapshot, when not empty, names the VolumeSnapshot the
// claim is provisioned from, and sizeBytes (when > 0) overrides v.Size.
func PVC(spinner, namespace string, v state.Volume, fromSnapshot string, sizeBytes int64) (*corev1.PersistentVolumeClaim, error) {
	size, err := resource.ParseQuantity(v.Size)
	if err != nil {
		return nil, fmt.Errorf("volume %q: size: %w", v.Name, err)
	}
	if sizeBytes > 0 {
		size = *resource.NewQuantity(sizeBytes, resource.BinarySI)
	}
	pvc := &corev1.PersistentVolumeClaim{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{
			Name: v.VolumeID, Namespace: namespace,
			Labels:      map[string]string{LabelSpinner: spinner, LabelKind: "volume", ManagedBy: ManagerName},
			Annotations: map[string]string{LabelSource: v.Name},
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
		},
	}
	if v.StorageClass != "" {
		sc := v.StorageClass
		pvc.Spec.StorageClassName = &sc
	}
	if fromSnapshot != "" {
		group := SnapshotGroup
		pvc.Spec.DataSource = &corev1.TypedLocalObjectReference{APIGroup: &group, Kind: "VolumeSnapshot", Name: fromSnapshot}
	}
	return pvc, nil
}

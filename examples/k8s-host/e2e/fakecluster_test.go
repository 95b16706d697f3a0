//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	snapv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	snapclient "github.com/kubernetes-csi/external-snapshotter/client/v8/clientset/versioned"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// fakeCluster plays the parts of the controllers and the kubelet that the
// test control plane lacks, writing status through the status subresource:
// a Deployment becomes available at its generation (or, when an image names
// "broken", exceeds its progress deadline); a PVC becomes Bound; a
// VolumeSnapshot becomes readyToUse with restoreSize = snapshotSize.
type fakeCluster struct {
	kube         kubernetes.Interface
	snap         snapclient.Interface
	ns           string
	snapshotSize resource.Quantity
}

func (f *fakeCluster) run(ctx context.Context) {
	for ctx.Err() == nil {
		f.deployments(ctx)
		f.claims(ctx)
		f.snapshots(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (f *fakeCluster) deployments(ctx context.Context) {
	list, err := f.kube.AppsV1().Deployments(f.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range list.Items {
		d := &list.Items[i]
		if d.Status.ObservedGeneration >= d.Generation {
			continue
		}
		broken := false
		for _, c := range d.Spec.Template.Spec.Containers {
			broken = broken || strings.Contains(c.Image, "broken")
		}
		f.replicaSet(ctx, d)
		if broken {
			d.Status = deadlineExceeded(d)
		} else {
			d.Status = available(d)
		}
		_, _ = f.kube.AppsV1().Deployments(f.ns).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	}
}

// replicaSet does what the Deployment controller does with a pod template:
// one ReplicaSet per distinct template (named by a hash of it), reused when a
// template comes back. The real controller's hash differs; the equivalence
// (equal templates ⇔ one ReplicaSet) is the same.
func (f *fakeCluster) replicaSet(ctx context.Context, d *appsv1.Deployment) {
	b, _ := json.Marshal(d.Spec.Template)
	sum := sha256.Sum256(b)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-" + hex.EncodeToString(sum[:])[:10], Namespace: f.ns, Labels: d.Spec.Template.Labels},
		Spec:       appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector, Template: d.Spec.Template},
	}
	_, _ = f.kube.AppsV1().ReplicaSets(f.ns).Create(ctx, rs, metav1.CreateOptions{}) // AlreadyExists: reused
}

func available(d *appsv1.Deployment) appsv1.DeploymentStatus {
	n := *d.Spec.Replicas
	now := metav1.Now()
	return appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", LastUpdateTime: now, LastTransitionTime: now},
		},
	}
}

func deadlineExceeded(d *appsv1.Deployment) appsv1.DeploymentStatus {
	n := *d.Spec.Replicas
	now := metav1.Now()
	return appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           n, UpdatedReplicas: 0, ReadyReplicas: 0, AvailableReplicas: 0, UnavailableReplicas: n,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
				Message: "ReplicaSet has timed out progressing (ImagePullBackOff)", LastUpdateTime: now, LastTransitionTime: now},
		},
	}
}

func (f *fakeCluster) claims(ctx context.Context) {
	list, err := f.kube.CoreV1().PersistentVolumeClaims(f.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range list.Items {
		c := &list.Items[i]
		if c.Status.Phase == corev1.ClaimBound {
			continue
		}
		c.Status.Phase = corev1.ClaimBound
		c.Status.AccessModes = c.Spec.AccessModes
		c.Status.Capacity = c.Spec.Resources.Requests
		_, _ = f.kube.CoreV1().PersistentVolumeClaims(f.ns).UpdateStatus(ctx, c, metav1.UpdateOptions{})
	}
}

func (f *fakeCluster) snapshots(ctx context.Context) {
	api := f.snap.SnapshotV1().VolumeSnapshots(f.ns)
	list, err := api.List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range list.Items {
		s := &list.Items[i]
		if s.Status != nil && s.Status.ReadyToUse != nil && *s.Status.ReadyToUse {
			continue
		}
		ready, now, size, content := true, metav1.Now(), f.snapshotSize.DeepCopy(), "snapcontent-"+string(s.UID)
		s.Status = &snapv1.VolumeSnapshotStatus{
			ReadyToUse: &ready, CreationTime: &now, RestoreSize: &size, BoundVolumeSnapshotContentName: &content,
		}
		_, _ = api.UpdateStatus(ctx, s, metav1.UpdateOptions{})
	}
}

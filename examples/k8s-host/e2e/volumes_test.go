//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// volumeSteps: v3 is current (v1's content) on PVC shop-data. A snapshot of
// it, then a rollback to v2 with data from that snapshot → v4 on a new PVC.
func volumeSteps(t *testing.T, e *env) {
	var snapID string
	step(t, "snapshot the data volume (VolumeSnapshot, registered when readyToUse)", func(t *testing.T) {
		out := e.mustHost(t, "snapshot", "shop", "data")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		snapID = lines[len(lines)-1]
		vs, err := e.snap.SnapshotV1().VolumeSnapshots(e.ns).Get(context.Background(), snapID, metav1.GetOptions{})
		if err != nil || *vs.Spec.Source.PersistentVolumeClaimName != "shop-data" {
			t.Fatalf("VolumeSnapshot %q: %v %+v", snapID, err, vs)
		}
	})

	step(t, "snapshot rollback without --confirm is refused and creates nothing", func(t *testing.T) {
		before := e.fingerprint(t)
		out, code := e.host(t, "rollback", "shop", "2", "--data", "data=snapshot:"+snapID)
		if code != 3 || !strings.Contains(out, "requires confirmation") {
			t.Fatalf("exit %d, want 3 (needs --confirm)", code)
		}
		if after := e.fingerprint(t); after != before {
			t.Fatalf("cluster changed:\n%s\n%s", before, after)
		}
	})

	step(t, "snapshot rollback with --confirm: a new PVC from the VolumeSnapshot, the old PVC kept", func(t *testing.T) {
		e.mustHost(t, "rollback", "shop", "2", "--data", "data=snapshot:"+snapID, "--confirm")
		claims := e.kube.CoreV1().PersistentVolumeClaims(e.ns)
		pvc, err := claims.Get(context.Background(), "shop-data-v4", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("new PVC: %v", err)
		}
		ds := pvc.Spec.DataSource
		if ds == nil || ds.Kind != "VolumeSnapshot" || ds.Name != snapID || *ds.APIGroup != "snapshot.storage.k8s.io" {
			t.Fatalf("dataSource: %+v", ds)
		}
		if got := pvc.Spec.Resources.Requests.Storage().String(); got != "2Gi" {
			t.Fatalf("size %s, want 2Gi (the snapshot's restoreSize)", got)
		}
		if _, err := claims.Get(context.Background(), "shop-data", metav1.GetOptions{}); err != nil {
			t.Fatalf("old PVC: %v", err)
		}
		d := e.deployment(t)
		if claimOf(d) != "shop-data-v4" || envOf(d, "MODE").Value != "v2" {
			t.Fatalf("Deployment binds %q, MODE %q", claimOf(d), envOf(d, "MODE").Value)
		}
	})
}

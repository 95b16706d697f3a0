//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// autoRollbackSteps: v4 is current and active. A rollout whose Deployment
// exceeds its progress deadline is reported failed and rolled back to v4.
func autoRollbackSteps(t *testing.T, e *env, blueCM, greenCM string) {
	step(t, "failed rollout is rolled back automatically", func(t *testing.T) {
		bad := spec{image: "registry.example/shop-broken:1.6", digest: digestV3, mode: "v5", color: "green", password: passwordV2, instances: 3}
		out, code := e.host(t, "deploy", "shop", e.writeState(t, bad), "--auto-rollback")
		if code != 1 || !strings.Contains(out, "rolled back automatically") {
			t.Fatalf("exit %d, want 1 with an automatic rollback", code)
		}
		vs := e.versions(t)
		if vs[0]["number"] != 6.0 || vs[0]["rollbackOf"] != 4.0 || vs[0]["status"] != "active" {
			t.Fatalf("current: %v", vs[0])
		}
		if vs[1]["number"] != 5.0 || vs[1]["status"] != "failed" {
			t.Fatalf("v5: %v", vs[1])
		}
		d := e.deployment(t)
		if img := d.Spec.Template.Spec.Containers[0].Image; !strings.Contains(img, digestV2) || envOf(d, "MODE").Value != "v2" {
			t.Fatalf("Deployment after auto-rollback: image %s MODE %q", img, envOf(d, "MODE").Value)
		}
		if claimOf(d) != "shop-data-v4" {
			t.Fatalf("claim %q", claimOf(d))
		}
	})

	step(t, "garbage collection: only hashed objects no retained version needs", func(t *testing.T) {
		// historyLimit 2: v4, v5, v6 are retained (all green); v1-v3 (blue) were pruned.
		if _, ok := e.configMap(t, blueCM); ok {
			t.Fatalf("ConfigMap %s (only pruned versions used it) still exists", blueCM)
		}
		if _, ok := e.configMap(t, greenCM); !ok {
			t.Fatalf("ConfigMap %s (used by retained versions) was deleted", greenCM)
		}
	})
}

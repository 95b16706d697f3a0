//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	digestV1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digestV2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	digestV3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	// Secret values: the test checks that no command ever prints them.
	passwordV1 = "pw-one-7c1e0d"
	passwordV2 = "pw-two-93ab41"
)

// spec is what varies between the test's state documents.
type spec struct {
	image, digest, mode, color, password string
	instances                            int
}

func (s spec) doc() map[string]any {
	return map[string]any{
		"schemaVersion": 1,
		"settings":      map[string]any{"rollback": map[string]any{"enabled": true, "historyLimit": 2}},
		"instances":     s.instances,
		"containers": []any{map[string]any{
			"name":    "web",
			"image":   map[string]any{"reference": s.image, "digest": s.digest},
			"command": []string{"/app/shop"}, "args": []string{"--listen", ":8080"},
			"env": []any{
				map[string]any{"name": "MODE", "value": s.mode},
				map[string]any{"name": "COLOR", "configMapRef": map[string]any{"name": "config", "key": "color"}},
				map[string]any{"name": "DB_PASSWORD", "secretRef": map[string]any{"name": "db", "key": "password"}},
			},
			"ports":     []any{map[string]any{"name": "http", "containerPort": 8080, "protocol": "TCP", "expose": true}},
			"resources": map[string]any{"cpu": "250m", "memory": "128Mi"},
			"securityContext": map[string]any{"runAsUser": 1000, "runAsNonRoot": true, "readOnlyRootFilesystem": true,
				"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []string{"ALL"}}},
			"mounts": []any{
				map[string]any{"path": "/etc/shop", "configMap": "config"},
				map[string]any{"path": "/run/secrets/db", "secret": "db"},
				map[string]any{"path": "/var/lib/shop", "volume": "data"},
			},
			"probes": map[string]any{"readiness": map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": 8080}}},
		}},
		"volumes":    []any{map[string]any{"name": "data", "mode": "shared", "size": "1Gi", "storageClass": "standard"}},
		"configMaps": map[string]any{"config": map[string]any{"color": s.color, "app.yaml": "color: " + s.color + "\n"}},
		"secrets":    map[string]any{"db": map[string]any{"password": s.password}},
		"labels":     map[string]any{"team": "shop"},
	}
}

func (e *env) writeState(t *testing.T, s spec) string {
	t.Helper()
	b, err := json.Marshal(s.doc())
	if err != nil {
		t.Fatal(err)
	}
	e.files++
	p := filepath.Join(e.dir, fmt.Sprintf("state-%d.json", e.files))
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// host runs the CLI; it returns its output and exit code, failing the test
// if the output shows a secret value.
func (e *env) host(t *testing.T, args ...string) (string, int) {
	t.Helper()
	full := append([]string{"--home", e.home, "--namespace", e.ns, "--timeout", "30s", "--author", "e2e"}, args...)
	cmd := exec.Command(e.bin, full...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	text := string(out)
	for _, secret := range []string{passwordV1, passwordV2} {
		if strings.Contains(text, secret) {
			t.Fatalf("spr-k8s-host %v printed a secret value", args)
		}
	}
	t.Logf("$ spr-k8s-host %s  (exit %d, %.2fs)\n%s", strings.Join(args, " "), code, time.Since(start).Seconds(), indent(text))
	return text, code
}

func (e *env) mustHost(t *testing.T, args ...string) string {
	t.Helper()
	out, code := e.host(t, args...)
	if code != 0 {
		t.Fatalf("spr-k8s-host %v: exit %d", args, code)
	}
	return out
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func (e *env) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d, err := e.kube.AppsV1().Deployments(e.ns).Get(context.Background(), "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *env) configMap(t *testing.T, name string) (*corev1.ConfigMap, bool) {
	t.Helper()
	cm, err := e.kube.CoreV1().ConfigMaps(e.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil, false
	}
	return cm, true
}

// envOf returns the web container's env var name.
func envOf(d *appsv1.Deployment, name string) corev1.EnvVar {
	for _, ev := range d.Spec.Template.Spec.Containers[0].Env {
		if ev.Name == name {
			return ev
		}
	}
	return corev1.EnvVar{}
}

func configRef(d *appsv1.Deployment) string {
	if ref := envOf(d, "COLOR").ValueFrom; ref != nil && ref.ConfigMapKeyRef != nil {
		return ref.ConfigMapKeyRef.Name
	}
	return ""
}

func secretRef(d *appsv1.Deployment) string {
	if ref := envOf(d, "DB_PASSWORD").ValueFrom; ref != nil && ref.SecretKeyRef != nil {
		return ref.SecretKeyRef.Name
	}
	return ""
}

func claimOf(d *appsv1.Deployment) string {
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			return v.PersistentVolumeClaim.ClaimName
		}
	}
	return ""
}

// fingerprint lists every object the host manages in the namespace with its
// resourceVersion: equal fingerprints mean nothing was written.
func (e *env) fingerprint(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	d := e.deployment(t)
	fmt.Fprintf(&b, "deployment %s gen=%d rv=%s\n", d.Name, d.Generation, d.ResourceVersion)
	cms, _ := e.kube.CoreV1().ConfigMaps(e.ns).List(ctx, metav1.ListOptions{})
	for _, o := range cms.Items {
		fmt.Fprintf(&b, "configmap %s rv=%s\n", o.Name, o.ResourceVersion)
	}
	ss, _ := e.kube.CoreV1().Secrets(e.ns).List(ctx, metav1.ListOptions{})
	for _, o := range ss.Items {
		fmt.Fprintf(&b, "secret %s rv=%s\n", o.Name, o.ResourceVersion)
	}
	ps, _ := e.kube.CoreV1().PersistentVolumeClaims(e.ns).List(ctx, metav1.ListOptions{})
	for _, o := range ps.Items {
		fmt.Fprintf(&b, "pvc %s rv=%s\n", o.Name, o.ResourceVersion)
	}
	fmt.Fprintf(&b, "replicasets %d\n", e.replicaSets(t))
	return b.String()
}

func (e *env) replicaSets(t *testing.T) int {
	t.Helper()
	rs, err := e.kube.AppsV1().ReplicaSets(e.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(rs.Items)
}

func (e *env) versions(t *testing.T) []map[string]any {
	t.Helper()
	out := e.mustHost(t, "versions", "shop", "--json")
	var vs []map[string]any
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("versions --json: %v", err)
	}
	return vs
}

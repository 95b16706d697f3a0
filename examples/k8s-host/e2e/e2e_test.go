//go:build e2e

// Package e2e drives the spr-k8s-host CLI against a real kube-apiserver and
// etcd (started by run_e2e.sh) and asserts on the objects it wrote. There is
// no kubelet or controller: fakeCluster writes the status they would.
//
//	KUBECONFIG=… SPR_K8S_HOST_BIN=… go test -tags e2e -v ./e2e
package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	snapclient "github.com/kubernetes-csi/external-snapshotter/client/v8/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

type env struct {
	bin, kubeconfig, home, dir, ns string
	kube                           kubernetes.Interface
	snap                           snapclient.Interface
	files                          int
}

func setup(t *testing.T) *env {
	e := &env{bin: os.Getenv("SPR_K8S_HOST_BIN"), kubeconfig: os.Getenv("KUBECONFIG")}
	if e.bin == "" || e.kubeconfig == "" {
		t.Skip("set KUBECONFIG and SPR_K8S_HOST_BIN (run_e2e.sh does)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	e.kube = kubernetes.NewForConfigOrDie(cfg)
	e.snap = snapclient.NewForConfigOrDie(cfg)
	e.dir, e.home = t.TempDir(), t.TempDir()
	e.ns = fmt.Sprintf("e2e-%d", time.Now().UnixNano()%1_000_000)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}
	if _, err := e.kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := &fakeCluster{kube: e.kube, snap: e.snap, ns: e.ns, snapshotSize: resource.MustParse("2Gi")}
	go f.run(ctx)
	return e
}

func TestKubernetesHost(t *testing.T) {
	e := setup(t)
	v1 := spec{image: "registry.example/shop:1.4", digest: digestV1, mode: "v1", color: "blue", password: passwordV1, instances: 2}
	v2 := spec{image: "registry.example/shop:1.5", digest: digestV2, mode: "v2", color: "green", password: passwordV2, instances: 3}
	var blueCM, greenCM string

	step(t, "deploy v1 (config blue)", func(t *testing.T) {
		e.mustHost(t, "deploy", "shop", e.writeState(t, v1))
		d := e.deployment(t)
		blueCM = configRef(d)
		cm, ok := e.configMap(t, blueCM)
		if !ok || cm.Data["color"] != "blue" || cm.Immutable == nil || !*cm.Immutable {
			t.Fatalf("v1 ConfigMap %q: want immutable with color blue, got %+v", blueCM, cm)
		}
		if !strings.HasPrefix(blueCM, "shop-config-") || len(blueCM) != len("shop-config-")+8 {
			t.Fatalf("ConfigMap name %q: want shop-config-<hash8>", blueCM)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if c.Image != "registry.example/shop:1.4@"+digestV1 || *d.Spec.Replicas != 2 || envOf(d, "MODE").Value != "v1" {
			t.Fatalf("Deployment: image %s replicas %d MODE %q", c.Image, *d.Spec.Replicas, envOf(d, "MODE").Value)
		}
		if c.SecurityContext == nil || *c.SecurityContext.RunAsUser != 1000 || c.Resources.Limits.Cpu().String() != "250m" {
			t.Fatalf("security context or resources not mapped: %+v %+v", c.SecurityContext, c.Resources)
		}
		if claimOf(d) != "shop-data" {
			t.Fatalf("claim %q, want shop-data", claimOf(d))
		}
		sec, err := e.kube.CoreV1().Secrets(e.ns).Get(context.Background(), secretRef(d), metav1.GetOptions{})
		if err != nil || string(sec.Data["password"]) != passwordV1 {
			t.Fatalf("v1 Secret %q missing or wrong value (%v)", secretRef(d), err)
		}
		if n := e.replicaSets(t); n != 1 {
			t.Fatalf("%d ReplicaSets, want 1", n)
		}
		if vs := e.versions(t); len(vs) != 1 || vs[0]["status"] != "active" {
			t.Fatalf("versions: %v", vs)
		}
	})

	step(t, "deploy v2 (config green): a new hashed ConfigMap, the old one kept", func(t *testing.T) {
		e.mustHost(t, "deploy", "shop", e.writeState(t, v2))
		d := e.deployment(t)
		greenCM = configRef(d)
		if greenCM == blueCM {
			t.Fatalf("v2 still references %s", blueCM)
		}
		if cm, ok := e.configMap(t, greenCM); !ok || cm.Data["color"] != "green" {
			t.Fatalf("v2 ConfigMap %s: %+v", greenCM, cm)
		}
		if _, ok := e.configMap(t, blueCM); !ok {
			t.Fatalf("v1's ConfigMap %s was deleted", blueCM)
		}
		if n := e.replicaSets(t); n != 2 {
			t.Fatalf("%d ReplicaSets, want 2", n)
		}
		if *d.Spec.Replicas != 3 || envOf(d, "MODE").Value != "v2" {
			t.Fatalf("v2 Deployment: replicas %d MODE %q", *d.Spec.Replicas, envOf(d, "MODE").Value)
		}
	})

	step(t, "unchanged redeploy changes nothing in the cluster", func(t *testing.T) {
		before := e.fingerprint(t)
		out := e.mustHost(t, "deploy", "shop", e.writeState(t, v2))
		if !strings.Contains(out, "unchanged") {
			t.Fatalf("want an unchanged outcome")
		}
		if after := e.fingerprint(t); after != before {
			t.Fatalf("cluster changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})

	step(t, "roll back to v1: v1's ConfigMap (blue), env and replicas", func(t *testing.T) {
		e.mustHost(t, "rollback", "shop", "1")
		d := e.deployment(t)
		if configRef(d) != blueCM {
			t.Fatalf("after rollback the Deployment references %s, want %s", configRef(d), blueCM)
		}
		if cm, _ := e.configMap(t, blueCM); cm.Data["color"] != "blue" {
			t.Fatalf("ConfigMap %s: %v", blueCM, cm.Data)
		}
		if *d.Spec.Replicas != 2 || envOf(d, "MODE").Value != "v1" || d.Annotations["spinner-rollback.io/version"] != "3" {
			t.Fatalf("rolled-back Deployment: replicas %d MODE %q annotations %v", *d.Spec.Replicas, envOf(d, "MODE").Value, d.Annotations)
		}
		if n := e.replicaSets(t); n != 2 {
			t.Fatalf("%d ReplicaSets, want 2: the pod template must equal v1's, so v1's ReplicaSet is reused", n)
		}
		sec, err := e.kube.CoreV1().Secrets(e.ns).Get(context.Background(), secretRef(d), metav1.GetOptions{})
		if err != nil || string(sec.Data["password"]) != passwordV1 {
			t.Fatalf("rolled-back Secret %q missing or not v1's value (%v)", secretRef(d), err)
		}
		vs := e.versions(t)
		if vs[0]["number"] != 3.0 || vs[0]["rollbackOf"] != 1.0 || vs[0]["status"] != "active" {
			t.Fatalf("current version: %v", vs[0])
		}
	})

	volumeSteps(t, e)
	autoRollbackSteps(t, e, blueCM, greenCM)
}

// step runs one part of the scenario; a failed step stops the test (later
// steps depend on it).
func step(t *testing.T, name string, f func(t *testing.T)) {
	if !t.Run(name, f) {
		t.FailNow()
	}
}

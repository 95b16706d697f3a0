package render

import (
	"encoding/json"
	"reflect"
	"testing"

	"spinner_rollback.example/k8s-host/internal/state"
)

const doc = `{"schemaVersion":1,"instances":2,
 "containers":[{"name":"web","image":{"reference":"r.example/shop:1.4","digest":"sha256:ab"},
  "env":[{"name":"A","value":"1"},{"name":"C","configMapRef":{"name":"cfg","key":"k"}}],
  "mounts":[{"path":"/etc/a","configMap":"cfg"},{"path":"/etc/b","configMap":"cfg"},{"path":"/data","volume":"data"}],
  "securityContext":{"runAsUser":1000,"fsGroup":2000,"capabilities":{"drop":["ALL"]}},
  "probes":{"readiness":{"httpGet":{"path":"/h","port":8080}}}}],
 "volumes":[{"name":"data","mode":"shared","size":"1Gi","volumeId":"shop-data"}],
 "configMaps":{"cfg":{"k":"blue"}},"secrets":{"db":{"password":"x"}}}`

func TestContentHashDependsOnValuesOnly(t *testing.T) {
	a := ContentHash(nil, "shop", "configMap", "cfg", map[string]string{"k": "blue", "j": "1"})
	b := ContentHash(nil, "shop", "configMap", "cfg", map[string]string{"j": "1", "k": "blue"})
	c := ContentHash(nil, "shop", "configMap", "cfg", map[string]string{"k": "green", "j": "1"})
	d := ContentHash([]byte("key"), "shop", "configMap", "cfg", map[string]string{"k": "blue", "j": "1"})
	if a != b || a == c || a == d || len(a) != 8 {
		t.Fatalf("hashes %s %s %s %s", a, b, c, d)
	}
}

func TestDeploymentIsDeterministicAndMapsFields(t *testing.T) {
	st, err := state.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	render := func() []byte {
		vals := RenderValues("shop", "ns", st, []byte("k"))
		d, err := Deployment("shop", st, vals, DeploymentOptions{Namespace: "ns", Version: 1})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(d)
		return b
	}
	first := render()
	for i := 0; i < 20; i++ {
		if !reflect.DeepEqual(first, render()) {
			t.Fatal("rendering is not deterministic")
		}
	}
	vals := RenderValues("shop", "ns", st, []byte("k"))
	d, _ := Deployment("shop", st, vals, DeploymentOptions{Namespace: "ns", Version: 1})
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != "r.example/shop:1.4@sha256:ab" || *d.Spec.Replicas != 2 {
		t.Fatalf("image %s replicas %d", c.Image, *d.Spec.Replicas)
	}
	if len(d.Spec.Template.Spec.Volumes) != 2 || c.VolumeMounts[0].Name != c.VolumeMounts[1].Name {
		t.Fatalf("one pod volume per source: %+v", d.Spec.Template.Spec.Volumes)
	}
	if c.Env[1].ValueFrom.ConfigMapKeyRef.Name != vals.ConfigMapFor["cfg"] {
		t.Fatalf("env ref %+v", c.Env[1])
	}
	if *d.Spec.Template.Spec.SecurityContext.FSGroup != 2000 || *c.SecurityContext.RunAsUser != 1000 {
		t.Fatal("security context")
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Port.IntValue() != 8080 {
		t.Fatalf("probe %+v", c.ReadinessProbe)
	}
}

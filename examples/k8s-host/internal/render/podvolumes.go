package render

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"spinner_rollback.example/k8s-host/internal/state"
)

// podVolumes gives each distinct mount source (a config map, a secret, a
// volume) one pod volume, named by kind and order of first use ("config-0",
// "secret-0", "data-0"), so a rendering is deterministic.
type podVolumes struct {
	vals   *Values
	byKey  map[string]string
	counts map[string]int
	list   []corev1.Volume
}

func newPodVolumes(vals *Values) *podVolumes {
	return &podVolumes{vals: vals, byKey: map[string]string{}, counts: map[string]int{}}
}

func (p *podVolumes) mount(m state.Mount, claims map[string]string) (corev1.VolumeMount, error) {
	vm := corev1.VolumeMount{MountPath: m.Path, ReadOnly: true}
	var kind, source string
	var src corev1.VolumeSource
	switch {
	case m.ConfigMap != "":
		obj, ok := p.vals.ConfigMapFor[m.ConfigMap]
		if !ok {
			return vm, fmt.Errorf("mount %s: no config map %q", m.Path, m.ConfigMap)
		}
		kind, source = "config", obj
		src.ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: obj}}
	case m.Secret != "":
		obj, ok := p.vals.SecretFor[m.Secret]
		if !ok {
			return vm, fmt.Errorf("mount %s: no secret %q", m.Path, m.Secret)
		}
		kind, source = "secret", obj
		src.Secret = &corev1.SecretVolumeSource{SecretName: obj}
	case m.Volume != "":
		claim, ok := claims[m.Volume]
		if !ok {
			return vm, fmt.Errorf("mount %s: no volume %q", m.Path, m.Volume)
		}
		kind, source = "data", claim
		vm.ReadOnly = m.ReadOnly
		src.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}
	default:
		return vm, fmt.Errorf("mount %s: nothing to mount", m.Path)
	}
	key := kind + "/" + source
	name, ok := p.byKey[key]
	if !ok {
		name = kind + "-" + strconv.Itoa(p.counts[kind])
		p.counts[kind]++
		p.byKey[key] = name
		p.list = append(p.list, corev1.Volume{Name: name, VolumeSource: src})
	}
	vm.Name = name
	return vm, nil
}

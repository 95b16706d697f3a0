package render

import (
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"spinner_rollback.example/k8s-host/internal/state"
)

// DeploymentOptions are the host's settings that are not in the state.
type DeploymentOptions struct {
	Namespace               string
	Version                 int64 // recorded in an annotation of the Deployment (not of its pods)
	ProgressDeadlineSeconds int32
}

// Selector is the label selector of the spinner's Deployment.
func Selector(spinner string) map[string]string {
	return map[string]string{LabelSpinner: spinner}
}

// Deployment renders the spinner's Deployment. vals names the hashed objects;
// every volume must have its VolumeID (the PVC name) set.
func Deployment(spinner string, st *state.State, vals *Values, o DeploymentOptions) (*appsv1.Deployment, error) {
	pod := corev1.PodSpec{}
	vols := newPodVolumes(vals)
	claims := map[string]string{}
	for _, v := range st.Volumes {
		if v.Mode == "dedicated" {
			return nil, fmt.Errorf("volume %q: mode \"dedicated\" (one volume per instance) needs a StatefulSet; this host maps only \"shared\"", v.Name)
		}
		if v.VolumeID == "" {
			return nil, fmt.Errorf("volume %q has no volumeId", v.Name)
		}
		claims[v.Name] = v.VolumeID
	}
	for _, c := range st.Containers {
		kc, err := container(c, vals, vols, claims)
		if err != nil {
			return nil, err
		}
		if sc := c.SecurityContext; sc != nil && sc.FSGroup != nil {
			pod.SecurityContext = &corev1.PodSecurityContext{FSGroup: sc.FSGroup}
		}
		pod.Containers = append(pod.Containers, kc)
	}
	pod.Volumes = vols.list

	labels := Selector(spinner)
	podLabels := map[string]string{}
	for k, v := range st.Labels {
		podLabels[k] = v
	}
	for k, v := range labels {
		podLabels[k] = v
	}
	meta := map[string]string{ManagedBy: ManagerName}
	for k, v := range podLabels {
		meta[k] = v
	}
	replicas := st.Instances
	d := &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name: spinner, Namespace: o.Namespace, Labels: meta,
			Annotations: map[string]string{AnnoVersion: strconv.FormatInt(o.Version, 10)},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec:       pod,
			},
		},
	}
	if o.ProgressDeadlineSeconds > 0 {
		d.Spec.ProgressDeadlineSeconds = &o.ProgressDeadlineSeconds
	}
	return d, nil
}

// ImageRef is the image to run: pinned by digest when the state has one.
func ImageRef(img state.Image) string {
	if img.Digest == "" {
		return img.Reference
	}
	ref, _, _ := strings.Cut(img.Reference, "@")
	return ref + "@" + img.Digest
}

func container(c state.Container, vals *Values, vols *podVolumes, claims map[string]string) (corev1.Container, error) {
	kc := corev1.Container{
		Name: c.Name, Image: ImageRef(c.Image),
		Command: c.Command, Args: c.Args, WorkingDir: c.WorkingDir,
	}
	for _, e := range c.Env {
		ev, err := envVar(e, vals)
		if err != nil {
			return kc, err
		}
		kc.Env = append(kc.Env, ev)
	}
	for _, p := range c.Ports {
		proto := corev1.Protocol(p.Protocol)
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		kc.Ports = append(kc.Ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: proto})
	}
	res, err := resources(c.Resources)
	if err != nil {
		return kc, fmt.Errorf("container %q: %w", c.Name, err)
	}
	kc.Resources = res
	if sc := c.SecurityContext; sc != nil {
		s := sc.SecurityContext
		kc.SecurityContext = &s
	}
	for _, m := range c.Mounts {
		vm, err := vols.mount(m, claims)
		if err != nil {
			return kc, fmt.Errorf("container %q: %w", c.Name, err)
		}
		kc.VolumeMounts = append(kc.VolumeMounts, vm)
	}
	kc.LivenessProbe = c.Probes["liveness"]
	kc.ReadinessProbe = c.Probes["readiness"]
	kc.StartupProbe = c.Probes["startup"]
	return kc, nil
}

func envVar(e state.Env, vals *Values) (corev1.EnvVar, error) {
	ev := corev1.EnvVar{Name: e.Name}
	switch {
	case e.Value != nil:
		ev.Value = *e.Value
	case e.ConfigMapRef != nil:
		obj, ok := vals.ConfigMapFor[e.ConfigMapRef.Name]
		if !ok {
			return ev, fmt.Errorf("env %s: no config map %q", e.Name, e.ConfigMapRef.Name)
		}
		ev.ValueFrom = &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: obj}, Key: e.ConfigMapRef.Key}}
	case e.SecretRef != nil:
		obj, ok := vals.SecretFor[e.SecretRef.Name]
		if !ok {
			return ev, fmt.Errorf("env %s: no secret %q", e.Name, e.SecretRef.Name)
		}
		ev.ValueFrom = &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: obj}, Key: e.SecretRef.Key}}
	}
	return ev, nil
}

// resources sets requests = limits (Guaranteed QoS): the state has one number
// per resource and a rollback must restore exactly what ran.
func resources(r state.Resources) (corev1.ResourceRequirements, error) {
	list := corev1.ResourceList{}
	for name, q := range map[corev1.ResourceName]string{corev1.ResourceCPU: r.CPU, corev1.ResourceMemory: r.Memory} {
		if q == "" {
			continue
		}
		v, err := resource.ParseQuantity(q)
		if err != nil {
			return corev1.ResourceRequirements{}, fmt.Errorf("%s: %w", name, err)
		}
		list[name] = v
	}
	if len(list) == 0 {
		return corev1.ResourceRequirements{}, nil
	}
	return corev1.ResourceRequirements{Requests: list, Limits: list.DeepCopy()}, nil
}

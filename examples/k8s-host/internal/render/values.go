package render

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"spinner_rollback.example/k8s-host/internal/state"
)

// Values are the immutable ConfigMaps and Secrets of one state, and the
// object name each config map / secret name of the document maps to.
type Values struct {
	ConfigMaps   []*corev1.ConfigMap
	Secrets      []*corev1.Secret
	ConfigMapFor map[string]string // document name → object name
	SecretFor    map[string]string
}

// RenderValues makes one immutable object per config map and secret of st.
// secretKey keys the hash of secret names (see ContentHash).
func RenderValues(spinner, namespace string, st *state.State, secretKey []byte) *Values {
	v := &Values{ConfigMapFor: map[string]string{}, SecretFor: map[string]string{}}
	immutable := true
	for name, data := range st.ConfigMaps {
		obj := HashedName(spinner, name, ContentHash(nil, spinner, "configMap", name, data))
		v.ConfigMapFor[name] = obj
		v.ConfigMaps = append(v.ConfigMaps, &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: valueMeta(spinner, namespace, obj, "config", name),
			Immutable:  &immutable,
			Data:       copyMap(data),
		})
	}
	for name, data := range st.Secrets {
		obj := HashedName(spinner, name, ContentHash(secretKey, spinner, "secret", name, data))
		v.SecretFor[name] = obj
		bytes := make(map[string][]byte, len(data))
		for k, val := range data {
			bytes[k] = []byte(val)
		}
		v.Secrets = append(v.Secrets, &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: valueMeta(spinner, namespace, obj, "secret", name),
			Immutable:  &immutable,
			Type:       corev1.SecretTypeOpaque,
			Data:       bytes,
		})
	}
	return v
}

func valueMeta(spinner, namespace, obj, kind, source string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      obj,
		Namespace: namespace,
		Labels: map[string]string{
			LabelSpinner: spinner, LabelKind: kind, ManagedBy: ManagerName,
		},
		Annotations: map[string]string{LabelSource: source},
	}
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

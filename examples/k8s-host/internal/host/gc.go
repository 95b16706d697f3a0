package host

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"spinner_rollback.example/k8s-host/internal/render"
	"spinner_rollback.example/k8s-host/internal/state"
)

// collect deletes the spinner's hashed ConfigMaps and Secrets that neither a
// retained version nor the state just applied references. It runs after a
// successful rollout only. If any retained version cannot be read, nothing is
// deleted: an object a retained version needs is never removed.
func (h *Host) collect(ctx context.Context, spinner string, applied *state.State) error {
	keep := map[string]bool{}
	mark := func(st *state.State) {
		vals := render.RenderValues(spinner, h.Namespace, st, h.NameKey)
		for _, n := range vals.ConfigMapFor {
			keep["config/"+n] = true
		}
		for _, n := range vals.SecretFor {
			keep["secret/"+n] = true
		}
	}
	mark(applied)
	versions, err := h.Store.Versions(spinner)
	if err != nil {
		h.logf("garbage collection skipped: %v", err)
		return nil
	}
	for _, v := range versions {
		st, err := h.stateOf(spinner, v.Number)
		if err != nil {
			h.logf("garbage collection skipped: v%d: %v", v.Number, err)
			return nil
		}
		mark(st)
	}
	sel := labels.SelectorFromSet(labels.Set{render.LabelSpinner: spinner, render.ManagedBy: render.ManagerName}).String()
	opts := metav1.ListOptions{LabelSelector: sel}
	cms, err := h.Kube.CoreV1().ConfigMaps(h.Namespace).List(ctx, opts)
	if err != nil {
		return failed("list ConfigMaps: %v", err)
	}
	for _, cm := range cms.Items {
		if !keep["config/"+cm.Name] {
			if err := h.Kube.CoreV1().ConfigMaps(h.Namespace).Delete(ctx, cm.Name, metav1.DeleteOptions{}); err == nil {
				h.logf("ConfigMap %s deleted (no retained version uses it)", cm.Name)
			}
		}
	}
	secrets, err := h.Kube.CoreV1().Secrets(h.Namespace).List(ctx, opts)
	if err != nil {
		return failed("list Secrets: %v", err)
	}
	for _, s := range secrets.Items {
		if !keep["secret/"+s.Name] {
			if err := h.Kube.CoreV1().Secrets(h.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{}); err == nil {
				h.logf("Secret %s deleted (no retained version uses it)", s.Name)
			}
		}
	}
	return nil
}

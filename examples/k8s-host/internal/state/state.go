// Package state holds the parts of a spinner state document (schemaVersion 1,
// /work/shared/product.md §1) that the Kubernetes host maps to objects.
// Fields the host does not map (labels of the spinner aside, extensions,
// settings.description) are kept in Raw only.
package state

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// State is a decoded state document. Probes and the security context use the
// Kubernetes types directly: their JSON shapes are a subset of Kubernetes'.
type State struct {
	Instances  int32                        `json:"instances"`
	Containers []Container                  `json:"containers"`
	Volumes    []Volume                     `json:"volumes"`
	ConfigMaps map[string]map[string]string `json:"configMaps"`
	Secrets    map[string]map[string]string `json:"secrets"`
	Labels     map[string]string            `json:"labels"`
	Settings   Settings                     `json:"settings"`
}

// Settings is the part of settings the host reads.
type Settings struct {
	Rollback struct {
		Enabled *bool `json:"enabled"`
	} `json:"rollback"`
}

// Container is one container of every instance.
type Container struct {
	Name            string                   `json:"name"`
	Image           Image                    `json:"image"`
	Command         []string                 `json:"command"`
	Args            []string                 `json:"args"`
	WorkingDir      string                   `json:"workingDir"`
	Env             []Env                    `json:"env"`
	Ports           []Port                   `json:"ports"`
	Resources       Resources                `json:"resources"`
	SecurityContext *SecurityCtx             `json:"securityContext"`
	Mounts          []Mount                  `json:"mounts"`
	Probes          map[string]*corev1.Probe `json:"probes"`
}

// Image is a reference with an optional digest.
type Image struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
}

// Env is a literal value or a reference into the document's values.
type Env struct {
	Name         string  `json:"name"`
	Value        *string `json:"value"`
	SecretRef    *KeyRef `json:"secretRef"`
	ConfigMapRef *KeyRef `json:"configMapRef"`
}

// KeyRef names one key of a config map or secret of the document.
type KeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Port is a container port.
type Port struct {
	Name          string `json:"name"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`
	Expose        bool   `json:"expose"`
}

// Resources are Kubernetes quantities.
type Resources struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

// SecurityCtx is the container security context; FSGroup is pod-level in
// Kubernetes.
type SecurityCtx struct {
	corev1.SecurityContext
	FSGroup *int64 `json:"fsGroup"`
}

// Mount puts a config map, a secret or a volume at Path.
type Mount struct {
	Path      string `json:"path"`
	ConfigMap string `json:"configMap"`
	Secret    string `json:"secret"`
	Volume    string `json:"volume"`
	ReadOnly  bool   `json:"readOnly"`
}

// Volume is a persistent volume of the spinner.
type Volume struct {
	Name         string `json:"name"`
	Mode         string `json:"mode"`
	Size         string `json:"size"`
	StorageClass string `json:"storageClass"`
	VolumeID     string `json:"volumeId"`
}

// Parse decodes a state document.
func Parse(doc []byte) (*State, error) {
	var s State
	if err := json.Unmarshal(doc, &s); err != nil {
		return nil, fmt.Errorf("state document: %w", err)
	}
	return &s, nil
}

// RollbackEnabled reports settings.rollback.enabled (default true).
func (s *State) RollbackEnabled() bool {
	return s.Settings.Rollback.Enabled == nil || *s.Settings.Rollback.Enabled
}

// Package render turns a state document into Kubernetes objects: immutable
// ConfigMaps and Secrets named by content hash, PersistentVolumeClaims and
// one Deployment. It is pure: it talks to no API server.
package render

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
)

// Labels and annotations the host puts on what it creates.
const (
	LabelSpinner   = "spinner-rollback.io/spinner"
	LabelKind      = "spinner-rollback.io/kind" // "config", "secret", "volume"
	LabelSource    = "spinner-rollback.io/source"
	AnnoVersion    = "spinner-rollback.io/version"
	AnnoSnapshotOf = "spinner-rollback.io/snapshot-of"
	ManagedBy      = "app.kubernetes.io/managed-by"
	ManagerName    = "spr-k8s-host"
)

// ContentHash is 8 hex digits of a hash over a config map's or secret's
// values (and its spinner, kind and name, so equal values of two spinners
// never share an object). With a key it is an HMAC: secret object names must
// not let anyone test guesses of a secret value.
func ContentHash(key []byte, spinner, kind, name string, data map[string]string) string {
	h := hmac.New(sha256.New, key)
	if key == nil {
		h = sha256.New()
	}
	write := func(s string) {
		var n [8]byte
		for i, l := 0, uint64(len(s)); i < 8; i++ {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write([]byte(s))
	}
	write(spinner)
	write(kind)
	write(name)
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		write(k)
		write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// HashedName is "<spinner>-<name>-<hash8>", cut so it stays a valid
// object name (at most 253 characters).
func HashedName(spinner, name, hash string) string {
	base := spinner + "-" + name
	if len(base) > 243 {
		base = base[:243]
	}
	return base + "-" + hash
}

package spinnerrollback_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

// A distinctive secret value: it must never show up anywhere but a revealed Get.
const secretValue = "pw-QZX7-plumtree-4417-secret"

const testKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// st describes a test state; doc() turns it into a state document.
type st struct {
	Tag          string // image tag, e.g. "1.4"
	Instances    int
	Secret       string // "" → no secret env/secrets at all
	VolumeID     string // "" → no volume
	Mode         string // volume mode, default shared
	HistoryLimit int    // default 100
	Disabled     bool
	Digest       bool
	Env          map[string]string
}

func (s st) doc() map[string]any {
	if s.Instances == 0 {
		s.Instances = 2
	}
	if s.HistoryLimit == 0 {
		s.HistoryLimit = 100
	}
	image := map[string]any{"reference": "registry.example/shop:" + s.Tag}
	if s.Digest {
		image["digest"] = "sha256:" + strings.Repeat("ab", 32)
	}
	env := []any{map[string]any{"name": "MODE", "value": "prod"}}
	for k, v := range s.Env {
		env = append(env, map[string]any{"name": k, "value": v})
	}
	c := map[string]any{"name": "web", "image": image}
	d := map[string]any{
		"schemaVersion": 1,
		"settings":      map[string]any{"rollback": map[string]any{"enabled": !s.Disabled, "historyLimit": s.HistoryLimit}},
		"instances":     s.Instances,
		"containers":    []any{c},
	}
	if s.Secret != "" {
		env = append(env, map[string]any{"name": "DB_PASSWORD", "secretRef": map[string]any{"name": "db", "key": "password"}})
		d["secrets"] = map[string]any{"db": map[string]any{"password": s.Secret}}
	}
	c["env"] = env
	if s.VolumeID != "" {
		mode := s.Mode
		if mode == "" {
			mode = "shared"
		}
		c["mounts"] = []any{map[string]any{"path": "/var/lib/shop", "volume": "data"}}
		d["volumes"] = []any{map[string]any{"name": "data", "mode": mode, "size": "1Gi",
			"storageClass": "standard", "volumeId": s.VolumeID}}
	}
	return d
}

func openTemp(t *testing.T, opts *spr.Options) (*spr.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.db")
	if opts == nil {
		opts = &spr.Options{}
	}
	if opts.Key == "" && opts.KeyFile == "" && opts.Keys == nil {
		opts.Key = testKey
	}
	s, err := spr.Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func record(t *testing.T, s *spr.Store, spinner string, state st, meta *spr.Meta) *spr.RecordResult {
	t.Helper()
	r, err := s.Record(spinner, state.doc(), meta)
	if err != nil {
		t.Fatalf("Record(%s %+v): %v", spinner, state, err)
	}
	return r
}

func mustVersion(t *testing.T, r *spr.RecordResult, want int64) {
	t.Helper()
	if r.Outcome != spr.OutcomeCreated || r.Version == nil || r.Version.Number != want {
		t.Fatalf("want created v%d, got %+v", want, r)
	}
}

// wantErr checks errors.Is against the sentinel and returns the *Error.
func wantErr(t *testing.T, err, sentinel error) *spr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v, got success", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("want %v, got %v", sentinel, err)
	}
	var e *spr.Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(*Error) failed for %T %v", err, err)
	}
	if strings.Contains(err.Error(), secretValue) || strings.Contains(e.Message, secretValue) {
		t.Fatalf("error leaks the secret: %v", err)
	}
	return e
}

func noSecret(t *testing.T, what string, b []byte) {
	t.Helper()
	if strings.Contains(string(b), secretValue) {
		t.Fatalf("%s contains the secret value", what)
	}
}

func readIfExists(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b
}

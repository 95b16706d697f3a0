package spinnerrollback_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

// Keyrings and key rotation, bundles (Export / Import) and Migrate (C API
// 0.2), against the real library and SQLite files.

var (
	newKey    = strings.Repeat("a7", 32) // replaces testKey in the keyring tests
	exportKey = strings.Repeat("3c", 32) // seals bundles; neither store's own key
	otherKey  = strings.Repeat("e1", 32) // the key of the stores bundles go into
)

const otherSecret = "Other-" + secretValue

// fill records two spinners, with secrets, a tag, a note, a status and a
// snapshot its volume bound: 4 versions in all.
func fill(t *testing.T, s *spr.Store) {
	t.Helper()
	mustVersion(t, record(t, s, "shop", st{Tag: "1.4", Secret: secretValue, VolumeID: "vol-1"},
		&spr.Meta{Author: "ci", Message: "first"}), 1)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.5", Secret: otherSecret, VolumeID: "vol-1"}, &spr.Meta{Author: "ci"}), 2)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.6", Secret: otherSecret, VolumeID: "vol-1"}, &spr.Meta{Author: "bob"}), 3)
	if _, err := s.Tag("shop", 1, "known-good", &spr.TagOptions{Note: "before 1.5", Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Annotate("shop", 2, "v2 broke checkout", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus("shop", 3, spr.StatusActive); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterSnapshot(spr.Snapshot{ID: "snap-1", Volume: "vol-1", SizeBytes: 2 << 30, Ready: true,
		StorageClass: "standard"}); err != nil {
		t.Fatal(err)
	}
	mustVersion(t, record(t, s, "cart", st{Tag: "c1"}, nil), 1)
}

// spinnerHistory is what a store holds of one spinner: its listing, and
// every version with its revealed state and notes.
type spinnerHistory struct {
	Versions []spr.Version
	Details  []*spr.VersionDetail
}

func history(t *testing.T, s *spr.Store) map[string]spinnerHistory {
	t.Helper()
	names, err := s.Spinners()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]spinnerHistory{}
	for _, name := range names {
		vs, err := s.Versions(name)
		if err != nil {
			t.Fatal(err)
		}
		h := spinnerHistory{Versions: vs}
		for _, v := range vs {
			d, err := s.Get(name, v.Number, true)
			if err != nil {
				t.Fatalf("Get(%s, %d): %v", name, v.Number, err)
			}
			h.Details = append(h.Details, d)
		}
		out[name] = h
	}
	return out
}

func sameHistory(t *testing.T, what string, got, want map[string]spinnerHistory) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: nothing to compare", what)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%s: histories differ:\n got %s\nwant %s", what, g, w)
	}
}

func secretOf(t *testing.T, s *spr.Store, spinner string, number int64) string {
	t.Helper()
	d, err := s.Get(spinner, number, true)
	if err != nil {
		t.Fatalf("Get(%s, %d, reveal): %v", spinner, number, err)
	}
	var state struct {
		Secrets map[string]map[string]string `json:"secrets"`
	}
	if err := json.Unmarshal(d.State, &state); err != nil {
		t.Fatal(err)
	}
	return state.Secrets["db"]["password"]
}

func writeKeyFile(t *testing.T, name, key string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// noKeyIn checks that an error shows none of the keys (wantErr checks the secret).
func noKeyIn(t *testing.T, err error, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if strings.Contains(err.Error(), k) {
			t.Fatalf("error shows a key: %v", err)
		}
	}
}

func openStore(t *testing.T, path string, opts *spr.Options) *spr.Store {
	t.Helper()
	s, err := spr.Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", filepath.Base(path), err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func exportAll(t *testing.T, s *spr.Store) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "all.bundle")
	if err := s.Export("", path, &spr.BundleOptions{Key: exportKey}); err != nil {
		t.Fatalf("Export: %v", err)
	}
	return path
}

func storeID(t *testing.T, s *spr.Store) string {
	t.Helper()
	info, err := s.Info()
	if err != nil {
		t.Fatal(err)
	}
	return info.StoreID
}

func lastSeq(t *testing.T, s *spr.Store) int64 {
	t.Helper()
	page, err := s.Events(0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return page.Next
}

func TestKeyringRotateResealRetiresOldKey(t *testing.T) {
	s, path := openTemp(t, nil) // testKey
	fill(t, s)
	before := history(t, s)
	s.Close()

	// Roll the new key out first (it wraps), the old one still unwraps.
	k1File := writeKeyFile(t, "k1.key", testKey)
	ring := openStore(t, path, &spr.Options{Keys: []spr.KeyringKey{{ID: "k2", Key: newKey}, {ID: "k1", KeyFile: k1File}}})
	if got := secretOf(t, ring, "shop", 1); got != secretValue {
		t.Fatal("the ring does not reveal the secret")
	}
	r, err := ring.RotateKey(&spr.RotateOptions{Reseal: true, BatchSize: 1})
	if err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	if r.KeyID != "k2" || r.Rewrapped < 1 || r.Resealed < 2 || r.Resumed {
		t.Fatalf("rotate with reseal: %+v", r)
	}
	// Nothing visible changed: same versions, digests, revealed states.
	sameHistory(t, "after reseal", history(t, ring), before)
	// Again without reseal (nil options): a re-wrap, nothing to re-seal.
	if r, err := ring.RotateKey(nil); err != nil || r.KeyID != "k2" || r.Resealed != 0 || r.Resumed {
		t.Fatalf("rotate again: %+v %v", r, err)
	}
	ring.Close()

	// The retired key alone opens nothing, given either way.
	_, err = spr.Open(path, &spr.Options{Key: testKey})
	if e := wantErr(t, err, spr.ErrNoKey); e.Path != "options.key" || e.Op != "Open" {
		t.Fatalf("retired key: %+v", e)
	}
	noKeyIn(t, err, testKey, newKey)
	_, err = spr.Open(path, &spr.Options{Keys: []spr.KeyringKey{{ID: "k1", KeyFile: k1File}}})
	if e := wantErr(t, err, spr.ErrNoKey); e.Path != "options.keys" {
		t.Fatalf("retired key in a ring: %+v", e)
	}
	noKeyIn(t, err, testKey, newKey)

	// The new key alone does.
	s2 := openStore(t, path, &spr.Options{Keys: []spr.KeyringKey{{ID: "k2", Key: newKey}}})
	sameHistory(t, "new key alone", history(t, s2), before)
	if secretOf(t, s2, "shop", 2) != otherSecret {
		t.Fatal("the new key does not reveal the secret")
	}
	s2.Close()
	noSecret(t, "store file", readIfExists(t, path))
}

func TestKeyringOptions(t *testing.T) {
	b, err := json.Marshal(spr.Options{Keys: []spr.KeyringKey{{ID: "k2", Key: "K"}, {ID: "k1", KeyFile: "/f"}}})
	if want := `{"keys":[{"id":"k2","key":"K"},{"id":"k1","keyFile":"/f"}]}`; err != nil || string(b) != want {
		t.Fatalf("Marshal = %s, %v; want %s", b, err, want)
	}
	if b, err := json.Marshal(spr.Options{Keys: []spr.KeyringKey{}}); err != nil || string(b) != `{"keys":[]}` {
		t.Fatalf("an empty ring is sent as is, not dropped: %s %v", b, err)
	}
	// Printing options never shows a key of the ring.
	k := spr.KeyringKey{ID: "k2", Key: newKey}
	opts := spr.Options{Keys: []spr.KeyringKey{k, {ID: "k1", KeyFile: "/etc/k1"}}}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, opts) + fmt.Sprintf(f, k)
		if strings.Contains(out, newKey) || !strings.Contains(out, "k2") || !strings.Contains(out, "/etc/k1") {
			t.Fatalf("%s prints %s", f, out)
		}
	}

	dir := t.TempDir()
	for i, c := range []struct {
		keys []spr.KeyringKey
		key  string
		path string
	}{
		{[]spr.KeyringKey{{ID: "k2", Key: "too-short"}}, "", "options.keys[0].key"},
		{[]spr.KeyringKey{{ID: "k2"}}, "", "options.keys[0]"}, // neither Key nor KeyFile
		{[]spr.KeyringKey{{ID: "k2", Key: newKey, KeyFile: "/f"}}, "", "options.keys[0]"},
		{[]spr.KeyringKey{{ID: "k2", Key: newKey}, {ID: "k2", Key: testKey}}, "", "options.keys[1].id"},
		{[]spr.KeyringKey{{ID: "no spaces", Key: newKey}}, "", "options.keys[0].id"},
		{[]spr.KeyringKey{}, "", "options.keys"},
		{[]spr.KeyringKey{{ID: "k2", Key: newKey}}, testKey, "options.keys"}, // a ring or a key, not both
	} {
		_, err := spr.Open(filepath.Join(dir, fmt.Sprintf("%d.db", i)), &spr.Options{Keys: c.keys, Key: c.key})
		if e := wantErr(t, err, spr.ErrInvalid); e.Path != c.path {
			t.Errorf("case %d: path %q, want %q (%v)", i, e.Path, c.path, err)
		}
		noKeyIn(t, err, newKey, testKey)
	}

	s := openStore(t, filepath.Join(dir, "ok.db"), &spr.Options{Keys: []spr.KeyringKey{k}})
	record(t, s, "shop", st{Tag: "1", Secret: secretValue}, nil)
	_, err = s.RotateKey(&spr.RotateOptions{BatchSize: -1})
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "options.batchSize" || e.Op != "RotateKey" {
		t.Fatalf("bad batch size: %+v", e)
	}
	nk := openStore(t, filepath.Join(dir, "nokey.db"), &spr.Options{})
	_, err = nk.RotateKey(nil)
	wantErr(t, err, spr.ErrNoKey)

	// A store without secrets has nothing to re-wrap.
	plain := openStore(t, filepath.Join(dir, "plain.db"), &spr.Options{Keys: []spr.KeyringKey{{ID: "k1", Key: testKey}}})
	record(t, plain, "shop", st{Tag: "1"}, nil)
	if r, err := plain.RotateKey(&spr.RotateOptions{Reseal: true}); err != nil || *r != (spr.RotateResult{KeyID: "k1"}) {
		t.Fatalf("rotate without secrets: %+v %v", r, err)
	}
}

func TestExportImportSameHistory(t *testing.T) {
	src, _ := openTemp(t, nil)
	fill(t, src)
	bundle := exportAll(t, src)
	if _, err := os.Stat(bundle + ".partial"); !os.IsNotExist(err) {
		t.Fatalf("the .partial file is left: %v", err)
	}
	blob := readIfExists(t, bundle)
	noSecret(t, "bundle", blob)
	if bytes.Contains(blob, []byte(otherSecret)) {
		t.Fatal("the bundle holds a secret value")
	}

	dst := openStore(t, filepath.Join(t.TempDir(), "copy.db"), &spr.Options{Key: otherKey})
	r, err := dst.Import(bundle, &spr.BundleOptions{Key: exportKey})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	want := spr.ImportResult{SourceStoreID: storeID(t, src), SpinnersImported: 2, VersionsImported: 4, SnapshotsImported: 1}
	if *r != want {
		t.Fatalf("import: %+v, want %+v", *r, want)
	}
	if r.SourceStoreID == storeID(t, dst) {
		t.Fatal("the copy has the source's identity")
	}
	sameHistory(t, "imported", history(t, dst), history(t, src))
	srcSnaps, _ := src.Snapshots("")
	if dstSnaps, err := dst.Snapshots(""); err != nil || !reflect.DeepEqual(dstSnaps, srcSnaps) {
		t.Fatalf("snapshots: %+v, want %+v (%v)", dstSnaps, srcSnaps, err)
	}
	if n, err := dst.TaggedVersion("shop", "known-good"); err != nil || n != 1 {
		t.Fatalf("tag: %d %v", n, err)
	}

	// One spinner.imported event per spinner, about its current version.
	page, err := dst.Events(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Events {
		if e.Type != spr.EventSpinnerImported {
			continue
		}
		var data struct {
			Versions      int64  `json:"versions"`
			SourceStoreID string `json:"sourceStoreId"`
		}
		if err := json.Unmarshal(e.Data, &data); err != nil || data.SourceStoreID != r.SourceStoreID || e.Version == nil {
			t.Fatalf("event %+v: %+v %v", e, data, err)
		}
		got = append(got, fmt.Sprintf("%s v%d %d", e.Spinner, *e.Version, data.Versions))
	}
	slices.Sort(got)
	if want := []string{"cart v1 1", "shop v3 3"}; !slices.Equal(got, want) {
		t.Fatalf("spinner.imported events %v, want %v", got, want)
	}

	// A second import finds everything there: skipped, nothing written.
	seq := lastSeq(t, dst)
	again, err := dst.Import(bundle, &spr.BundleOptions{Key: exportKey})
	if err != nil {
		t.Fatal(err)
	}
	want = spr.ImportResult{SourceStoreID: want.SourceStoreID, SpinnersSkipped: 2, VersionsSkipped: 4, SnapshotsSkipped: 1}
	if *again != want {
		t.Fatalf("second import: %+v, want %+v", *again, want)
	}
	if lastSeq(t, dst) != seq {
		t.Fatal("the second import wrote events")
	}
	sameHistory(t, "imported twice", history(t, dst), history(t, src))
}

func TestExportOneSpinnerAndRefusals(t *testing.T) {
	src, _ := openTemp(t, nil)
	fill(t, src)
	dir := t.TempDir()
	kf := writeKeyFile(t, "export.key", exportKey)
	shop := filepath.Join(dir, "shop.bundle")
	if err := src.Export("shop", shop, &spr.BundleOptions{KeyFile: kf}); err != nil {
		t.Fatal(err)
	}
	dst := openStore(t, filepath.Join(dir, "copy.db"), &spr.Options{KeyFile: writeKeyFile(t, "own.key", otherKey)})
	if r, err := dst.Import(shop, &spr.BundleOptions{KeyFile: kf}); err != nil || r.SpinnersImported != 1 || r.VersionsImported != 3 {
		t.Fatalf("import shop: %+v %v", r, err)
	}
	if names, _ := dst.Spinners(); !slices.Equal(names, []string{"shop"}) {
		t.Fatalf("spinners %v", names)
	}
	if secretOf(t, dst, "shop", 3) != otherSecret {
		t.Fatal("the imported secret differs")
	}

	// A bundle without secrets needs no key at either end.
	cart := filepath.Join(dir, "cart.bundle")
	if err := src.Export("cart", cart, nil); err != nil {
		t.Fatal(err)
	}
	bare := openStore(t, filepath.Join(dir, "bare.db"), nil)
	if r, err := bare.Import(cart, nil); err != nil || r.VersionsImported != 1 {
		t.Fatalf("import cart: %+v %v", r, err)
	}

	// Refusals.
	x := filepath.Join(dir, "x.bundle")
	err := src.Export("", x, nil) // secrets to export, no export key
	if e := wantErr(t, err, spr.ErrNoKey); e.Path != "options.key" || e.Op != "Export" {
		t.Fatalf("export without key: %+v", e)
	}
	if _, err := os.Stat(x); !os.IsNotExist(err) {
		t.Fatal("a refused export left a file")
	}
	wantErr(t, src.Export("nobody", x, &spr.BundleOptions{Key: exportKey}), spr.ErrNotFound)
	if e := wantErr(t, src.Export("", x, &spr.BundleOptions{Key: "short"}), spr.ErrInvalid); e.Path != "options.key" {
		t.Fatalf("bad export key: %+v", e)
	}
	if e := wantErr(t, src.Export("", "x\x00y", nil), spr.ErrInvalid); e.Path != "path" {
		t.Fatalf("NUL in path: %+v", e)
	}
	wantErr(t, src.Export("", filepath.Join(dir, "no", "such", "x.bundle"), &spr.BundleOptions{Key: exportKey}), spr.ErrIO)

	// The wrong key, or none, imports nothing.
	all := exportAll(t, src)
	empty := openStore(t, filepath.Join(dir, "empty.db"), &spr.Options{Key: otherKey})
	for _, opts := range []*spr.BundleOptions{nil, {Key: otherKey}} {
		_, err := empty.Import(all, opts)
		if e := wantErr(t, err, spr.ErrNoKey); e.Op != "Import" {
			t.Fatalf("import with key %v: %+v", opts, e)
		}
		noKeyIn(t, err, exportKey, otherKey)
	}
	if names, _ := empty.Spinners(); len(names) != 0 {
		t.Fatalf("a refused import wrote %v", names)
	}
	_, err = empty.Import(filepath.Join(dir, "missing.bundle"), &spr.BundleOptions{Key: exportKey})
	wantErr(t, err, spr.ErrIO)
}

func TestImportTruncatedBundle(t *testing.T) {
	src, _ := openTemp(t, nil)
	fill(t, src)
	bundle := exportAll(t, src)
	blob := readIfExists(t, bundle)
	lines := bytes.SplitAfter(blob, []byte("\n"))
	if len(lines) < 5 {
		t.Fatalf("a bundle of %d lines", len(lines))
	}
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.bundle")
	if err := os.WriteFile(cut, bytes.Join(lines[:len(lines)/2], nil), 0o600); err != nil {
		t.Fatal(err)
	}

	dst := openStore(t, filepath.Join(dir, "copy.db"), &spr.Options{Key: otherKey})
	record(t, dst, "other", st{Tag: "1"}, nil)
	before, seq := history(t, dst), lastSeq(t, dst)
	_, err := dst.Import(cut, &spr.BundleOptions{Key: exportKey})
	e := wantErr(t, err, spr.ErrInvalid)
	line, ok := strings.CutPrefix(e.Path, "bundle:")
	if !ok || line == "" || strings.Trim(line, "0123456789") != "" || !strings.Contains(e.Message, "line "+line) {
		t.Fatalf("truncated bundle: %+v", e)
	}
	noKeyIn(t, err, exportKey)
	// The bundle is checked whole before anything is written.
	sameHistory(t, "after a refused import", history(t, dst), before)
	if lastSeq(t, dst) != seq {
		t.Fatal("a refused import wrote events")
	}
	if snaps, _ := dst.Snapshots(""); len(snaps) != 0 {
		t.Fatalf("a refused import registered %v", snaps)
	}

	// So is an altered line.
	altered := filepath.Join(dir, "altered.bundle")
	if err := os.WriteFile(altered, bytes.ReplaceAll(blob, []byte("v2 broke checkout"), []byte("v2 fixed checkout")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = dst.Import(altered, &spr.BundleOptions{Key: exportKey})
	if e := wantErr(t, err, spr.ErrInvalid); !strings.HasPrefix(e.Path, "bundle:") {
		t.Fatalf("altered bundle: %+v", e)
	}
	sameHistory(t, "after an altered bundle", history(t, dst), before)
}

func TestImportConflictingHistory(t *testing.T) {
	src, _ := openTemp(t, nil)
	fill(t, src)
	bundle := exportAll(t, src)
	dst := openStore(t, filepath.Join(t.TempDir(), "copy.db"), &spr.Options{Key: otherKey})
	record(t, dst, "cart", st{Tag: "9.9"}, nil)
	before := history(t, dst)
	_, err := dst.Import(bundle, &spr.BundleOptions{Key: exportKey})
	wantErr(t, err, spr.ErrConflict)
	sameHistory(t, "after a conflict", history(t, dst), before)
}

func TestMigrateToSQLite(t *testing.T) {
	src, _ := openTemp(t, nil)
	fill(t, src)
	target := filepath.Join(t.TempDir(), "target.db")
	ring := &spr.Options{Keys: []spr.KeyringKey{{ID: "t1", Key: otherKey}}, Durability: spr.DurabilityNormal}
	m, err := src.Migrate(target, ring)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	srcID := storeID(t, src)
	if m.VersionsVerified != 4 || m.TargetStoreID == "" || m.TargetStoreID == srcID ||
		m.Imported != (spr.ImportResult{SourceStoreID: srcID, SpinnersImported: 2, VersionsImported: 4, SnapshotsImported: 1}) {
		t.Fatalf("migrate: %+v", m)
	}
	dst := openStore(t, target, ring)
	if storeID(t, dst) != m.TargetStoreID {
		t.Fatal("TargetStoreID is not the target's")
	}
	sameHistory(t, "migrated", history(t, dst), history(t, src))
	dst.Close()

	// Running it again skips what is there, and verifies it all again.
	again, err := src.Migrate(target, &spr.Options{Key: otherKey})
	if err != nil || again.VersionsVerified != 4 || again.TargetStoreID != m.TargetStoreID ||
		again.Imported.SpinnersSkipped != 2 || again.Imported.VersionsSkipped != 4 || again.Imported.VersionsImported != 0 {
		t.Fatalf("migrate again: %+v %v", again, err)
	}

	// Refusals.
	dir := t.TempDir()
	_, err = src.Migrate(filepath.Join(dir, "nokey.db"), nil) // secrets, and the target has no key
	if e := wantErr(t, err, spr.ErrNoKey); e.Op != "Migrate" {
		t.Fatalf("migrate without key: %+v", e)
	}
	_, err = src.Migrate(filepath.Join(dir, "t.db"), &spr.Options{Key: otherKey, Durability: "sometimes"})
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "options.durability" {
		t.Fatalf("bad target options: %+v", e)
	}
	_, err = src.Migrate("t\x00.db", nil)
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "target" {
		t.Fatalf("NUL in target: %+v", e)
	}
}

func TestNewCallsAfterClose(t *testing.T) {
	s, _ := openTemp(t, nil)
	s.Close()
	dir := t.TempDir()
	_, err := s.RotateKey(nil)
	errs := []error{err, s.Export("", filepath.Join(dir, "x.bundle"), nil)}
	_, err = s.Import(filepath.Join(dir, "x.bundle"), nil)
	errs = append(errs, err)
	_, err = s.Migrate(filepath.Join(dir, "t.db"), &spr.Options{Key: otherKey})
	errs = append(errs, err)
	for i, err := range errs {
		if !errors.Is(err, spr.ErrClosed) {
			t.Errorf("call %d after Close: %v", i, err)
		}
	}
}

package spinnerrollback_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

func TestLibraryVersion(t *testing.T) {
	v := spr.LibraryVersion()
	n := spr.LibraryVersionNumber()
	var a, b, c int
	if _, err := fmt.Sscanf(v, "%d.%d.%d", &a, &b, &c); err != nil || a*10000+b*100+c != n {
		t.Fatalf("version %q vs number %d", v, n)
	}
}

func TestRecordVersionsGetSecrets(t *testing.T) {
	s, path := openTemp(t, nil)
	before := time.Now().Add(-time.Minute)

	r := record(t, s, "shop", st{Tag: "1.4", Secret: secretValue}, &spr.Meta{Author: "alice", Message: "first"})
	mustVersion(t, r, 1)
	if !r.Version.Current || r.Version.Reason != spr.ReasonDeploy || r.Version.RollbackOf != nil ||
		r.Version.Status != spr.StatusPending || r.Version.Author != "alice" || r.Version.Message != "first" {
		t.Fatalf("v1: %+v", r.Version)
	}
	if len(r.Reasons) != 1 || r.Reasons[0].Category != "first" {
		t.Fatalf("v1 reasons: %+v", r.Reasons)
	}
	if r.Version.CreatedAt.Before(before) || r.Version.CreatedAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("createdAt %v", r.Version.CreatedAt)
	}
	if !strings.HasPrefix(r.Version.Digest, "sha256:") {
		t.Fatalf("digest %q", r.Version.Digest)
	}

	// Same content again: nothing new. A new secret value: a version.
	if r := record(t, s, "shop", st{Tag: "1.4", Secret: secretValue}, nil); r.Outcome != spr.OutcomeUnchanged || r.Version != nil {
		t.Fatalf("want unchanged, got %+v", r)
	}
	r = record(t, s, "shop", st{Tag: "1.5", Secret: secretValue + "-rotated"}, nil)
	mustVersion(t, r, 2)
	cats := map[string]bool{}
	for _, x := range r.Reasons {
		cats[x.Category] = true
	}
	if !cats["image"] || !cats["secretValues"] {
		t.Fatalf("v2 reasons: %+v", r.Reasons)
	}
	noSecret(t, "summary", []byte(r.Version.Summary))

	vs, err := s.Versions("shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Number != 2 || !vs[0].Current || vs[1].Number != 1 || vs[1].Current {
		t.Fatalf("versions: %+v", vs)
	}
	b, _ := json.Marshal(vs)
	noSecret(t, "versions", b)

	masked, err := s.Get("shop", 1, false)
	if err != nil {
		t.Fatal(err)
	}
	noSecret(t, "masked get", masked.State)
	if masked.Number != 1 || !strings.Contains(string(masked.State), "<redacted>") {
		t.Fatalf("masked get: %+v %s", masked.Version, masked.State)
	}
	revealed, err := s.Get("shop", 1, true)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Secrets map[string]map[string]string `json:"secrets"`
	}
	if err := json.Unmarshal(revealed.State, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Secrets["db"]["password"] != secretValue {
		t.Fatalf("revealed secret: %+v", doc.Secrets)
	}

	d, err := s.Diff("shop", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(d)
	noSecret(t, "diff", b)
	if strings.Contains(string(b), "rotated") {
		t.Fatal("diff leaks the rotated secret")
	}

	p, err := s.PlanRollback("shop", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	noSecret(t, "plan", p.Raw)

	// An invalid state next to a secret: the error must not echo it.
	bad := st{Tag: "1.6", Secret: secretValue}.doc()
	bad["secrets"] = map[string]any{"db": map[string]any{"password": secretValue, "bad key!": secretValue}}
	_, err = s.Record("shop", bad, nil)
	e := wantErr(t, err, spr.ErrInvalid)
	if e.Path == "" {
		t.Fatalf("invalid state error without path: %v", err)
	}

	// At rest: neither the database nor its WAL holds the secret, open or closed.
	noSecret(t, ".db (open)", readIfExists(t, path))
	noSecret(t, "-wal (open)", readIfExists(t, path+"-wal"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	noSecret(t, ".db", readIfExists(t, path))
	noSecret(t, "-wal", readIfExists(t, path+"-wal"))
}

func TestVersionsPage(t *testing.T) {
	s, _ := openTemp(t, nil)
	for i := 1; i <= 7; i++ {
		mustVersion(t, record(t, s, "shop", st{Tag: "1." + strconv.Itoa(i)}, nil), int64(i))
	}
	var pages [][]int64
	before := int64(0)
	for {
		page, err := s.VersionsPage("shop", before, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		var ns []int64
		for _, v := range page {
			ns = append(ns, v.Number)
		}
		pages = append(pages, ns)
		before = page[len(page)-1].Number
	}
	if fmt.Sprint(pages) != "[[7 6 5] [4 3 2] [1]]" {
		t.Fatalf("pages %v", pages)
	}
	if _, err := s.VersionsPage("shop", 0, 0); wantErr(t, err, spr.ErrInvalid).Path != "limit" {
		t.Fatalf("limit 0: %v", err)
	}
	if _, err := s.VersionsPage("shop", -1, 10); wantErr(t, err, spr.ErrInvalid).Path != "before" {
		t.Fatalf("before -1: %v", err)
	}
	_, err := s.VersionsPage("nobody", 0, 10)
	wantErr(t, err, spr.ErrNotFound)
}

func TestDiffAndPureFunctions(t *testing.T) {
	s, _ := openTemp(t, nil)
	a := st{Tag: "1.4", Instances: 2}
	b := st{Tag: "1.5", Instances: 3, Env: map[string]string{"DEBUG": "1"}}
	record(t, s, "shop", a, nil)
	record(t, s, "shop", b, nil)
	d, err := s.Diff("shop", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]spr.Change{}
	for _, c := range d.Changes {
		byPath[c.Path] = c
	}
	if c := byPath["instances"]; c.Kind != spr.KindChanged || string(c.From) != "2" || string(c.To) != "3" || c.Category != "instances" {
		t.Fatalf("instances change: %+v", c)
	}
	if c := byPath["containers[web].env[DEBUG]"]; c.Kind != spr.KindAdded || string(c.From) != "null" || string(c.To) != `"1"` {
		t.Fatalf("env change: %+v", c)
	}
	if c := byPath["containers[web].image"]; c.Category != "image" {
		t.Fatalf("image change: %+v (all: %+v)", c, d.Changes)
	}

	// DiffStates gives the same changes without a store.
	d2, err := spr.DiffStates(a.doc(), b.doc())
	if err != nil {
		t.Fatal(err)
	}
	if len(d2.Changes) != len(d.Changes) {
		t.Fatalf("DiffStates %+v vs Diff %+v", d2.Changes, d.Changes)
	}
	// Strings and bytes are taken as JSON text.
	ab, _ := json.Marshal(a.doc())
	if d3, err := spr.DiffStates(string(ab), ab); err != nil || len(d3.Changes) != 0 {
		t.Fatalf("DiffStates(same) = %+v, %v", d3, err)
	}
	_, err = spr.DiffStates(`{"schemaVersion": 1`, ab)
	wantErr(t, err, spr.ErrInvalid)

	// EvaluatePolicy: first state, a change, a policy that ignores it.
	r, err := spr.EvaluatePolicy(nil, nil, a.doc())
	if err != nil || !r.Snapshot || r.Outcome != spr.OutcomeCreated {
		t.Fatalf("first: %+v %v", r, err)
	}
	r, err = spr.EvaluatePolicy(nil, a.doc(), b.doc())
	if err != nil || !r.Snapshot || len(r.Reasons) < 3 {
		t.Fatalf("change: %+v %v", r, err)
	}
	r, err = spr.EvaluatePolicy(&spr.Policy{Triggers: []string{"cpu"}}, a.doc(), b.doc())
	if err != nil || r.Snapshot || r.Outcome != spr.OutcomeUnchanged {
		t.Fatalf("cpu-only policy: %+v %v", r, err)
	}
	r, err = spr.EvaluatePolicy(&spr.Policy{}, a.doc(), b.doc()) // nil triggers = defaults
	if err != nil || !r.Snapshot {
		t.Fatalf("default policy: %+v %v", r, err)
	}
	_, err = spr.EvaluatePolicy(&spr.Policy{Triggers: []string{"no-such-category"}}, a.doc(), b.doc())
	if e := wantErr(t, err, spr.ErrInvalid); !strings.Contains(e.Path, "triggers") {
		t.Fatalf("bad trigger path: %v", err)
	}

	// Diff refusals.
	_, err = s.Diff("shop", 1, 99)
	wantErr(t, err, spr.ErrNotFound)
	_, err = s.Diff("nobody", 1, 2)
	wantErr(t, err, spr.ErrNotFound)
}

// snapshotFixture: v1 on vol-1, v2 a new image on the same volume, a pricing.
func snapshotFixture(t *testing.T) *spr.Store {
	s, _ := openTemp(t, &spr.Options{Pricing: &spr.Pricing{Currency: "EUR",
		PerGiBMonth: map[string]float64{"standard": 0.25, "*": 1}}})
	mustVersion(t, record(t, s, "shop", st{Tag: "1.4", VolumeID: "vol-1", Digest: true}, nil), 1)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.5", VolumeID: "vol-1", Digest: true, Instances: 3}, nil), 2)
	return s
}

func TestPlanWithSnapshotAndCost(t *testing.T) {
	s := snapshotFixture(t)
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.RegisterSnapshot(spr.Snapshot{ID: "snap-1", Volume: "vol-1", SizeBytes: 3 << 30,
		CreatedAt: created, Ready: true, StorageClass: "standard",
		Metadata: json.RawMessage(`{"tool":"test"}`)}); err != nil {
		t.Fatal(err)
	}
	snaps, err := s.Snapshots("vol-1")
	if err != nil || len(snaps) != 1 || snaps[0].ID != "snap-1" || !snaps[0].Ready ||
		snaps[0].SizeBytes != 3<<30 || !snaps[0].CreatedAt.Equal(created) || string(snaps[0].Metadata) != `{"tool":"test"}` {
		t.Fatalf("Snapshots: %+v %v", snaps, err)
	}

	p, err := s.PlanRollback("shop", 1, &spr.PlanRequest{Data: map[string]spr.DataSource{"data": spr.FromSnapshot("snap-1")}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Spinner != "shop" || p.BaseVersion != 2 || p.TargetVersion != 1 || !p.RequiresConfirmation ||
		p.PlanID == "" || p.Digest == "" || len(p.State) == 0 || len(p.Raw) == 0 {
		t.Fatalf("plan: %+v", p)
	}
	if len(p.Volumes) != 1 {
		t.Fatalf("volumes: %+v", p.Volumes)
	}
	v := p.Volumes[0]
	if v.Volume != "data" || v.Source != spr.SourceSnapshot || v.SnapshotID != "snap-1" || v.NewVolume == nil ||
		len(v.Mounts) != 1 || v.Mounts[0] != "/var/lib/shop" {
		t.Fatalf("volume: %+v", v)
	}
	nv := v.NewVolume
	// 3 GiB (the snapshot is larger than the declared 1Gi) × 0.25 EUR.
	if nv.SizeBytes != 3<<30 || nv.Currency != "EUR" || math.Abs(nv.EstimatedMonthlyCost-0.75) > 1e-9 ||
		nv.Name == "" || v.VolumeID != nv.Name {
		t.Fatalf("new volume: %+v", nv)
	}
	if !strings.Contains(string(p.State), nv.Name) {
		t.Fatalf("state does not bind %s: %s", nv.Name, p.State)
	}
	if len(p.Steps) != 3 || p.Steps[0].Action != spr.ActionProvisionVolume || p.Steps[0].FromSnapshot != "snap-1" ||
		p.Steps[0].NewVolume != nv.Name || p.Steps[1].Action != spr.ActionApplyState || p.Steps[1].Version != 3 ||
		p.Steps[2].Action != spr.ActionReportStatus {
		t.Fatalf("steps: %+v", p.Steps)
	}
	costWarned := false
	for _, w := range p.Warnings {
		costWarned = costWarned || strings.Contains(w, "0.75") && strings.Contains(w, "EUR")
	}
	if !costWarned {
		t.Fatalf("no cost warning: %q", p.Warnings)
	}

	// Needs confirmation; then commits.
	_, err = s.Commit(p, &spr.Meta{Author: "bob"})
	wantErr(t, err, spr.ErrNeedsConfirmation)
	nvv, err := s.Commit(p, &spr.Meta{Author: "bob", Message: "restore data", Confirmed: true})
	if err != nil {
		t.Fatal(err)
	}
	if nvv.Number != 3 || nvv.Reason != spr.ReasonRollback || nvv.RollbackOf == nil || *nvv.RollbackOf != 1 ||
		nvv.Status != spr.StatusPending || !nvv.Current || nvv.Author != "bob" {
		t.Fatalf("committed: %+v", nvv)
	}
	if err := s.SetStatus("shop", 3, spr.StatusActive); err != nil {
		t.Fatal(err)
	}
	vs, _ := s.Versions("shop")
	if vs[0].Number != 3 || vs[0].Status != spr.StatusActive {
		t.Fatalf("after status: %+v", vs[0])
	}
	err = s.SetStatus("shop", 3, "sideways")
	wantErr(t, err, spr.ErrInvalid)

	// A plan that keeps current data needs no confirmation.
	p2, err := s.PlanRollback("shop", 2, &spr.PlanRequest{Data: map[string]spr.DataSource{"data": spr.KeepCurrent}})
	if err != nil {
		t.Fatal(err)
	}
	if p2.RequiresConfirmation || p2.Volumes[0].Source != spr.SourceCurrent || p2.Volumes[0].NewVolume != nil {
		t.Fatalf("keep-current plan: %+v", p2)
	}

	// Listed newest first, whatever zone the host's clock used.
	tokyo := time.FixedZone("JST", 9*3600)
	for id, at := range map[string]time.Time{
		"snap-b": time.Date(2026, 1, 2, 10, 0, 0, 0, tokyo),             // 01:00Z
		"snap-c": time.Date(2026, 1, 2, 2, 0, 0, 0, time.UTC),           // 02:00Z
		"snap-d": time.Date(2026, 1, 2, 2, 0, 0, 500_000_000, time.UTC), // 02:00:00.5Z
	} {
		if err := s.RegisterSnapshot(spr.Snapshot{ID: id, Volume: "vol-1", SizeBytes: 1, Ready: true, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	snaps, err = s.Snapshots("vol-1")
	if err != nil || len(snaps) != 4 || snaps[0].ID != "snap-1" || snaps[1].ID != "snap-d" || snaps[2].ID != "snap-c" || snaps[3].ID != "snap-b" {
		t.Fatalf("snapshot order: %+v %v", snaps, err)
	}
	for _, id := range []string{"snap-b", "snap-c", "snap-d"} {
		if err := s.DeleteSnapshot(id); err != nil {
			t.Fatal(err)
		}
	}

	if err := s.DeleteSnapshot("snap-1"); err != nil {
		t.Fatal(err)
	}
	if snaps, err := s.Snapshots(""); err != nil || len(snaps) != 0 {
		t.Fatalf("after delete: %+v %v", snaps, err)
	}
	wantErr(t, s.DeleteSnapshot("snap-1"), spr.ErrNotFound)
	wantErr(t, s.RegisterSnapshot(spr.Snapshot{ID: "x", Volume: "vol-1"}), spr.ErrInvalid) // sizeBytes 0
}

func TestCommitConflictAndAlteredPlan(t *testing.T) {
	s, _ := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1.4"}, nil)
	record(t, s, "shop", st{Tag: "1.5"}, nil)
	p, err := s.PlanRollback("shop", 1, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Altered: change the resulting state's instance count, keep the digest.
	var m map[string]any
	if err := json.Unmarshal(p.Raw, &m); err != nil {
		t.Fatal(err)
	}
	m["state"].(map[string]any)["instances"] = 99
	altered, _ := json.Marshal(m)
	ap, err := spr.ParsePlan(altered)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Commit(ap, nil)
	wantErr(t, err, spr.ErrInvalid)
	_, err = s.Commit(&spr.Plan{PlanID: p.PlanID}, nil) // no Raw
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "plan" {
		t.Fatalf("nil raw: %+v", e)
	}
	_, err = s.Commit(nil, nil)
	wantErr(t, err, spr.ErrInvalid)

	// A plan survives a JSON round trip byte for byte.
	kept, err := json.Marshal(p)
	if err != nil || string(kept) != string(p.Raw) {
		t.Fatalf("plan JSON round trip changed it (%v)", err)
	}

	// Conflict: the current version moved after planning.
	record(t, s, "shop", st{Tag: "1.6"}, nil)
	_, err = s.Commit(p, nil)
	wantErr(t, err, spr.ErrConflict)

	// A fresh plan commits.
	p, err = s.PlanRollback("shop", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	rp, _ := spr.ParsePlan(p.Raw)
	v, err := s.Commit(rp, nil)
	if err != nil || v.Number != 4 || *v.RollbackOf != 1 {
		t.Fatalf("commit: %+v %v", v, err)
	}
	// Committing the same plan again is now a conflict (v4 is current).
	_, err = s.Commit(p, nil)
	wantErr(t, err, spr.ErrConflict)
}

func TestRefusals(t *testing.T) {
	s := snapshotFixture(t)
	record(t, s, "shop", st{Tag: "1.4", VolumeID: "vol-1", Digest: true}, nil) // v3 == v1's content

	check := func(name string, sentinel error, wantPath string, f func() error) {
		t.Run(name, func(t *testing.T) {
			e := wantErr(t, f(), sentinel)
			if wantPath != "" && e.Path != wantPath {
				t.Fatalf("path %q, want %q (%v)", e.Path, wantPath, e)
			}
		})
	}
	plan := func(target int64, req *spr.PlanRequest) func() error {
		return func() error { _, err := s.PlanRollback("shop", target, req); return err }
	}
	snap := func(id string) *spr.PlanRequest {
		return &spr.PlanRequest{Data: map[string]spr.DataSource{"data": spr.FromSnapshot(id)}}
	}
	if err := s.RegisterSnapshot(spr.Snapshot{ID: "snap-pending", Volume: "vol-1", SizeBytes: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterSnapshot(spr.Snapshot{ID: "snap-other", Volume: "vol-other", SizeBytes: 1 << 30, Ready: true}); err != nil {
		t.Fatal(err)
	}

	check("current version", spr.ErrCurrentVersion, "target", plan(3, nil))
	check("identical", spr.ErrIdentical, "", plan(1, nil))
	check("unknown version", spr.ErrNotFound, "", plan(42, nil))
	check("unknown spinner", spr.ErrNotFound, "", func() error { _, err := s.PlanRollback("nobody", 1, nil); return err })
	check("invalid spinner", spr.ErrInvalid, "spinner", func() error { _, err := s.PlanRollback("Not_A_Name!", 1, nil); return err })
	check("NUL in spinner", spr.ErrInvalid, "spinner", func() error { _, err := s.Versions("shop\x00x"); return err })
	check("unknown volume", spr.ErrUnknownVolume, "request.data.nope", plan(2, &spr.PlanRequest{Data: map[string]spr.DataSource{"nope": spr.KeepCurrent}}))
	check("unknown snapshot", spr.ErrNotFound, "request.data.data.snapshot", plan(2, snap("snap-none")))
	check("snapshot not ready", spr.ErrSnapshotNotReady, "request.data.data.snapshot", plan(2, snap("snap-pending")))
	check("snapshot mismatch", spr.ErrSnapshotMismatch, "request.data.data.snapshot", plan(2, snap("snap-other")))
	check("bad scope", spr.ErrInvalid, "request.scope", plan(2, &spr.PlanRequest{Scope: "some"}))
	check("get unknown", spr.ErrNotFound, "", func() error { _, err := s.Get("shop", 77, false); return err })
	check("versions unknown", spr.ErrNotFound, "", func() error { _, err := s.Versions("nobody"); return err })
	check("info unknown", spr.ErrNotFound, "", func() error { _, err := s.SpinnerInfo("nobody"); return err })
	check("auto: never active", spr.ErrNotFound, "", func() error { _, err := s.PlanAutoRollback("shop"); return err })

	t.Run("pruned", func(t *testing.T) {
		for i, tag := range []string{"2.0", "2.1", "2.2"} {
			r := record(t, s, "small", st{Tag: tag, HistoryLimit: 1}, nil)
			mustVersion(t, r, int64(i+1))
		}
		_, err := s.PlanRollback("small", 1, nil)
		wantErr(t, err, spr.ErrPruned)
		_, err = s.Get("small", 1, false)
		wantErr(t, err, spr.ErrPruned)
		if _, err := s.PlanRollback("small", 2, nil); err != nil {
			t.Fatalf("retained v2: %v", err)
		}
	})
	t.Run("rollback disabled", func(t *testing.T) {
		record(t, s, "off", st{Tag: "1"}, nil)
		record(t, s, "off", st{Tag: "2"}, nil)
		if r := record(t, s, "off", st{Tag: "3", Disabled: true}, nil); r.Outcome != spr.OutcomeDisabled {
			t.Fatalf("disabled record: %+v", r)
		}
		_, err := s.PlanRollback("off", 1, nil)
		wantErr(t, err, spr.ErrRollbackDisabled)
		info, err := s.SpinnerInfo("off")
		if err != nil || info.RollbackEnabled || info.CurrentVersion != 2 || info.Spinner != "off" {
			t.Fatalf("info: %+v %v", info, err)
		}
	})
}

func TestAutoRollbackAndInfo(t *testing.T) {
	s, _ := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1.4"}, nil)
	if err := s.SetStatus("shop", 1, spr.StatusActive); err != nil {
		t.Fatal(err)
	}
	record(t, s, "shop", st{Tag: "1.5"}, nil)
	if err := s.SetStatus("shop", 2, spr.StatusFailed); err != nil {
		t.Fatal(err)
	}
	p, err := s.PlanAutoRollback("shop")
	if err != nil || p.TargetVersion != 1 || p.BaseVersion != 2 {
		t.Fatalf("auto plan: %+v %v", p, err)
	}
	// Tag without digest: the plan warns.
	if len(p.Warnings) == 0 {
		t.Fatalf("no digest warning")
	}
	v, err := s.Commit(p, &spr.Meta{Author: "robot"})
	if err != nil || v.Number != 3 {
		t.Fatalf("commit auto plan: %+v %v", v, err)
	}
	info, err := s.SpinnerInfo("shop")
	if err != nil || info.CurrentVersion != 3 || info.VersionsCreated != 3 || !info.RollbackEnabled || info.HistoryLimit != 100 {
		t.Fatalf("info: %+v %v", info, err)
	}
	if _, err := time.Parse(time.RFC3339, info.LastRecordedAt); err != nil {
		t.Fatalf("lastRecordedAt %q: %v", info.LastRecordedAt, err)
	}
}

func TestNoKey(t *testing.T) {
	s, path := openTemp(t, nil) // with the key
	record(t, s, "shop", st{Tag: "1.4", Secret: secretValue}, nil)
	s.Close()

	nk, err := spr.Open(path, &spr.Options{}) // no key
	if err != nil {
		t.Fatal(err)
	}
	defer nk.Close()
	_, err = nk.Record("shop", st{Tag: "1.5", Secret: secretValue + "2"}.doc(), nil)
	wantErr(t, err, spr.ErrNoKey)
	_, err = nk.Get("shop", 1, true)
	wantErr(t, err, spr.ErrNoKey)
	if d, err := nk.Get("shop", 1, false); err != nil { // masked reads need no key
		t.Fatalf("masked get without key: %v", err)
	} else {
		noSecret(t, "masked get", d.State)
	}
	if _, err := nk.Record("plain", st{Tag: "1"}.doc(), nil); err != nil {
		t.Fatalf("state without secrets, no key: %v", err)
	}

	// Wrong key: reveal refused, never garbage.
	wk, err := spr.Open(path, &spr.Options{Key: strings.Repeat("ee", 32)})
	if err == nil {
		defer wk.Close()
		_, err = wk.Get("shop", 1, true)
	}
	wantErr(t, err, spr.ErrNoKey)

	_, err = spr.Open(path, &spr.Options{Key: "too-short"})
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "options.key" || strings.Contains(e.Message, "too-short") {
		t.Fatalf("bad key: %+v", e)
	}
}

func TestOptionsJSON(t *testing.T) {
	for _, c := range []struct {
		opts spr.Options
		want string
	}{
		{spr.Options{}, `{}`},
		{spr.Options{BusyTimeoutMs: -1}, `{"busyTimeoutMs":0}`},
		{spr.Options{BusyTimeoutMs: 250, Durability: spr.DurabilityNormal}, `{"durability":"normal","busyTimeoutMs":250}`},
		{spr.Options{Policy: &spr.Policy{}}, `{"policy":{}}`},
		{spr.Options{Policy: &spr.Policy{Triggers: []string{}}}, `{"policy":{"triggers":[]}}`},
		{spr.Options{KeyFile: "/k", Pricing: &spr.Pricing{Currency: "USD", PerGiBMonth: map[string]float64{"*": 0.1}}},
			`{"keyFile":"/k","pricing":{"currency":"USD","perGiBMonth":{"*":0.1}}}`},
	} {
		for _, v := range []any{c.opts, &c.opts} {
			b, err := json.Marshal(v)
			if err != nil || string(b) != c.want {
				t.Errorf("Marshal(%T %+v) = %s, %v; want %s", v, c.opts, b, err, c.want)
			}
		}
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	s, err := spr.Open(dir+"/a.db", &spr.Options{Key: testKey, BusyTimeoutMs: 250, Durability: spr.DurabilityNormal,
		Policy: &spr.Policy{Triggers: []string{"image"}}})
	if err != nil {
		t.Fatal(err)
	}
	record(t, s, "shop", st{Tag: "1"}, nil)
	if r := record(t, s, "shop", st{Tag: "1", Instances: 9}, nil); r.Outcome != spr.OutcomeUnchanged {
		t.Fatalf("image-only policy recorded an instance change: %+v", r)
	}
	s.Close()
	s, err = spr.Open(dir+"/b.db", &spr.Options{BusyTimeoutMs: -1}) // → 0, no wait
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = spr.Open(dir+"/c.db", &spr.Options{Durability: "maybe"})
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "options.durability" {
		t.Fatalf("durability: %+v", e)
	}
	_, err = spr.Open(dir+"/d.db", &spr.Options{Pricing: &spr.Pricing{Currency: "EURO"}})
	wantErr(t, err, spr.ErrInvalid)
	_, err = spr.Open(dir+"/no/such/dir/e.db", nil)
	if err == nil {
		t.Fatal("open in a missing directory succeeded")
	}
	if !errors.Is(err, spr.ErrIO) && !errors.Is(err, spr.ErrInvalid) {
		t.Fatalf("open missing dir: %v", err)
	}
}

func TestRequestIDIdempotency(t *testing.T) {
	s, _ := openTemp(t, nil)
	meta := &spr.Meta{Author: "ci", RequestID: "deploy-123"}
	r1 := record(t, s, "shop", st{Tag: "1.4"}, meta)
	r2 := record(t, s, "shop", st{Tag: "1.4"}, meta) // retry
	mustVersion(t, r1, 1)
	if r2.Version == nil || r2.Version.Number != 1 || r2.Outcome != r1.Outcome {
		t.Fatalf("retry: %+v", r2)
	}
	record(t, s, "shop", st{Tag: "1.5"}, &spr.Meta{RequestID: "deploy-124"})
	r3 := record(t, s, "shop", st{Tag: "1.5"}, &spr.Meta{RequestID: "deploy-124"})
	if r3.Version == nil || r3.Version.Number != 2 {
		t.Fatalf("retry 2: %+v", r3)
	}
	// The same id for a different state is not a retry.
	_, err := s.Record("shop", st{Tag: "9.9"}.doc(), &spr.Meta{RequestID: "deploy-124"})
	if e := wantErr(t, err, spr.ErrConflict); e.Path != "meta.requestId" {
		t.Fatalf("reused requestId: %+v", e)
	}

	p, err := s.PlanRollback("shop", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	cm := &spr.Meta{RequestID: "rollback-1"}
	v1, err := s.Commit(p, cm)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := s.Commit(p, cm) // retried after a lost reply: same version, no conflict
	if err != nil || v2.Number != v1.Number {
		t.Fatalf("commit retry: %+v %v (first %d)", v2, err, v1.Number)
	}
	vs, _ := s.Versions("shop")
	if len(vs) != 3 {
		t.Fatalf("want 3 versions, got %d", len(vs))
	}
	_, err = s.Record("shop", st{Tag: "1.6"}.doc(), &spr.Meta{RequestID: ""}) // omitted → fine
	if err != nil {
		t.Fatal(err)
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	s, _ := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1"}, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	calls := map[string]func() error{
		"Record":           func() error { _, err := s.Record("shop", st{Tag: "2"}.doc(), nil); return err },
		"Versions":         func() error { _, err := s.Versions("shop"); return err },
		"Get":              func() error { _, err := s.Get("shop", 1, false); return err },
		"Diff":             func() error { _, err := s.Diff("shop", 1, 1); return err },
		"PlanRollback":     func() error { _, err := s.PlanRollback("shop", 1, nil); return err },
		"PlanAutoRollback": func() error { _, err := s.PlanAutoRollback("shop"); return err },
		"Commit":           func() error { _, err := s.Commit(&spr.Plan{Raw: []byte("{}")}, nil); return err },
		"SetStatus":        func() error { return s.SetStatus("shop", 1, spr.StatusActive) },
		"SpinnerInfo":      func() error { _, err := s.SpinnerInfo("shop"); return err },
		"RegisterSnapshot": func() error { return s.RegisterSnapshot(spr.Snapshot{ID: "a", Volume: "v", SizeBytes: 1}) },
		"Snapshots":        func() error { _, err := s.Snapshots(""); return err },
		"DeleteSnapshot":   func() error { return s.DeleteSnapshot("a") },
		"Events":           func() error { _, err := s.Events(0, 10); return err },
		"WaitEvents": func() error {
			_, err := s.WaitEvents(context.Background(), 0, time.Second)
			return err
		},
	}
	for name, f := range calls {
		if err := f(); !errors.Is(err, spr.ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
	var nilStore *spr.Store
	if _, err := nilStore.Versions("shop"); !errors.Is(err, spr.ErrClosed) {
		t.Errorf("nil store: %v", err)
	}
	if err := nilStore.Close(); err != nil {
		t.Errorf("nil Close: %v", err)
	}
}

func TestErrorValue(t *testing.T) {
	e := &spr.Error{Code: spr.CodeConflict, Name: "SPR_E_CONFLICT", Message: "moved", Path: "plan.baseVersion", Op: "Commit"}
	wrapped := fmt.Errorf("deploy: %w", e)
	if !errors.Is(wrapped, spr.ErrConflict) || errors.Is(wrapped, spr.ErrInvalid) || errors.Is(wrapped, spr.ErrClosed) {
		t.Fatal("errors.Is mismatch")
	}
	var got *spr.Error
	if !errors.As(wrapped, &got) || got.Path != "plan.baseVersion" {
		t.Fatal("errors.As")
	}
	if s := e.Error(); !strings.Contains(s, "SPR_E_CONFLICT") || !strings.Contains(s, "moved") || !strings.Contains(s, "plan.baseVersion") {
		t.Fatalf("Error() = %q", s)
	}
}

func TestStoreInfoAndSpinners(t *testing.T) {
	s, path := openTemp(t, nil)
	info, err := s.Info()
	if err != nil || info.Engine != "sqlite" || info.SchemaVersion < 2 || info.LibraryVersion != spr.LibraryVersion() {
		t.Fatalf("info: %+v %v", info, err)
	}
	if len(info.StoreID) != 36 || strings.Count(info.StoreID, "-") != 4 {
		t.Fatalf("storeId %q is not a UUID", info.StoreID)
	}
	record(t, s, "web", st{Tag: "1.4"}, nil)
	record(t, s, "api", st{Tag: "1.4"}, nil)
	names, err := s.Spinners()
	if err != nil || strings.Join(names, ",") != "api,web" {
		t.Fatalf("spinners: %v %v", names, err)
	}
	s.Close()
	again, err := spr.Open(path, &spr.Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if info2, err := again.Info(); err != nil || info2.StoreID != info.StoreID {
		t.Fatalf("identity changed on reopen: %+v %v", info2, err)
	}
}

package spinnerrollback_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

// Tags, notes, ExpectedCurrent (compare-and-set) and partial-scope
// rollbacks (C API 0.2), against the real library and SQLite files.

func threeVersions(t *testing.T, s *spr.Store) {
	t.Helper()
	for i, tag := range []string{"1.4", "1.5", "1.6"} {
		mustVersion(t, record(t, s, "shop", st{Tag: tag}, nil), int64(i+1))
	}
}

// tagNames maps each listed version to the names of its tags.
func tagNames(t *testing.T, s *spr.Store, spinner string) map[int64][]string {
	t.Helper()
	vs, err := s.Versions(spinner)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][]string{}
	for _, v := range vs {
		names := []string{}
		for _, tg := range v.Tags {
			names = append(names, tg.Name)
		}
		out[v.Number] = names
	}
	return out
}

func numbers(t *testing.T, s *spr.Store, spinner string) []int64 {
	t.Helper()
	vs, err := s.Versions(spinner)
	if err != nil {
		t.Fatal(err)
	}
	var ns []int64
	for _, v := range vs {
		ns = append(ns, v.Number)
	}
	return ns
}

func i64(n int64) *int64 { return &n }

func TestTagListAndTaggedVersion(t *testing.T) {
	s, _ := openTemp(t, nil)
	threeVersions(t, s)
	before := time.Now().Add(-time.Minute)

	v, err := s.Tag("shop", 1, "known-good", &spr.TagOptions{Note: "last release before 1.5", Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Number != 1 || len(v.Tags) != 1 {
		t.Fatalf("tag result: %+v", v)
	}
	tg := v.Tags[0]
	if tg.Name != "known-good" || tg.Note != "last release before 1.5" || tg.Author != "alice" ||
		tg.CreatedAt.Before(before) || tg.CreatedAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("tag: %+v", tg)
	}
	if got, want := tagNames(t, s, "shop"), map[int64][]string{3: {}, 2: {}, 1: {"known-good"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("listing tags %v, want %v", got, want)
	}
	vs, err := s.Versions("shop")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(vs[2].Tags, v.Tags) {
		t.Fatalf("listed %+v, tagged %+v", vs[2].Tags, v.Tags)
	}
	if d, err := s.Get("shop", 1, false); err != nil || !reflect.DeepEqual(d.Tags, v.Tags) {
		t.Fatalf("get tags: %+v %v", d, err)
	}
	if n, err := s.TaggedVersion("shop", "known-good"); err != nil || n != 1 {
		t.Fatalf("TaggedVersion = %d, %v", n, err)
	}

	// Tagging the holder again updates the note; a nil *TagOptions is fine.
	v, err = s.Tag("shop", 1, "known-good", &spr.TagOptions{Note: "re-checked"})
	if err != nil || len(v.Tags) != 1 || v.Tags[0].Note != "re-checked" {
		t.Fatalf("retag: %+v %v", v, err)
	}
	v, err = s.Tag("shop", 1, "audit", nil)
	if err != nil || len(v.Tags) != 2 || v.Tags[0].Name != "audit" || v.Tags[0].Note != "" || v.Tags[1].Name != "known-good" {
		t.Fatalf("second tag (sorted by name): %+v %v", v, err)
	}

	// Errors.
	_, err = s.Tag("shop", 99, "x", nil)
	wantErr(t, err, spr.ErrNotFound)
	_, err = s.Tag("nobody", 1, "x", nil)
	wantErr(t, err, spr.ErrNotFound)
	_, err = s.Tag("shop", 1, "Not A Label", nil)
	if e := wantErr(t, err, spr.ErrInvalid); !strings.HasPrefix(e.Path, "tag") {
		t.Fatalf("bad tag name path %q", e.Path)
	}
	_, err = s.TaggedVersion("shop", "nope")
	wantErr(t, err, spr.ErrNotFound)
	_, err = s.TaggedVersion("shop", "a\x00b")
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "name" || e.Op != "TaggedVersion" {
		t.Fatalf("NUL in name: %+v", e)
	}
}

func TestTagConflictMoveUntag(t *testing.T) {
	s, _ := openTemp(t, nil)
	threeVersions(t, s)
	if _, err := s.Tag("shop", 1, "stable", nil); err != nil {
		t.Fatal(err)
	}
	_, err := s.Tag("shop", 2, "stable", nil)
	if e := wantErr(t, err, spr.ErrConflict); e.Code != spr.CodeConflict || e.Op != "Tag" {
		t.Fatalf("conflict: %+v", e)
	}
	if n, err := s.TaggedVersion("shop", "stable"); err != nil || n != 1 {
		t.Fatalf("after conflict: %d %v", n, err)
	}

	v, err := s.Tag("shop", 2, "stable", &spr.TagOptions{Move: true})
	if err != nil || v.Number != 2 || len(v.Tags) != 1 || v.Tags[0].Name != "stable" {
		t.Fatalf("move: %+v %v", v, err)
	}
	if n, err := s.TaggedVersion("shop", "stable"); err != nil || n != 2 {
		t.Fatalf("after move: %d %v", n, err)
	}
	if got, want := tagNames(t, s, "shop"), map[int64][]string{3: {}, 2: {"stable"}, 1: {}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after move %v, want %v", got, want)
	}

	if err := s.Untag("shop", "stable"); err != nil {
		t.Fatal(err)
	}
	if got, want := tagNames(t, s, "shop"), map[int64][]string{3: {}, 2: {}, 1: {}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after untag %v, want %v", got, want)
	}
	_, err = s.TaggedVersion("shop", "stable")
	wantErr(t, err, spr.ErrNotFound)
	e := wantErr(t, s.Untag("shop", "stable"), spr.ErrNotFound)
	if e.Op != "Untag" {
		t.Fatalf("untag op %q", e.Op)
	}
	wantErr(t, s.Untag("shop", "never-existed"), spr.ErrNotFound)
	wantErr(t, s.Untag("nobody", "stable"), spr.ErrNotFound)
}

func TestMaxTaggedVersions(t *testing.T) {
	s, _ := openTemp(t, &spr.Options{MaxTaggedVersions: 1})
	threeVersions(t, s)
	if _, err := s.Tag("shop", 1, "one", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tag("shop", 1, "two", nil); err != nil { // same version: still one
		t.Fatal(err)
	}
	_, err := s.Tag("shop", 2, "three", nil)
	if e := wantErr(t, err, spr.ErrConflict); !strings.Contains(e.Message, "maxTaggedVersions 1") {
		t.Fatalf("limit message: %q", e.Message)
	}
	_, err = s.Tag("shop", 2, "one", &spr.TagOptions{Move: true}) // v1 keeps "two"
	wantErr(t, err, spr.ErrConflict)
	if err := s.Untag("shop", "two"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tag("shop", 2, "one", &spr.TagOptions{Move: true}); err != nil {
		t.Fatalf("move leaving v1 untagged: %v", err)
	}
	if got, want := tagNames(t, s, "shop"), map[int64][]string{3: {}, 2: {"one"}, 1: {}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}

	_, err = spr.Open(filepath.Join(t.TempDir(), "x.db"), &spr.Options{MaxTaggedVersions: 10001})
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "options.maxTaggedVersions" {
		t.Fatalf("bad maxTaggedVersions: %+v", e)
	}
	b, _ := json.Marshal(spr.Options{MaxTaggedVersions: 7})
	if string(b) != `{"maxTaggedVersions":7}` {
		t.Fatalf("options JSON %s", b)
	}
}

func TestTaggedVersionSurvivesPruning(t *testing.T) {
	s, _ := openTemp(t, nil)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.4", HistoryLimit: 1}, nil), 1)
	if _, err := s.Tag("shop", 1, "golden", &spr.TagOptions{Note: "keep me"}); err != nil {
		t.Fatal(err)
	}
	for i, tag := range []string{"1.5", "1.6", "1.7"} {
		mustVersion(t, record(t, s, "shop", st{Tag: tag, HistoryLimit: 1}, nil), int64(i+2))
	}
	// historyLimit 1 keeps the current version and one older one (v3): the
	// untagged v2 was pruned, the tagged v1 is kept outside the limit.
	if got := numbers(t, s, "shop"); !reflect.DeepEqual(got, []int64{4, 3, 1}) {
		t.Fatalf("retained %v, want [4 3 1]", got)
	}
	_, err := s.Get("shop", 2, false)
	wantErr(t, err, spr.ErrPruned)
	d, err := s.Get("shop", 1, false)
	if err != nil || len(d.Tags) != 1 || d.Tags[0].Name != "golden" || !strings.Contains(string(d.State), "shop:1.4") {
		t.Fatalf("tagged v1: %+v %v", d, err)
	}
	if p, err := s.PlanRollback("shop", 1, nil); err != nil || p.TargetVersion != 1 || p.BaseVersion != 4 {
		t.Fatalf("plan to the tagged version: %+v %v", p, err)
	}

	// Untagged, v1 is subject to retention again from the next write.
	if err := s.Untag("shop", "golden"); err != nil {
		t.Fatal(err)
	}
	mustVersion(t, record(t, s, "shop", st{Tag: "1.8", HistoryLimit: 1}, nil), 5)
	if got := numbers(t, s, "shop"); !reflect.DeepEqual(got, []int64{5, 4}) {
		t.Fatalf("after untag retained %v, want [5 4]", got)
	}
	_, err = s.Get("shop", 1, false)
	wantErr(t, err, spr.ErrPruned)
}

func TestAnnotate(t *testing.T) {
	s, _ := openTemp(t, nil)
	threeVersions(t, s)
	if d, err := s.Get("shop", 2, false); err != nil || len(d.Notes) != 0 {
		t.Fatalf("no notes yet: %+v %v", d, err)
	}
	notes, err := s.Annotate("shop", 2, "v2 broke checkout", "alice")
	if err != nil || len(notes) != 1 || notes[0].Text != "v2 broke checkout" || notes[0].Author != "alice" || notes[0].CreatedAt.IsZero() {
		t.Fatalf("annotate: %+v %v", notes, err)
	}
	again, err := s.Annotate("shop", 2, "v2 broke checkout", "alice") // a retry: not appended
	if err != nil || !reflect.DeepEqual(again, notes) {
		t.Fatalf("retry: %+v %v", again, err)
	}
	more, err := s.Annotate("shop", 2, "rolled back at 14:02", "")
	if err != nil || len(more) != 2 || more[0] != notes[0] || more[1].Text != "rolled back at 14:02" || more[1].Author != "" {
		t.Fatalf("second note: %+v %v", more, err)
	}
	d, err := s.Get("shop", 2, false)
	if err != nil || !reflect.DeepEqual(d.Notes, more) {
		t.Fatalf("get notes: %+v %v", d, err)
	}
	if d, err := s.Get("shop", 1, false); err != nil || len(d.Notes) != 0 {
		t.Fatalf("v1 notes: %+v %v", d, err)
	}

	_, err = s.Annotate("shop", 1, "", "")
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "note.text" || e.Op != "Annotate" {
		t.Fatalf("empty note: %+v", e)
	}
	_, err = s.Annotate("shop", 1, strings.Repeat("x", 4097), "")
	wantErr(t, err, spr.ErrInvalid)
	_, err = s.Annotate("shop", 42, "nope", "")
	wantErr(t, err, spr.ErrNotFound)
}

func TestExpectedCurrent(t *testing.T) {
	s, _ := openTemp(t, nil)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.4"}, &spr.Meta{ExpectedCurrent: i64(0)}), 1)
	_, err := s.Record("shop", st{Tag: "1.5"}.doc(), &spr.Meta{ExpectedCurrent: i64(0)})
	wantErr(t, err, spr.ErrConflict)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.5"}, &spr.Meta{ExpectedCurrent: i64(1)}), 2)

	before, err := s.Versions("shop")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.SpinnerInfo("shop")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Record("shop", st{Tag: "1.6"}.doc(), &spr.Meta{Author: "late", ExpectedCurrent: i64(1)})
	if e := wantErr(t, err, spr.ErrConflict); e.Op != "Record" {
		t.Fatalf("op %q", e.Op)
	}
	after, err := s.Versions("shop")
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Fatalf("a refused record wrote something: %+v %v", after, err)
	}
	if info2, err := s.SpinnerInfo("shop"); err != nil || *info2 != *info {
		t.Fatalf("spinner info changed: %+v -> %+v %v", info, info2, err)
	}
	mustVersion(t, record(t, s, "shop", st{Tag: "1.6"}, &spr.Meta{ExpectedCurrent: i64(2)}), 3)

	_, err = s.Record("shop", st{Tag: "1.7"}.doc(), &spr.Meta{ExpectedCurrent: i64(-1)})
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "meta.expectedCurrent" {
		t.Fatalf("negative expectedCurrent: %+v", e)
	}

	// Commit: the same compare-and-set.
	p, err := s.PlanRollback("shop", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Commit(p, &spr.Meta{ExpectedCurrent: i64(2)})
	wantErr(t, err, spr.ErrConflict)
	if got := numbers(t, s, "shop"); !reflect.DeepEqual(got, []int64{3, 2, 1}) {
		t.Fatalf("after refused commit %v", got)
	}
	v, err := s.Commit(p, &spr.Meta{ExpectedCurrent: i64(3)})
	if err != nil || v.Number != 4 || v.RollbackOf == nil || *v.RollbackOf != 1 {
		t.Fatalf("commit: %+v %v", v, err)
	}

	// JSON: nil is left out, 0 is sent.
	for _, c := range []struct {
		m    spr.Meta
		want string
	}{
		{spr.Meta{}, `{}`},
		{spr.Meta{ExpectedCurrent: i64(0)}, `{"expectedCurrent":0}`},
		{spr.Meta{Author: "a", ExpectedCurrent: i64(7)}, `{"author":"a","expectedCurrent":7}`},
	} {
		if b, err := json.Marshal(c.m); err != nil || string(b) != c.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", c.m, b, err, c.want)
		}
	}
}

func TestPartialScopeRollback(t *testing.T) {
	s, _ := openTemp(t, nil)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.4"}, nil), 1)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.5", Env: map[string]string{"FEATURE_X": "on"}}, nil), 2)

	full, err := s.PlanRollback("shop", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	cats := map[string]bool{}
	for _, c := range full.Diff.Changes {
		cats[c.Category] = true
	}
	if !cats["image"] || !cats["env"] || full.Scope().Name != spr.ScopeTracked {
		t.Fatalf("full plan: categories %v, scope %+v", cats, full.Scope())
	}

	p, err := s.PlanRollback("shop", 1, &spr.PlanRequest{Categories: []string{"image"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Diff.Changes) == 0 {
		t.Fatal("partial plan without changes")
	}
	for _, c := range p.Diff.Changes {
		if c.Category != "image" {
			t.Fatalf("partial plan changes %s (%s)", c.Category, c.Path)
		}
	}
	if sc := p.Scope(); sc.Name != "" || !reflect.DeepEqual(sc.Categories, []string{"image"}) {
		t.Fatalf("plan scope %+v (request %s)", sc, p.Request)
	}
	if !strings.Contains(string(p.State), "shop:1.4") || !strings.Contains(string(p.State), "FEATURE_X") {
		t.Fatalf("partial state: %s", p.State)
	}

	// The plan round-trips through its JSON and commits.
	kept, err := spr.ParsePlan(p.Raw)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Commit(kept, &spr.Meta{Author: "alice"})
	if err != nil || v.Number != 3 || v.Reason != spr.ReasonRollback || v.Scope == nil ||
		!reflect.DeepEqual(v.Scope.Categories, []string{"image"}) || v.Scope.Name != "" {
		t.Fatalf("commit: %+v (scope %+v) %v", v, v.Scope, err)
	}
	vs, err := s.Versions("shop")
	if err != nil {
		t.Fatal(err)
	}
	if vs[0].Number != 3 || vs[0].Scope == nil || !reflect.DeepEqual(vs[0].Scope.Categories, []string{"image"}) {
		t.Fatalf("versions[0]: %+v scope %+v", vs[0], vs[0].Scope)
	}
	if vs[1].Scope != nil || vs[2].Scope != nil {
		t.Fatalf("deploys with a scope: %+v %+v", vs[1].Scope, vs[2].Scope)
	}
	b, _ := json.Marshal(vs[0])
	if !strings.Contains(string(b), `"scope":["image"]`) {
		t.Fatalf("version JSON: %s", b)
	}
}

func TestScopeForms(t *testing.T) {
	s, _ := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1.4"}, nil)
	record(t, s, "shop", st{Tag: "1.5", Instances: 3}, nil)

	// The string forms keep working.
	for _, sc := range []string{"", spr.ScopeTracked, spr.ScopeAll} {
		p, err := s.PlanRollback("shop", 1, &spr.PlanRequest{Scope: sc})
		want := sc
		if want == "" {
			want = spr.ScopeTracked
		}
		if err != nil || p.Scope().Name != want || p.Scope().Categories != nil {
			t.Fatalf("scope %q: %+v %v", sc, p, err)
		}
	}
	// Categories come back in the library's (documentation) order.
	p, err := s.PlanRollback("shop", 1, &spr.PlanRequest{Categories: []string{"instances", "image"}})
	if err != nil || !reflect.DeepEqual(p.Scope().Categories, []string{"image", "instances"}) {
		t.Fatalf("two categories: %+v %v", p, err)
	}
	v, err := s.Commit(p, nil)
	if err != nil || v.Scope == nil || !reflect.DeepEqual(*v.Scope, spr.RollbackScope{Categories: []string{"image", "instances"}}) {
		t.Fatalf("commit: %+v %v", v, err)
	}
	p, err = s.PlanRollback("shop", 2, &spr.PlanRequest{Scope: spr.ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Commit(p, nil); err != nil || v.Scope == nil || v.Scope.Name != spr.ScopeAll {
		t.Fatalf("commit all: %+v %v", v, err)
	}

	plan := func(req *spr.PlanRequest) error { _, err := s.PlanRollback("shop", 1, req); return err }
	if e := wantErr(t, plan(&spr.PlanRequest{Categories: []string{"labels"}}), spr.ErrInvalid); e.Path != "request.scope[0]" {
		t.Fatalf("unknown category: %+v", e)
	}
	wantErr(t, plan(&spr.PlanRequest{Categories: []string{}}), spr.ErrInvalid)
	if e := wantErr(t, plan(&spr.PlanRequest{Scope: spr.ScopeAll, Categories: []string{"image"}}), spr.ErrInvalid); e.Path != "request" {
		t.Fatalf("both scope forms: %+v", e)
	}

	// JSON forms.
	for _, c := range []struct {
		req  spr.PlanRequest
		want string
	}{
		{spr.PlanRequest{}, `{}`},
		{spr.PlanRequest{Scope: spr.ScopeAll}, `{"scope":"all"}`},
		{spr.PlanRequest{Categories: []string{"image", "env"}}, `{"scope":["image","env"]}`},
		{spr.PlanRequest{Categories: []string{}}, `{"scope":[]}`},
	} {
		if b, err := json.Marshal(c.req); err != nil || string(b) != c.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", c.req, b, err, c.want)
		}
	}
	for _, text := range []string{`"tracked"`, `"all"`, `["image","env"]`} {
		var sc spr.RollbackScope
		if err := json.Unmarshal([]byte(text), &sc); err != nil {
			t.Fatal(err)
		}
		if b, err := json.Marshal(sc); err != nil || string(b) != text {
			t.Errorf("RollbackScope round trip %s -> %+v -> %s %v", text, sc, b, err)
		}
	}
}

func TestRestorePoints(t *testing.T) {
	s, _ := openTemp(t, nil)
	reg := func(id, vol string, at time.Time) {
		t.Helper()
		if err := s.RegisterSnapshot(spr.Snapshot{ID: id, Volume: vol, SizeBytes: 1 << 30, Ready: true, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	reg("snap-old", "vol-1", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	mustVersion(t, record(t, s, "shop", st{Tag: "1.4", VolumeID: "vol-1"}, nil), 1)
	v1, err := s.Get("shop", 1, false)
	if err != nil {
		t.Fatal(err)
	}
	reg("snap-v1", "vol-1", v1.CreatedAt)
	reg("snap-other", "vol-2", time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))

	rp, err := s.RestorePoints("shop", 1)
	if err != nil {
		t.Fatal(err)
	}
	if rp.Number != 1 || rp.CurrentUntil != nil || len(rp.Volumes) != 1 {
		t.Fatalf("restore points of the current version: %+v", rp)
	}
	vol := rp.Volumes[0]
	got := []string{}
	for _, p := range vol.Snapshots {
		got = append(got, p.ID+":"+p.Relation)
	}
	if !reflect.DeepEqual(vol.VolumeIDs, []string{"vol-1"}) || !reflect.DeepEqual(got, []string{"snap-v1:during", "snap-old:before"}) {
		t.Fatalf("volume %+v, ranked %v", vol, got)
	}

	mustVersion(t, record(t, s, "shop", st{Tag: "1.5", VolumeID: "vol-1"}, nil), 2)
	reg("snap-later", "vol-1", time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC))
	rp, err = s.RestorePoints("shop", 1)
	if err != nil {
		t.Fatal(err)
	}
	if rp.CurrentUntil == nil || len(rp.Volumes[0].Snapshots) != 3 || rp.Volumes[0].Snapshots[2].Relation != "after" {
		t.Fatalf("after v2: %+v", rp)
	}
	_, err = s.RestorePoints("shop", 9)
	wantErr(t, err, spr.ErrNotFound)
}

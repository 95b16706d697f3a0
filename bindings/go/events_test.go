package spinnerrollback_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

// The event outbox (C API 0.2): Store.Events and Store.WaitEvents, against
// the real library and SQLite files.

// prompt is a generous bound for "promptly" (the library polls every ~25 ms).
const prompt = 2 * time.Second

// allEvents pages through every kept event, 3 at a time (exercising Next).
func allEvents(t *testing.T, s *spr.Store) []spr.Event {
	t.Helper()
	var out []spr.Event
	after := int64(0)
	for {
		page, err := s.Events(after, 3)
		if err != nil {
			t.Fatalf("Events(%d, 3): %v", after, err)
		}
		if len(page.Events) > 3 {
			t.Fatalf("page of %d events, limit 3", len(page.Events))
		}
		if len(page.Events) == 0 {
			if page.Next != after {
				t.Fatalf("empty page: Next %d, want %d", page.Next, after)
			}
			return out
		}
		if last := page.Events[len(page.Events)-1].Seq; page.Next != last {
			t.Fatalf("Next %d, last seq %d", page.Next, last)
		}
		out = append(out, page.Events...)
		after = page.Next
	}
}

// evKey is what the order test compares: type, spinner, version (0: nil).
type evKey struct {
	Type    string
	Spinner string
	Version int64
}

func keyOf(e spr.Event) evKey {
	k := evKey{Type: e.Type, Spinner: e.Spinner}
	if e.Version != nil {
		k.Version = *e.Version
	}
	return k
}

func dataOf(t *testing.T, e spr.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatalf("event %d data %s: %v", e.Seq, e.Data, err)
	}
	return m
}

// openOther opens a second handle on the same file.
func openOther(t *testing.T, path string) *spr.Store {
	t.Helper()
	o, err := spr.Open(path, &spr.Options{Key: testKey, BusyTimeoutMs: 10000})
	if err != nil {
		t.Fatalf("Open (second handle): %v", err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func TestEventsTypesInOrder(t *testing.T) {
	s, _ := openTemp(t, nil)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.4", VolumeID: "vol-1"}, &spr.Meta{Author: "ci"}), 1)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.5", VolumeID: "vol-1"}, &spr.Meta{Author: "ci"}), 2)
	if r := record(t, s, "shop", st{Tag: "1.5", VolumeID: "vol-1"}, nil); r.Outcome != spr.OutcomeUnchanged {
		t.Fatalf("want unchanged, got %+v", r) // no event either
	}
	if _, err := s.Tag("shop", 1, "known-good", &spr.TagOptions{Note: "before 1.5", Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Annotate("shop", 2, "v2 broke checkout", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus("shop", 2, spr.StatusFailed); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterSnapshot(spr.Snapshot{ID: "snap-1", Volume: "vol-1", SizeBytes: 1 << 30, Ready: true}); err != nil {
		t.Fatal(err)
	}
	plan, err := s.PlanRollback("shop", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(plan, &spr.Meta{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSnapshot("snap-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Untag("shop", "known-good"); err != nil {
		t.Fatal(err)
	}
	record(t, s, "shop", st{Tag: "1.6", VolumeID: "vol-1", Disabled: true}, nil)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.6", VolumeID: "vol-1"}, nil), 4)

	events := allEvents(t, s)
	var got []evKey
	for _, e := range events {
		got = append(got, keyOf(e))
	}
	want := []evKey{
		{spr.EventVersionCreated, "shop", 1},
		{spr.EventVersionCreated, "shop", 2},
		{spr.EventTagSet, "shop", 1},
		{spr.EventNoteAdded, "shop", 2},
		{spr.EventStatusChanged, "shop", 2},
		{spr.EventSnapshotRegistered, "", 0},
		{spr.EventVersionCreated, "shop", 3},
		{spr.EventRollbackCommitted, "shop", 3},
		{spr.EventSnapshotDeleted, "", 0},
		{spr.EventTagRemoved, "shop", 1},
		{spr.EventRollbackDisabled, "shop", 0},
		{spr.EventRollbackEnabled, "shop", 0},
		{spr.EventVersionCreated, "shop", 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: not gap-free from 1", i, e.Seq)
		}
		if e.At.IsZero() || time.Since(e.At) > time.Hour || (i > 0 && e.At.Before(events[i-1].At)) {
			t.Fatalf("event %d at %v", e.Seq, e.At)
		}
		if (e.Spinner == "") != (e.Type == spr.EventSnapshotRegistered || e.Type == spr.EventSnapshotDeleted) {
			t.Fatalf("event %d (%s) spinner %q", e.Seq, e.Type, e.Spinner)
		}
	}

	v1, err := s.Get("shop", 1, false)
	if err != nil {
		t.Fatal(err)
	}
	if d := dataOf(t, events[0]); d["reason"] != spr.ReasonDeploy || d["digest"] != v1.Digest {
		t.Fatalf("version.created data %v (v1 digest %s)", d, v1.Digest)
	}
	if d := dataOf(t, events[6]); d["reason"] != spr.ReasonRollback || d["rollbackOf"] != float64(1) {
		t.Fatalf("rollback version.created data %v", d)
	}
	if d := dataOf(t, events[7]); d["target"] != float64(1) || d["planId"] != plan.PlanID {
		t.Fatalf("rollback.committed data %v", d)
	}
	for i, w := range map[int]map[string]any{
		2:  {"name": "known-good", "author": "alice"},
		3:  {"author": "bob", "text": "v2 broke checkout"},
		4:  {"status": "failed"},
		8:  {"id": "snap-1"},
		9:  {"name": "known-good"},
		10: {},
	} {
		if d := dataOf(t, events[i]); !reflect.DeepEqual(d, w) {
			t.Errorf("event %d (%s) data %v, want %v", events[i].Seq, events[i].Type, d, w)
		}
	}
	if d := dataOf(t, events[5]); d["id"] != "snap-1" || d["volume"] != "vol-1" || d["ready"] != true {
		t.Fatalf("snapshot.registered data %v", d)
	}
	if d := dataOf(t, events[12]); d["reason"] != spr.ReasonReenabled {
		t.Fatalf("reenabled data %v", d)
	}
}

func TestEventsPrunedListsNumbers(t *testing.T) {
	s, _ := openTemp(t, nil)
	threeVersions(t, s)
	record(t, s, "shop", st{Tag: "1.4", HistoryLimit: 1}, nil) // lowers the limit: prunes at once
	page, err := s.Events(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var pruned []spr.Event
	for _, e := range page.Events {
		if e.Type == spr.EventVersionsPruned {
			pruned = append(pruned, e)
		}
	}
	if len(pruned) != 1 || pruned[0].Spinner != "shop" || pruned[0].Version != nil {
		t.Fatalf("pruned events: %+v", pruned)
	}
	var d struct {
		Numbers []int64 `json:"numbers"`
	}
	if err := json.Unmarshal(pruned[0].Data, &d); err != nil || len(d.Numbers) == 0 {
		t.Fatalf("data %s: %v", pruned[0].Data, err)
	}
	kept := map[int64]bool{}
	for _, n := range numbers(t, s, "shop") {
		kept[n] = true
	}
	for _, n := range d.Numbers {
		if kept[n] {
			t.Fatalf("v%d listed as pruned but still kept", n)
		}
	}
}

func TestEventsPaging(t *testing.T) {
	s, _ := openTemp(t, nil)
	for i := 1; i <= 7; i++ {
		record(t, s, "shop", st{Tag: "1.4", Instances: i}, nil)
	}
	seqs := func(p *spr.EventPage) []int64 {
		out := []int64{}
		for _, e := range p.Events {
			out = append(out, e.Seq)
		}
		return out
	}
	after := int64(0)
	for _, want := range [][]int64{{1, 2, 3}, {4, 5, 6}, {7}, {}} {
		p, err := s.Events(after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if got := seqs(p); !reflect.DeepEqual(got, want) {
			t.Fatalf("after %d: %v, want %v", after, got, want)
		}
		wantNext := after // an empty page: what was asked
		if len(want) > 0 {
			wantNext = want[len(want)-1]
		}
		if p.Next != wantNext {
			t.Fatalf("after %d: Next %d, want %d", after, p.Next, wantNext)
		}
		after = p.Next
	}
	// The store the events belong to.
	info, err := s.Info()
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.Events(0, 1); err != nil || p.StoreID != info.StoreID {
		t.Fatalf("storeId %q, want %q: %v", p.StoreID, info.StoreID, err)
	}
	if p, err := s.Events(1000, 10); err != nil || len(p.Events) != 0 || p.Next != 1000 {
		t.Fatalf("past the end: %+v %v", p, err)
	}
	if p, err := s.Events(5, 10000); err != nil || !reflect.DeepEqual(seqs(p), []int64{6, 7}) {
		t.Fatalf("after 5: %+v %v", p, err)
	}
}

func TestEventsArgumentErrors(t *testing.T) {
	s, _ := openTemp(t, nil)
	_, err := s.Events(-1, 10)
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "after" || e.Op != "Events" {
		t.Fatalf("after -1: %+v", e)
	}
	for _, limit := range []int{0, 10001, -5} {
		_, err := s.Events(0, limit)
		if e := wantErr(t, err, spr.ErrInvalid); e.Path != "limit" {
			t.Fatalf("limit %d: %+v", limit, e)
		}
	}
	ctx := context.Background()
	_, err = s.WaitEvents(ctx, -1, 0)
	if e := wantErr(t, err, spr.ErrInvalid); e.Path != "after" || e.Op != "WaitEvents" {
		t.Fatalf("wait after -1: %+v", e)
	}
	for _, d := range []time.Duration{-time.Millisecond, spr.MaxEventsWait + time.Millisecond} {
		_, err := s.WaitEvents(ctx, 0, d)
		if e := wantErr(t, err, spr.ErrInvalid); e.Path != "timeout" {
			t.Fatalf("timeout %v: %+v", d, e)
		}
	}
}

func TestEventsNoSecret(t *testing.T) {
	s, _ := openTemp(t, nil)
	other := "other-" + secretValue
	mustVersion(t, record(t, s, "shop", st{Tag: "1.4", Secret: secretValue}, &spr.Meta{Author: "ci", Message: "first"}), 1)
	mustVersion(t, record(t, s, "shop", st{Tag: "1.4", Secret: other}, nil), 2) // a secret-only change
	mustVersion(t, record(t, s, "shop", st{Tag: "1.5", Secret: other}, nil), 3)
	if _, err := s.Tag("shop", 2, "rotated", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Annotate("shop", 2, "rotated the db password", ""); err != nil {
		t.Fatal(err)
	}
	plan, err := s.PlanRollback("shop", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(plan, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus("shop", 4, spr.StatusActive); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) < 7 {
		t.Fatalf("only %d events", len(page.Events))
	}
	waited, err := s.WaitEvents(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*spr.EventPage{page, waited} {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		noSecret(t, "events JSON", b)
		if strings.Contains(string(b), other) {
			t.Fatal("events JSON contains the second secret value")
		}
		noSecret(t, "events %+v", []byte(fmt.Sprintf("%+v", p)))
	}
}

func TestEventsLimitKeepsNewest(t *testing.T) {
	s, path := openTemp(t, &spr.Options{EventsLimit: 5})
	for i := 1; i <= 9; i++ {
		record(t, s, "shop", st{Tag: "1.4", Instances: i}, nil)
	}
	if _, err := s.Tag("shop", 9, "last", nil); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, e := range page.Events {
		seqs = append(seqs, e.Seq)
	}
	if !reflect.DeepEqual(seqs, []int64{6, 7, 8, 9, 10}) || page.Events[4].Type != spr.EventTagSet {
		t.Fatalf("kept %v (want the newest 5 of 10)", seqs)
	}
	s.Close()
	// The limit is an open option: the default one keeps what is there.
	again := openOther(t, path)
	record(t, again, "shop", st{Tag: "1.4", Instances: 100}, nil)
	if p, err := again.Events(0, 100); err != nil || len(p.Events) != 6 || p.Next != 11 {
		t.Fatalf("after reopening: %+v %v", p, err)
	}
	for _, bad := range []int{-1, 100000001} {
		_, err := spr.Open(path, &spr.Options{Key: testKey, EventsLimit: bad})
		if e := wantErr(t, err, spr.ErrInvalid); e.Path != "options.eventsLimit" {
			t.Fatalf("EventsLimit %d: %+v", bad, e)
		}
	}
}

func TestWaitEventsTimeout(t *testing.T) {
	s, _ := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1.4"}, nil)
	ctx := context.Background()

	start := time.Now()
	p, err := s.WaitEvents(ctx, 0, 30*time.Second) // already there: at once
	if err != nil || len(p.Events) != 1 || time.Since(start) > prompt {
		t.Fatalf("existing event: %+v %v after %v", p, err, time.Since(start))
	}
	for _, timeout := range []time.Duration{0, 300 * time.Millisecond, 1300 * time.Millisecond} {
		start := time.Now()
		p, err := s.WaitEvents(ctx, 1, timeout)
		el := time.Since(start)
		if err != nil || len(p.Events) != 0 || p.Next != 1 {
			t.Fatalf("timeout %v: %+v %v", timeout, p, err)
		}
		if el < timeout || el > timeout+prompt {
			t.Fatalf("timeout %v: returned after %v", timeout, el)
		}
	}
}

func TestWaitEventsWakesOnOtherHandle(t *testing.T) {
	s, path := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1.4"}, nil)
	type result struct {
		page    *spr.EventPage
		err     error
		elapsed time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		p, err := s.WaitEvents(context.Background(), 1, 30*time.Second)
		done <- result{p, err, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond) // the waiter is waiting
	other := openOther(t, path)
	recorded := time.Now()
	mustVersion(t, record(t, other, "shop", st{Tag: "1.5"}, &spr.Meta{Author: "elsewhere"}), 2)
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.page.Events) != 1 || keyOf(r.page.Events[0]) != (evKey{spr.EventVersionCreated, "shop", 2}) ||
			r.page.Events[0].Seq != 2 || r.page.Next != 2 {
			t.Fatalf("woke with %+v", r.page)
		}
		if r.elapsed < 250*time.Millisecond {
			t.Fatalf("returned after %v: it did not wait", r.elapsed)
		}
		if d := time.Since(recorded); d > prompt {
			t.Fatalf("woke %v after the commit", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitEvents did not wake")
	}
}

func TestWaitEventsContext(t *testing.T) {
	s, _ := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1.4"}, nil)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	start := time.Now()
	p, err := s.WaitEvents(ctx, 1, time.Minute)
	if !errors.Is(err, context.Canceled) || p != nil {
		t.Fatalf("cancelled: %+v %v", p, err)
	}
	if el := time.Since(start); el > prompt { // slices of at most 1 s
		t.Fatalf("cancellation honoured after %v", el)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer dcancel()
	start = time.Now()
	_, err = s.WaitEvents(dctx, 1, time.Minute)
	if el := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || el > prompt {
		t.Fatalf("deadline: %v after %v", err, el)
	}
	if _, err := s.WaitEvents(dctx, 0, time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("done context: %v", err)
	}
}

// A wait in progress holds up neither other calls on the same Store nor,
// beyond one slice, Close; the waiter then gets ErrClosed.
func TestWaitEventsAndOtherCallsAndClose(t *testing.T) {
	s, _ := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1.4"}, nil)
	done := make(chan error, 1)
	go func() {
		_, err := s.WaitEvents(context.Background(), 1, time.Minute)
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	for i := 0; i < 5; i++ {
		if _, err := s.Versions("shop"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Events(0, 10); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("calls took %v while a wait was in progress", el)
	}
	start = time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, spr.ErrClosed) {
			t.Fatalf("waiter got %v, want ErrClosed", err)
		}
	case <-time.After(prompt + time.Second):
		t.Fatal("the waiter did not end after Close")
	}
	if el := time.Since(start); el > prompt {
		t.Fatalf("Close took %v", el)
	}
}

// A follower goroutine (a WaitEvents loop) sees, in order, what another
// handle writes.
func TestFollowInGoroutine(t *testing.T) {
	s, path := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1.4"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var seen []spr.Event
	done := make(chan error, 1)
	go func() {
		after := int64(0)
		for {
			page, err := s.WaitEvents(ctx, after, 500*time.Millisecond)
			if err != nil {
				done <- err
				return
			}
			mu.Lock()
			seen = append(seen, page.Events...)
			n := len(seen)
			mu.Unlock()
			if n >= 4 {
				done <- nil
				return
			}
			after = page.Next
		}
	}()
	time.Sleep(300 * time.Millisecond)
	other := openOther(t, path)
	mustVersion(t, record(t, other, "shop", st{Tag: "1.5"}, nil), 2)
	time.Sleep(700 * time.Millisecond) // longer than one WaitEvents of the follower
	if _, err := other.Tag("shop", 2, "canary", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Annotate("shop", 2, "looks fine", ""); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the follower did not see 4 events")
	}
	mu.Lock()
	defer mu.Unlock()
	var got []evKey
	for i, e := range seen {
		if e.Seq != int64(i+1) {
			t.Fatalf("follower saw seq %d at %d", e.Seq, i)
		}
		got = append(got, keyOf(e))
	}
	want := []evKey{
		{spr.EventVersionCreated, "shop", 1},
		{spr.EventVersionCreated, "shop", 2},
		{spr.EventTagSet, "shop", 2},
		{spr.EventNoteAdded, "shop", 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("follower saw %v, want %v", got, want)
	}
}

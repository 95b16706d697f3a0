// Command leakcheck drives every kind of call of the Go binding — successes
// and error paths — thousands of times and fails if memory keeps growing
// after a warm-up: the process RSS (from /proc/self/statm) and, on glibc,
// the C heap in use (mallinfo2), which sees even a leaked error string.
//
//	go run ./cmd/leakcheck -n 10000
package main

/*
#include <stdlib.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
static long long c_heap_in_use(void) {
	struct mallinfo2 mi = mallinfo2();
	return (long long)(mi.uordblks + mi.hblkhd);
}
#else
static long long c_heap_in_use(void) { return -1; }
#endif
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

const key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func state(tag string, instances int) map[string]any {
	return map[string]any{
		"schemaVersion": 1,
		"settings":      map[string]any{"rollback": map[string]any{"enabled": true, "historyLimit": 5}},
		"instances":     instances,
		"containers": []any{map[string]any{
			"name":  "web",
			"image": map[string]any{"reference": "registry.example/shop:" + tag},
			"env": []any{
				map[string]any{"name": "MODE", "value": "prod"},
				map[string]any{"name": "DB_PASSWORD", "secretRef": map[string]any{"name": "db", "key": "password"}},
			},
			"mounts": []any{map[string]any{"path": "/var/lib/shop", "volume": "data"}},
		}},
		"volumes": []any{map[string]any{"name": "data", "mode": "shared", "size": "1Gi",
			"storageClass": "standard", "volumeId": "vol-1"}},
		"secrets": map[string]any{"db": map[string]any{"password": "pw-" + tag}},
	}
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		log.Fatalf("leakcheck: %v", err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

type sample struct{ rss, cheap, db int64 }

// measure collects garbage first, so only memory still in use counts. The
// store file's size is reported too: SQLite's page cache (up to 2 MiB per
// connection) grows with the database, which is not a leak.
func measure(dbPath string) sample {
	runtime.GC()
	debug.FreeOSMemory()
	var db int64
	if fi, err := os.Stat(dbPath); err == nil {
		db = fi.Size()
	}
	return sample{rssBytes(), int64(C.c_heap_in_use()), db}
}

func expect(err, sentinel error, what string) {
	if !errors.Is(err, sentinel) {
		log.Fatalf("leakcheck: %s: want %v, got %v", what, sentinel, err)
	}
}

func must(err error, what string) {
	if err != nil {
		log.Fatalf("leakcheck: %s: %v", what, err)
	}
}

// seen is the seq of the last event read, for the next round's WaitEvents.
var seen int64

// events reads the outbox: this round's events, an empty wait, the oldest
// page, a wait that times out, a cancelled wait, and the refusals.
func events(s *spr.Store, i int) {
	ctx := context.Background()
	page, err := s.WaitEvents(ctx, seen, time.Second)
	must(err, "wait events")
	if len(page.Events) == 0 || page.Events[0].Seq != seen+1 || page.Next <= seen {
		log.Fatalf("leakcheck: events after %d: %d events, next %d", seen, len(page.Events), page.Next)
	}
	seen = page.Next
	empty, err := s.WaitEvents(ctx, seen, 0)
	must(err, "wait events, none")
	if len(empty.Events) != 0 || empty.Next != seen {
		log.Fatalf("leakcheck: events after the newest: %+v", empty)
	}
	_, err = s.Events(0, 20)
	must(err, "events page")
	if i%20 == 0 {
		_, err = s.WaitEvents(ctx, seen, 2*time.Millisecond)
		must(err, "wait events, timeout")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.WaitEvents(cctx, seen, time.Second)
		expect(err, context.Canceled, "wait events, cancelled")
	}
	_, err = s.Events(-1, 10)
	expect(err, spr.ErrInvalid, "events after -1")
	_, err = s.Events(0, 0)
	expect(err, spr.ErrInvalid, "events limit 0")
	_, err = s.WaitEvents(ctx, -1, 0)
	expect(err, spr.ErrInvalid, "wait events after -1")
	_, err = s.WaitEvents(ctx, 0, -time.Second)
	expect(err, spr.ErrInvalid, "wait events negative timeout")
}

// fresh removes a store file left by an earlier round.
func fresh(path string) string {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			log.Fatalf("leakcheck: %v", err)
		}
	}
	return path
}

// bundles exports the store, imports the bundle into a fresh store opened
// with a keyring (twice: the second skips), rotates that store's keys,
// migrates the store into another fresh one, and the refusals.
func bundles(s *spr.Store, dir string) {
	const key2 = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"
	bundle := filepath.Join(dir, "leak.bundle")
	must(s.Export("shop", bundle, &spr.BundleOptions{Key: key2}), "export")
	expect(s.Export("shop", bundle+"2", nil), spr.ErrNoKey, "export without key")
	expect(s.Export("nobody", bundle+"2", &spr.BundleOptions{Key: key2}), spr.ErrNotFound, "export unknown spinner")

	ring := &spr.Options{Keys: []spr.KeyringKey{{ID: "k2", Key: key2}, {ID: "k1", Key: key}}}
	o, err := spr.Open(fresh(filepath.Join(dir, "import.db")), ring)
	must(err, "open import target")
	r, err := o.Import(bundle, &spr.BundleOptions{Key: key2})
	must(err, "import")
	r2, err := o.Import(bundle, &spr.BundleOptions{Key: key2})
	must(err, "import again")
	if r.VersionsImported == 0 || r2.VersionsImported != 0 || r2.VersionsSkipped != r.VersionsImported {
		log.Fatalf("leakcheck: import %+v, again %+v", r, r2)
	}
	_, err = o.Import(bundle, &spr.BundleOptions{Key: key})
	expect(err, spr.ErrNoKey, "import with the wrong key")
	b, err := os.ReadFile(bundle)
	must(err, "read bundle")
	must(os.WriteFile(bundle+"2", b[:len(b)/2], 0o600), "write truncated bundle")
	_, err = o.Import(bundle+"2", &spr.BundleOptions{Key: key2})
	expect(err, spr.ErrInvalid, "import truncated")
	rr, err := o.RotateKey(&spr.RotateOptions{Reseal: true, BatchSize: 2})
	must(err, "rotate key")
	if rr.KeyID != "k2" {
		log.Fatalf("leakcheck: rotate: %+v", rr)
	}
	_, err = o.RotateKey(&spr.RotateOptions{BatchSize: -1})
	expect(err, spr.ErrInvalid, "rotate bad batch size")
	must(o.Close(), "close import target")
	_, err = spr.Open(filepath.Join(dir, "import.db"), &spr.Options{Keys: []spr.KeyringKey{{ID: "k1", Key: key}}})
	expect(err, spr.ErrNoKey, "open with the retired key")

	m, err := s.Migrate(fresh(filepath.Join(dir, "migrate.db")), &spr.Options{Key: key2})
	must(err, "migrate")
	if m.VersionsVerified == 0 {
		log.Fatalf("leakcheck: migrate: %+v", m)
	}
	_, err = s.Migrate(fresh(filepath.Join(dir, "migrate.db")), nil)
	expect(err, spr.ErrNoKey, "migrate without key")
}

// iteration runs one round of every call kind.
func iteration(s *spr.Store, dir string, i int) {
	a, b := state("1.4", 2), state("1.5", 3)
	_, err := s.Record("shop", a, &spr.Meta{Author: "leak"})
	must(err, "record a")
	// Only b carries a requestId: it creates a version, and the library
	// prunes a request with its version (a's outcome is "unchanged").
	rb, err := s.Record("shop", b, &spr.Meta{Author: "leak", RequestID: fmt.Sprintf("r-%d", i)})
	must(err, "record b")
	if rb.Version == nil {
		log.Fatalf("leakcheck: record b created nothing: %+v", rb)
	}
	rb2, err := s.Record("shop", b, &spr.Meta{Author: "leak", RequestID: fmt.Sprintf("r-%d", i)}) // a retry
	must(err, "record b retry")
	if rb2.Version == nil || rb2.Version.Number != rb.Version.Number {
		log.Fatalf("leakcheck: retry differs: %+v vs %+v", rb2, rb)
	}
	cur := rb.Version.Number
	vs, err := s.Versions("shop")
	must(err, "versions")
	_, err = s.Get("shop", cur, true)
	must(err, "get")
	_, err = s.Diff("shop", vs[len(vs)-1].Number, cur)
	must(err, "diff")
	_, err = s.SpinnerInfo("shop")
	must(err, "info")

	// Tags, notes and compare-and-set writes. The tag moves to the newest
	// version every round, so older versions stay prunable.
	tv, err := s.Tag("shop", cur, "lc", &spr.TagOptions{Note: "leak", Author: "leak", Move: true})
	must(err, "tag")
	if len(tv.Tags) != 1 {
		log.Fatalf("leakcheck: tag: %+v", tv)
	}
	_, err = s.Tag("shop", vs[len(vs)-1].Number, "lc", nil)
	expect(err, spr.ErrConflict, "tag held elsewhere")
	_, err = s.Tag("shop", cur, "Bad Tag", nil)
	expect(err, spr.ErrInvalid, "tag bad name")
	if n, err := s.TaggedVersion("shop", "lc"); err != nil || n != cur {
		log.Fatalf("leakcheck: tagged version: %d %v", n, err)
	}
	_, err = s.TaggedVersion("shop", "nope")
	expect(err, spr.ErrNotFound, "tagged version unknown")
	expect(s.Untag("shop", "nope"), spr.ErrNotFound, "untag unknown")
	_, err = s.Annotate("shop", cur, "note "+strconv.Itoa(i%2), "leak")
	must(err, "annotate")
	d, err := s.Get("shop", cur, false)
	must(err, "get notes")
	if len(d.Notes) == 0 {
		log.Fatalf("leakcheck: get shows no notes")
	}
	_, err = s.Annotate("shop", cur, "", "")
	expect(err, spr.ErrInvalid, "annotate empty")
	wrong := cur + 7
	_, err = s.Record("shop", a, &spr.Meta{ExpectedCurrent: &wrong})
	expect(err, spr.ErrConflict, "record expectedCurrent")

	// Plans: the failing kinds, then a snapshot plan needing confirmation,
	// then a plain one committed.
	_, err = s.PlanRollback("shop", cur, nil)
	expect(err, spr.ErrCurrentVersion, "plan current")
	_, err = s.PlanRollback("Bad Name", 1, nil)
	expect(err, spr.ErrInvalid, "plan bad name")
	_, err = s.PlanRollback("shop", 1<<40, nil)
	expect(err, spr.ErrNotFound, "plan unknown")
	_, err = s.PlanRollback("shop", cur-1, &spr.PlanRequest{Data: map[string]spr.DataSource{"nope": spr.KeepCurrent}})
	expect(err, spr.ErrUnknownVolume, "plan unknown volume")
	if vs[len(vs)-1].Number > 1 {
		_, err = s.Get("shop", 1, false)
		expect(err, spr.ErrPruned, "get pruned")
	}

	must(s.RegisterSnapshot(spr.Snapshot{ID: "snap-" + strconv.Itoa(i%3), Volume: "vol-1", SizeBytes: 2 << 30, Ready: true}), "register")
	_, err = s.Snapshots("vol-1")
	must(err, "snapshots")
	sp, err := s.PlanRollback("shop", cur-1, &spr.PlanRequest{Data: map[string]spr.DataSource{"data": spr.FromSnapshot("snap-" + strconv.Itoa(i%3))}})
	must(err, "snapshot plan")
	_, err = s.Commit(sp, nil)
	expect(err, spr.ErrNeedsConfirmation, "commit unconfirmed")
	if i%3 == 2 {
		must(s.DeleteSnapshot("snap-2"), "delete snapshot")
	}
	expect(s.DeleteSnapshot("snap-none"), spr.ErrNotFound, "delete unknown snapshot")

	_, err = s.PlanRollback("shop", cur-1, &spr.PlanRequest{Categories: []string{"image", "instances"}})
	must(err, "partial plan")
	_, err = s.PlanRollback("shop", cur-1, &spr.PlanRequest{Categories: []string{"labels"}})
	expect(err, spr.ErrInvalid, "partial plan bad category")
	p, err := s.PlanRollback("shop", cur-1, nil)
	must(err, "plan")
	var m map[string]any
	must(json.Unmarshal(p.Raw, &m), "decode plan")
	m["summary"] = "altered"
	altered, _ := json.Marshal(m)
	ap, err := spr.ParsePlan(altered)
	must(err, "parse plan")
	_, err = s.Commit(ap, nil)
	expect(err, spr.ErrInvalid, "commit altered")
	_, err = s.Commit(p, &spr.Meta{ExpectedCurrent: &wrong})
	expect(err, spr.ErrConflict, "commit expectedCurrent")
	_, err = s.Commit(p, &spr.Meta{Author: "leak", Message: "undo", ExpectedCurrent: &cur})
	must(err, "commit")
	_, err = s.Commit(p, nil)
	expect(err, spr.ErrConflict, "commit stale")
	must(s.SetStatus("shop", cur+1, spr.StatusActive), "set status")
	expect(s.SetStatus("shop", cur+1, "bogus"), spr.ErrInvalid, "bad status")

	_, err = s.Record("shop", `{"schemaVersion": 1, "instances": -1}`, nil)
	expect(err, spr.ErrInvalid, "invalid state")
	_, err = spr.DiffStates(a, b)
	must(err, "diff states")
	_, err = spr.EvaluatePolicy(&spr.Policy{Triggers: []string{"image"}}, a, b)
	must(err, "evaluate")
	_, err = spr.EvaluatePolicy(&spr.Policy{Triggers: []string{"bogus"}}, a, b)
	expect(err, spr.ErrInvalid, "evaluate bad policy")

	events(s, i)

	if i%50 == 0 { // open/close: handles must not leak either
		o, err := spr.Open(filepath.Join(dir, "other.db"), &spr.Options{Key: key, Durability: spr.DurabilityNormal, MaxTaggedVersions: 3, EventsLimit: 10})
		must(err, "open other")
		_, err = o.Record("shop", a, nil)
		expect(err, nil, "record other")
		must(o.Close(), "close other")
		_, err = spr.Open(filepath.Join(dir, "x.db"), &spr.Options{Key: "short"})
		expect(err, spr.ErrInvalid, "open bad key")
		_, err = spr.Open(filepath.Join(dir, "x.db"), &spr.Options{Key: key, EventsLimit: -1})
		expect(err, spr.ErrInvalid, "open bad eventsLimit")
		bundles(s, dir)
	}
}

// tunables turn glibc's per-thread malloc caches off: chunks parked in a
// thread cache count as "in use" in mallinfo2, and which Go thread made the
// last cgo calls would otherwise move the figure by hundreds of KiB.
const tunables = "glibc.malloc.tcache_count=0"

func main() {
	// Re-exec once (the marker stops a loop: glibc may rewrite the variable).
	if cur := os.Getenv("GLIBC_TUNABLES"); os.Getenv("SPR_LEAKCHECK_EXEC") == "" && !strings.Contains(cur, "tcache_count") {
		if exe, err := os.Executable(); err == nil {
			if cur != "" {
				cur += ":"
			}
			env := append(os.Environ(), "GLIBC_TUNABLES="+cur+tunables, "SPR_LEAKCHECK_EXEC=1")
			err = syscall.Exec(exe, os.Args, env) // only returns on failure
			log.Printf("leakcheck: re-exec with %s failed (%v); figures may be noisier", tunables, err)
		}
	}
	// Every call runs on this one OS thread. The library keeps per-thread
	// caches (a zstd context whose workspace fits the largest job it did, e.g.
	// an import): on a thread Go switched to after the warm-up they would
	// count as growth (~150 KiB at once, then flat), which is not a leak.
	runtime.LockOSThread()
	n := flag.Int("n", 10000, "iterations")
	warm := flag.Int("warmup", 1000, "warm-up iterations before the baseline")
	maxRSS := flag.Int64("max-rss-growth", 8<<20, "allowed RSS growth after warm-up, bytes")
	maxHeap := flag.Int64("max-cheap-growth", 128<<10, "allowed C heap growth after warm-up, bytes (glibc)")
	flag.Parse()
	log.SetFlags(0)

	dir, err := os.MkdirTemp("", "spr-leakcheck-")
	must(err, "tempdir")
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "store.db")
	// A small outbox: old events are trimmed on every write (exercised too).
	s, err := spr.Open(dbPath, &spr.Options{Key: key, Durability: spr.DurabilityNormal, EventsLimit: 2000})
	must(err, "open")

	var base sample
	for i := 0; i < *n; i++ {
		if i == *warm {
			base = measure(dbPath)
			fmt.Printf("leakcheck: after %d warm-up iterations: rss %.1f MiB, C heap %.1f MiB, store %.1f MiB\n",
				i, float64(base.rss)/(1<<20), float64(base.cheap)/(1<<20), float64(base.db)/(1<<20))
		}
		iteration(s, dir, i)
		if i > *warm && (i-*warm)%2000 == 0 {
			m := measure(dbPath)
			fmt.Printf("leakcheck: %5d: rss %+.2f MiB, C heap %+.3f MiB, store %+.3f MiB\n", i,
				float64(m.rss-base.rss)/(1<<20), float64(m.cheap-base.cheap)/(1<<20), float64(m.db-base.db)/(1<<20))
		}
	}
	end := measure(dbPath)
	must(s.Close(), "close")
	dRSS, dHeap, dDB := end.rss-base.rss, end.cheap-base.cheap, max(end.db-base.db, 0)
	// The page cache may hold the database's new pages (plus ~25% headers).
	heapLimit := *maxHeap + dDB*5/4
	fmt.Printf("leakcheck: %d iterations: rss growth %+d bytes (limit %d), C heap growth %+d bytes (limit %d), store growth %+d bytes\n",
		*n, dRSS, *maxRSS, dHeap, heapLimit, end.db-base.db)
	fail := dRSS > *maxRSS
	if base.cheap >= 0 && dHeap > heapLimit {
		fail = true
	}
	if fail {
		fmt.Println("leakcheck: FAIL: memory grows")
		os.Exit(1)
	}
	fmt.Println("leakcheck: OK")
}

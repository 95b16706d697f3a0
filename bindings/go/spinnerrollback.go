// Package spinnerrollback is a Go binding of spinner_rollback, the library
// that versions the desired state of container "spinners" and plans
// rollbacks (see docs/go.md in the repository).
//
// A *Store is safe for concurrent use by many goroutines. Errors are *Error
// values; match them with errors.Is against the Err* sentinels.
//
// Versions can be pinned by name with Store.Tag (a tagged version is never
// pruned) and annotated with Store.Annotate; Meta.ExpectedCurrent makes
// Record and Commit a compare-and-set, and PlanRequest.Categories plans a
// partial rollback (the committed Version.Scope records what was taken).
// Every change appends an Event to the store's outbox: read it with
// Store.Events, or wait for new ones with Store.WaitEvents.
//
// Options.Keys opens a store with a keyring, and Store.RotateKey re-wraps
// (with RotateOptions.Reseal, re-seals) its secrets under the ring's first
// key so the other keys can be retired. Store.Export writes the history of
// one spinner or all to a bundle file that Store.Import reads into another
// store; Store.Migrate copies every spinner into another store (SQLite or
// PostgreSQL) and verifies the copy.
//
// The binding links the installed C library through pkg-config
// (spinner_rollback.pc); cgo must be enabled.
package spinnerrollback

/*
#cgo pkg-config: spinner_rollback
#include <spinner_rollback.h>
#include <stdlib.h>
#include <string.h>

// spr_last_error() is thread-local, and a goroutine may move to another OS
// thread between two cgo calls. So each wrapper below makes the spr_* call
// AND copies this thread's error in one cgo call: on failure *err receives a
// malloc'd copy of the error JSON (free it with free()), else NULL.
static char *gospr_take_error(int rc) {
	if (rc == SPR_OK) return NULL;
	const char *e = spr_last_error();
	if (e == NULL) return NULL;
	size_t n = strlen(e) + 1;
	char *c = (char *)malloc(n);
	if (c != NULL) memcpy(c, e, n);
	return c;
}

static int gospr_open(const char *path, const char *opts, spr_store **out, char **err) {
	int rc = spr_open(path, opts, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_record(spr_store *s, const char *spinner, const char *state, const char *meta,
                        char **out, char **err) {
	int rc = spr_record(s, spinner, state, meta, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_versions(spr_store *s, const char *spinner, char **out, char **err) {
	int rc = spr_versions(s, spinner, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_versions_page(spr_store *s, const char *spinner, int64_t before, int64_t limit,
                               char **out, char **err) {
	int rc = spr_versions_page(s, spinner, before, limit, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_version_get(spr_store *s, const char *spinner, int64_t n, int reveal,
                             char **out, char **err) {
	int rc = spr_version_get(s, spinner, n, reveal, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_diff(spr_store *s, const char *spinner, int64_t from, int64_t to,
                      char **out, char **err) {
	int rc = spr_diff(s, spinner, from, to, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_diff_states(const char *a, const char *b, char **out, char **err) {
	int rc = spr_diff_states(a, b, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_plan_rollback(spr_store *s, const char *spinner, int64_t target, const char *req,
                               char **out, char **err) {
	int rc = spr_plan_rollback(s, spinner, target, req, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_plan_auto_rollback(spr_store *s, const char *spinner, char **out, char **err) {
	int rc = spr_plan_auto_rollback(s, spinner, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_commit_rollback(spr_store *s, const char *plan, const char *meta,
                                 char **out, char **err) {
	int rc = spr_commit_rollback(s, plan, meta, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_set_status(spr_store *s, const char *spinner, int64_t n, const char *status,
                            char **out, char **err) {
	*out = NULL;
	int rc = spr_set_status(s, spinner, n, status);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_tag(spr_store *s, const char *spinner, int64_t n, const char *tag,
                     char **out, char **err) {
	int rc = spr_tag(s, spinner, n, tag, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_untag(spr_store *s, const char *spinner, const char *name, char **out, char **err) {
	*out = NULL;
	int rc = spr_untag(s, spinner, name);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_tagged_version(spr_store *s, const char *spinner, const char *name, int64_t *number,
                                char **out, char **err) {
	*out = NULL;
	int rc = spr_tagged_version(s, spinner, name, number);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_annotate(spr_store *s, const char *spinner, int64_t n, const char *note,
                          char **out, char **err) {
	int rc = spr_annotate(s, spinner, n, note, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_restore_points(spr_store *s, const char *spinner, int64_t n, char **out, char **err) {
	int rc = spr_restore_points(s, spinner, n, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_events(spr_store *s, int64_t after, int64_t limit, char **out, char **err) {
	int rc = spr_events(s, after, limit, out);
	*err = gospr_take_error(rc);
	return rc;
}
// Blocks up to timeout_ms (the Go side passes at most 1000); the library
// sleeps between its checks and does not hold the handle meanwhile.
static int gospr_events_wait(spr_store *s, int64_t after, int64_t timeout_ms, char **out, char **err) {
	int rc = spr_events_wait(s, after, timeout_ms, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_spinner_info(spr_store *s, const char *spinner, char **out, char **err) {
	int rc = spr_spinner_info(s, spinner, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_spinners(spr_store *s, char **out, char **err) {
	int rc = spr_spinners(s, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_store_info(spr_store *s, char **out, char **err) {
	int rc = spr_store_info(s, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_rotate_key(spr_store *s, const char *opts, char **out, char **err) {
	int rc = spr_rotate_key(s, opts, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_export(spr_store *s, const char *spinner, const char *path, const char *opts,
                        char **out, char **err) {
	*out = NULL;
	int rc = spr_export(s, spinner, path, opts);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_import(spr_store *s, const char *path, const char *opts, char **out, char **err) {
	int rc = spr_import(s, path, opts, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_migrate(spr_store *s, const char *target, const char *opts, char **out, char **err) {
	int rc = spr_migrate(s, target, opts, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_snapshot_register(spr_store *s, const char *snap, char **out, char **err) {
	*out = NULL;
	int rc = spr_snapshot_register(s, snap);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_snapshots(spr_store *s, const char *volume, char **out, char **err) {
	int rc = spr_snapshots(s, volume, out);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_snapshot_delete(spr_store *s, const char *id, char **out, char **err) {
	*out = NULL;
	int rc = spr_snapshot_delete(s, id);
	*err = gospr_take_error(rc);
	return rc;
}
static int gospr_policy_evaluate(const char *policy, const char *prev, const char *next,
                                 char **out, char **err) {
	int rc = spr_policy_evaluate(policy, prev, next, out);
	*err = gospr_take_error(rc);
	return rc;
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// LibraryVersion is the version of the linked C library, e.g. "0.2.0".
func LibraryVersion() string { return C.GoString(C.spr_version_string()) }

// LibraryVersionNumber is the linked library's MAJOR*10000 + MINOR*100 + PATCH.
func LibraryVersionNumber() int { return int(C.spr_version_number()) }

// Store is an open store file. It is safe for concurrent use; Close waits
// for calls in flight. Methods called after Close return ErrClosed.
type Store struct {
	mu      sync.RWMutex
	h       *C.spr_store
	cleanup runtime.Cleanup
}

// Open opens (creating if needed) the SQLite store file at path.
// opts may be nil. ErrNoKey: no key given opens the store's data key (Path
// "options.key", or "options.keys" for a keyring).
func Open(path string, opts *Options) (*Store, error) {
	const op = "Open"
	cpath, err := cstring(op, "path", path)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cpath))
	copts, err := copt(op, "options", opts)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(copts))
	var h *C.spr_store
	var cerr *C.char
	rc := C.gospr_open(cpath, copts, &h, &cerr)
	if rc != C.SPR_OK {
		return nil, takeError(op, rc, cerr)
	}
	s := &Store{h: h}
	// A Store dropped without Close still releases its handle eventually.
	s.cleanup = runtime.AddCleanup(s, func(h *C.spr_store) { C.spr_close(h) }, h)
	return s, nil
}

// Close closes the store. It waits for calls in flight on other goroutines;
// closing twice is not an error.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h != nil {
		s.cleanup.Stop()
		C.spr_close(s.h)
		s.h = nil
	}
	return nil
}

// Record validates a state document and records it; a version is created
// when the snapshot policy says so. state is the JSON document as []byte,
// json.RawMessage or string, or any other value, which is json.Marshal'd.
// meta may be nil. With meta.ExpectedCurrent set, the state is recorded only
// if that is the spinner's current version; otherwise ErrConflict and
// nothing is written.
func (s *Store) Record(spinner string, state any, meta *Meta) (*RecordResult, error) {
	const op = "Record"
	var res RecordResult
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		cstate, err := cdoc(op, "state", state)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cstate))
		cm, err := copt(op, "meta", meta)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cm))
		return C.gospr_record(h, csp, cstate, cm, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Versions lists the spinner's retained versions, newest (current) first.
func (s *Store) Versions(spinner string) ([]Version, error) {
	const op = "Versions"
	var res []Version
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		return C.gospr_versions(h, csp, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// VersionsPage returns at most limit (1-10000) retained versions numbered
// below before (0: from the newest), newest first. Pass the last number of a
// page as before for the next page; an empty page is the end.
func (s *Store) VersionsPage(spinner string, before, limit int64) ([]Version, error) {
	const op = "VersionsPage"
	var res []Version
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		return C.gospr_versions_page(h, csp, C.int64_t(before), C.int64_t(limit), out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Get returns one version with its state document. Secret values are
// "<redacted>" unless revealSecrets is true (which needs the key).
func (s *Store) Get(spinner string, number int64, revealSecrets bool) (*VersionDetail, error) {
	const op = "Get"
	var res VersionDetail
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		reveal := C.int(0)
		if revealSecrets {
			reveal = 1
		}
		return C.gospr_version_get(h, csp, C.int64_t(number), reveal, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Diff compares two versions of a spinner field by field (secrets masked).
func (s *Store) Diff(spinner string, from, to int64) (*Diff, error) {
	const op = "Diff"
	var res Diff
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		return C.gospr_diff(h, csp, C.int64_t(from), C.int64_t(to), out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// PlanRollback plans a rollback of spinner to version target (read-only).
// req may be nil; req.Scope or req.Categories choose what is taken from the
// target (req.Categories: a partial rollback of only those categories).
func (s *Store) PlanRollback(spinner string, target int64, req *PlanRequest) (*Plan, error) {
	const op = "PlanRollback"
	var res Plan
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		creq, err := copt(op, "request", req)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(creq))
		return C.gospr_plan_rollback(h, csp, C.int64_t(target), creq, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// PlanAutoRollback plans a rollback to the newest earlier version whose
// rollout was reported active; ErrNotFound when there is none.
func (s *Store) PlanAutoRollback(spinner string) (*Plan, error) {
	const op = "PlanAutoRollback"
	var res Plan
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		return C.gospr_plan_auto_rollback(h, csp, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Commit appends the version a plan describes (reason "rollback", status
// pending). The plan's Raw JSON is sent back unchanged; an altered plan is
// refused with ErrInvalid, a stale one (or one whose spinner's current
// version is not meta.ExpectedCurrent) with ErrConflict, and one that
// RequiresConfirmation without meta.Confirmed with ErrNeedsConfirmation.
func (s *Store) Commit(plan *Plan, meta *Meta) (*Version, error) {
	const op = "Commit"
	if plan == nil || len(plan.Raw) == 0 {
		return nil, invalidArg(op, "plan", "a plan returned by PlanRollback (or ParsePlan) is required")
	}
	var res Version
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		cplan, err := cjson(op, "plan", plan.Raw)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cplan))
		cm, err := copt(op, "meta", meta)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cm))
		return C.gospr_commit_rollback(h, cplan, cm, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// SetStatus reports a version's rollout status.
func (s *Store) SetStatus(spinner string, number int64, status Status) error {
	const op = "SetStatus"
	return s.call(op, nil, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		cst, err := cstring(op, "status", string(status))
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cst))
		return C.gospr_set_status(h, csp, C.int64_t(number), cst, out, cerr), nil
	})
}

// Tag pins the tag name (a DNS-1123 label) on version number and returns
// the version with its Tags. A tagged version is never pruned and does not
// count toward historyLimit; tagging the version that holds name again
// updates its note. opts may be nil. ErrConflict: name is on another version
// and opts.Move is not set, or the spinner has Options.MaxTaggedVersions
// tagged versions (or the version 16 tags). ErrNotFound, ErrPruned: no such
// version.
func (s *Store) Tag(spinner string, number int64, name string, opts *TagOptions) (*Version, error) {
	const op = "Tag"
	req := struct {
		Name string `json:"name"`
		TagOptions
	}{Name: name}
	if opts != nil {
		req.TagOptions = *opts
	}
	var res Version
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		ctag, err := cdoc(op, "tag", req)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(ctag))
		return C.gospr_tag(h, csp, C.int64_t(number), ctag, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Untag removes the tag name; the version it was on is subject to retention
// again from the next write to the spinner. ErrNotFound when the spinner has
// no such tag.
func (s *Store) Untag(spinner, name string) error {
	const op = "Untag"
	return s.call(op, nil, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		cname, err := cstring(op, "name", name)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cname))
		return C.gospr_untag(h, csp, cname, out, cerr), nil
	})
}

// TaggedVersion returns the number of the version that holds the tag name;
// ErrNotFound when the spinner has no such tag.
func (s *Store) TaggedVersion(spinner, name string) (int64, error) {
	const op = "TaggedVersion"
	var n C.int64_t
	err := s.call(op, nil, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		cname, err := cstring(op, "name", name)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cname))
		return C.gospr_tagged_version(h, csp, cname, &n, out, cerr), nil
	})
	if err != nil {
		return 0, err
	}
	return int64(n), nil
}

// Annotate appends a note (text: 1-4096 bytes; author may be "") to version
// number and returns the version's notes, oldest first. Notes are
// append-only, at most 100 per version; a note equal to the version's last
// one (same author and text) is not appended again, so a retry is harmless.
// Get shows the notes too (VersionDetail.Notes).
func (s *Store) Annotate(spinner string, number int64, text, author string) ([]Note, error) {
	const op = "Annotate"
	note := struct {
		Author string `json:"author,omitempty"`
		Text   string `json:"text"`
	}{author, text}
	var res struct {
		Notes []Note `json:"notes"`
	}
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		cnote, err := cdoc(op, "note", note)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cnote))
		return C.gospr_annotate(h, csp, C.int64_t(number), cnote, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return res.Notes, nil
}

// RestorePoints returns which registered snapshots can bring back version
// number's data: for each of its volumes, the snapshots of the volumeIds it
// bound, taken while it was current ("during", newest first), then
// "before" (newest first), then "after" (oldest first).
func (s *Store) RestorePoints(spinner string, number int64) (*RestorePoints, error) {
	const op = "RestorePoints"
	var res RestorePoints
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		return C.gospr_restore_points(h, csp, C.int64_t(number), out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Events returns at most limit (1-10000) events numbered above after (0:
// from the oldest kept), oldest first: the store's outbox. Every change
// appends its event in its own transaction; Seq is gap-free in commit
// order, store-wide, whichever process wrote, and no event holds a secret
// value. The newest Options.EventsLimit events are kept. Pass the page's
// Next as after for the following page; an empty page is the end (for now).
// ErrInvalid: after < 0 (Path "after") or limit out of range ("limit").
func (s *Store) Events(after int64, limit int) (*EventPage, error) {
	const op = "Events"
	var res EventPage
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		return C.gospr_events(h, C.int64_t(after), C.int64_t(limit), out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// MaxEventsWait is the longest timeout WaitEvents accepts (the C API's limit).
const MaxEventsWait = time.Hour

// eventsWaitSlice is the longest single spr_events_wait call WaitEvents
// makes: between two calls it checks ctx, and Close (which waits for calls in
// flight) is never held up for longer than about this.
const eventsWaitSlice = time.Second

// WaitEvents is Events (at most 1000 events) that waits up to timeout
// (0 to MaxEventsWait) for an event numbered above after. It returns as soon
// as there is one — a commit by any handle or process is seen within about
// 25 ms — or an empty page (and a nil error) when the time is up. Other calls
// on the Store, from other goroutines, go on while it waits.
//
// The wait is made of library calls of at most one second, with ctx checked
// between them (and a call never outlasting ctx's deadline by much): when ctx
// is done first, WaitEvents returns ctx.Err(). A Close on another goroutine
// takes effect within about a second; WaitEvents then returns ErrClosed.
// ErrInvalid: after < 0 (Path "after") or timeout out of range ("timeout").
//
// A follower loop:
//
//	for after := int64(0); ; {
//		page, err := store.WaitEvents(ctx, after, time.Minute)
//		if err != nil {
//			return err // ctx done, ErrClosed, …
//		}
//		for _, e := range page.Events {
//			handle(e)
//		}
//		after = page.Next
//	}
func (s *Store) WaitEvents(ctx context.Context, after int64, timeout time.Duration) (*EventPage, error) {
	const op = "WaitEvents"
	if timeout < 0 || timeout > MaxEventsWait {
		return nil, invalidArg(op, "timeout", "must be 0 to %v, not %v", MaxEventsWait, timeout)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	deadline := time.Now().Add(timeout)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		slice := min(time.Until(deadline), eventsWaitSlice)
		if d, ok := ctx.Deadline(); ok {
			slice = min(slice, time.Until(d))
		}
		// Whole milliseconds, rounded up so a wait never ends early.
		ms := max(int64((slice+time.Millisecond-1)/time.Millisecond), 0)
		var res EventPage
		err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
			return C.gospr_events_wait(h, C.int64_t(after), C.int64_t(ms), out, cerr), nil
		})
		if err != nil {
			return nil, err
		}
		if len(res.Events) > 0 || !time.Now().Before(deadline) {
			return &res, nil
		}
	}
}

// SpinnerInfo returns facts about a spinner (rollback enabled, history
// limit, current version, …).
func (s *Store) SpinnerInfo(spinner string) (*SpinnerInfo, error) {
	const op = "SpinnerInfo"
	var res SpinnerInfo
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csp, err := cstring(op, "spinner", spinner)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csp))
		return C.gospr_spinner_info(h, csp, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Spinners returns the names of every spinner the store knows, sorted.
func (s *Store) Spinners() ([]string, error) {
	var res []string
	err := s.call("Spinners", &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		return C.gospr_spinners(h, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Info returns the store's identity (a UUID made with the store and kept by
// every schema migration), engine and schema version.
func (s *Store) Info() (*StoreInfo, error) {
	var res StoreInfo
	err := s.call("Info", &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		return C.gospr_store_info(h, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// RotateKey re-wraps the store's keys under the first key of the keyring it
// was opened with (Options.Keys), in one transaction; the other keys of the
// ring can then be retired. With opts.Reseal it also makes a new data key
// and re-seals every secret value under it, opts.BatchSize per transaction:
// other processes read and write meanwhile, and a call after a crash
// resumes where the last batch ended (RotateResult.Resumed). No digest
// changes. Roll the new keyring out to every process first
// (docs/operations.md, "Rotating keys"). opts may be nil.
// ErrNoKey: the store was opened without a key, or no key of the ring opens
// its keys. ErrInvalid: BatchSize out of range (Path "options.batchSize").
func (s *Store) RotateKey(opts *RotateOptions) (*RotateResult, error) {
	const op = "RotateKey"
	var res RotateResult
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		copts, err := copt(op, "options", opts)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(copts))
		return C.gospr_rotate_key(h, copts, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Export writes a bundle file (docs/bundles.md) at path: the full history of
// spinner ("" for every spinner) with its tags, notes, statuses and the
// snapshots its volumes bound, read in one transaction. The file is written
// next to path (path + ".partial") and then renamed onto it. Secret values
// stay sealed under a fresh bundle key wrapped by the export key in opts,
// which is needed when an exported version holds a secret value (and again
// by Import); opts may be nil. ErrNotFound: no such spinner. ErrNoKey:
// secret values to export but no export key (Path "options.key"), or the
// store was opened without its key. ErrIO: the file cannot be written.
func (s *Store) Export(spinner, path string, opts *BundleOptions) error {
	const op = "Export"
	return s.call(op, nil, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		var csp *C.char
		if spinner != "" {
			var err error
			if csp, err = cstring(op, "spinner", spinner); err != nil {
				return 0, err
			}
			defer C.free(unsafe.Pointer(csp))
		}
		cpath, err := cstring(op, "path", path)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cpath))
		copts, err := copt(op, "options", opts)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(copts))
		return C.gospr_export(h, csp, cpath, copts, out, cerr), nil
	})
}

// Import reads a bundle written by Export, in one transaction. Each spinner
// new to this store gets its history exactly (numbers, times, authors,
// statuses, tags, notes, digests) and an EventSpinnerImported event; a
// spinner already here with the same versions is skipped, so importing twice
// changes nothing. opts holds the export key (nil: none). The whole bundle
// is checked before anything is written:
//   - ErrInvalid: a malformed, truncated, altered or newer-format bundle;
//     Path is "bundle:<line>" and the message names the line and the reason.
//   - ErrConflict: a spinner here has another history, or this store holds
//     secrets under another store's MAC key.
//   - ErrNoKey: the bundle holds secrets and no key, or the wrong key, was
//     given, or this store was opened without a key.
//   - ErrIO: the file cannot be read.
func (s *Store) Import(path string, opts *BundleOptions) (*ImportResult, error) {
	const op = "Import"
	var res ImportResult
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		cpath, err := cstring(op, "path", path)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cpath))
		copts, err := copt(op, "options", opts)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(copts))
		return C.gospr_import(h, cpath, copts, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Migrate copies every spinner into the store at target (a SQLite file, or
// a postgres:// URI, as Open takes), opened with opts (nil: no options; give
// a key when this store holds secret values), through a bundle held in
// memory under a one-time key; then it reads every version of the copy back
// and compares it with this store field by field and digest by digest. It
// succeeds only when all match; running it again skips what is there.
// ErrConflict: as Import. ErrNoKey: this store holds secrets and the target
// has no key. ErrCorrupt: a check after the copy failed (the message says
// which). ErrInvalid, ErrIO, ErrBusy: as Open.
func (s *Store) Migrate(target string, opts *Options) (*MigrateResult, error) {
	const op = "Migrate"
	var res MigrateResult
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		ctarget, err := cstring(op, "target", target)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(ctarget))
		copts, err := copt(op, "options", opts)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(copts))
		return C.gospr_migrate(h, ctarget, copts, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// RegisterSnapshot registers (or replaces) a volume snapshot the host made.
func (s *Store) RegisterSnapshot(snap Snapshot) error {
	const op = "RegisterSnapshot"
	return s.call(op, nil, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		csnap, err := cdoc(op, "snapshot", snap)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(csnap))
		return C.gospr_snapshot_register(h, csnap, out, cerr), nil
	})
}

// Snapshots lists the snapshots of one volumeId, newest first; volume ""
// lists all.
func (s *Store) Snapshots(volume string) ([]Snapshot, error) {
	const op = "Snapshots"
	var res []Snapshot
	err := s.call(op, &res, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		var cvol *C.char
		if volume != "" {
			var err error
			if cvol, err = cstring(op, "volume", volume); err != nil {
				return 0, err
			}
			defer C.free(unsafe.Pointer(cvol))
		}
		return C.gospr_snapshots(h, cvol, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// DeleteSnapshot deletes a snapshot record (not the snapshot itself).
func (s *Store) DeleteSnapshot(id string) error {
	const op = "DeleteSnapshot"
	return s.call(op, nil, func(h *C.spr_store, out, cerr **C.char) (C.int, error) {
		cid, err := cstring(op, "snapshot_id", id)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cid))
		return C.gospr_snapshot_delete(h, cid, out, cerr), nil
	})
}

// EvaluatePolicy runs a snapshot policy on two states (no store): would
// next become a version after prev? policy nil means the defaults; prev nil
// means there is no previous version. States are encoded as in Record.
func EvaluatePolicy(policy *Policy, prev, next any) (*PolicyResult, error) {
	const op = "EvaluatePolicy"
	var res PolicyResult
	err := callFree(op, &res, func(out, cerr **C.char) (C.int, error) {
		var cpol, cprev *C.char
		var err error
		if policy != nil {
			if cpol, err = cdoc(op, "policy", policy); err != nil {
				return 0, err
			}
			defer C.free(unsafe.Pointer(cpol))
		}
		if prev != nil {
			if cprev, err = cdoc(op, "prev_state", prev); err != nil {
				return 0, err
			}
			defer C.free(unsafe.Pointer(cprev))
		}
		cnext, err := cdoc(op, "next_state", next)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cnext))
		return C.gospr_policy_evaluate(cpol, cprev, cnext, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// DiffStates compares two state documents field by field (no store).
// States are encoded as in Record; secret values are masked.
func DiffStates(a, b any) (*Diff, error) {
	const op = "DiffStates"
	var res Diff
	err := callFree(op, &res, func(out, cerr **C.char) (C.int, error) {
		ca, err := cdoc(op, "a", a)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(ca))
		cb, err := cdoc(op, "b", b)
		if err != nil {
			return 0, err
		}
		defer C.free(unsafe.Pointer(cb))
		return C.gospr_diff_states(ca, cb, out, cerr), nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// ---- plumbing ----

// cfunc makes one wrapped C call on a store handle; it may refuse an
// argument before calling (returning a non-nil error).
type cfunc func(h *C.spr_store, out, cerr **C.char) (C.int, error)

// call runs f with the store's handle under the read lock (so Close waits
// for it) and decodes the result JSON into res (when res is non-nil).
func (s *Store) call(op string, res any, f cfunc) error {
	if s == nil {
		return ErrClosed
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.h == nil {
		return ErrClosed
	}
	return callFree(op, res, func(out, cerr **C.char) (C.int, error) { return f(s.h, out, cerr) })
}

// callFree runs one wrapped C call, turns a failure into an *Error and
// decodes the library's JSON into res, freeing every C string.
func callFree(op string, res any, f func(out, cerr **C.char) (C.int, error)) error {
	var out, cerr *C.char
	rc, err := f(&out, &cerr)
	if err != nil {
		return err
	}
	if rc != C.SPR_OK {
		if out != nil { // the contract says NULL on failure; free it anyway
			C.spr_free(unsafe.Pointer(out))
		}
		return takeError(op, rc, cerr)
	}
	if out == nil {
		return nil
	}
	defer C.spr_free(unsafe.Pointer(out))
	if res == nil {
		return nil
	}
	// Decode straight from the C buffer (no intermediate Go string); the
	// decoded values never alias it.
	buf := unsafe.Slice((*byte)(unsafe.Pointer(out)), C.strlen(out))
	if err := json.Unmarshal(buf, res); err != nil {
		return &Error{Code: CodeInternal, Name: "SPR_E_INTERNAL", Op: op,
			Message: "cannot decode the library's result: " + err.Error()}
	}
	return nil
}

// takeError converts (and frees) an error JSON copied by a gospr_ wrapper.
func takeError(op string, rc C.int, cerr *C.char) error {
	e := &Error{Code: int(rc), Op: op}
	if cerr != nil {
		defer C.free(unsafe.Pointer(cerr))
		buf := unsafe.Slice((*byte)(unsafe.Pointer(cerr)), C.strlen(cerr))
		_ = json.Unmarshal(buf, e)
		e.Code = int(rc) // the return code is authoritative
	}
	if e.Name == "" {
		e.Name = C.GoString(C.spr_error_name(rc)) // static storage, thread-independent
	}
	return e
}

// cstring copies a Go string to C; C strings end at the first NUL, so a
// string containing one is refused rather than silently truncated.
func cstring(op, path, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, invalidArg(op, path, "must not contain a NUL byte")
	}
	return C.CString(s), nil
}

// cjson copies JSON bytes to a NUL-terminated C string.
func cjson(op, path string, b []byte) (*C.char, error) {
	for _, c := range b {
		if c == 0 {
			return nil, invalidArg(op, path, "must not contain a NUL byte")
		}
	}
	p := (*C.char)(C.malloc(C.size_t(len(b) + 1)))
	if len(b) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(p)), len(b)), b)
	}
	*(*byte)(unsafe.Add(unsafe.Pointer(p), len(b))) = 0
	return p, nil
}

// cdoc encodes a JSON document argument: []byte, json.RawMessage and
// string are taken as JSON text, anything else is json.Marshal'd.
func cdoc(op, path string, v any) (*C.char, error) {
	switch d := v.(type) {
	case []byte:
		return cjson(op, path, d)
	case json.RawMessage:
		return cjson(op, path, d)
	case string:
		return cstring(op, path, d)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, invalidArg(op, path, "cannot encode as JSON: %v", err)
	}
	return cjson(op, path, b)
}

// copt encodes an optional JSON argument: nil → NULL (the library's
// defaults), else as cdoc.
func copt[T any](op, path string, v *T) (*C.char, error) {
	if v == nil {
		return nil, nil
	}
	return cdoc(op, path, v)
}

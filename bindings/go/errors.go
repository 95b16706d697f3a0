package spinnerrollback

import (
	"errors"
	"fmt"
)

// Status codes of the C API (SPR_OK, SPR_E_*). An *Error carries one of them
// in its Code field.
const (
	CodeOK                = 0
	CodeInvalid           = 1
	CodeNotFound          = 2
	CodeConflict          = 3
	CodeRollbackDisabled  = 4
	CodeCurrentVersion    = 5
	CodeIdentical         = 6
	CodePruned            = 7
	CodeNeedsConfirmation = 8
	CodeNoKey             = 9
	CodeCorrupt           = 10
	CodeBusy              = 11
	CodeIO                = 12
	CodeInternal          = 13
	CodeSnapshotNotReady  = 14
	CodeSnapshotMismatch  = 15
	CodeUnknownVolume     = 16
)

// Error is a failure reported by the library (or by this package's own
// argument checks, which use the same codes). Match it with errors.Is against
// the Err* sentinels, or get at the JSON path with errors.As:
//
//	var e *spinnerrollback.Error
//	if errors.As(err, &e) { log.Printf("%s at %s", e.Name, e.Path) }
//
// Messages never contain secret values.
type Error struct {
	Code    int    `json:"code"`    // an SPR_E_* code, see the Code* constants
	Name    string `json:"name"`    // e.g. "SPR_E_CONFLICT"
	Message string `json:"message"` // human-readable, never holds secret values
	Path    string `json:"path"`    // JSON path or argument name at fault; may be empty
	Op      string `json:"-"`       // the Go method that failed, e.g. "PlanRollback"
}

func (e *Error) Error() string {
	s := "spinnerrollback: "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += e.Name
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Path != "" {
		s += " (at " + e.Path + ")"
	}
	return s
}

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, ErrConflict) works for every error this package returns.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

func sentinel(code int, name string) *Error { return &Error{Code: code, Name: name} }

// Sentinels, one per status code; compare with errors.Is.
var (
	ErrInvalid           = sentinel(CodeInvalid, "SPR_E_INVALID")
	ErrNotFound          = sentinel(CodeNotFound, "SPR_E_NOT_FOUND")
	ErrConflict          = sentinel(CodeConflict, "SPR_E_CONFLICT")
	ErrRollbackDisabled  = sentinel(CodeRollbackDisabled, "SPR_E_ROLLBACK_DISABLED")
	ErrCurrentVersion    = sentinel(CodeCurrentVersion, "SPR_E_CURRENT_VERSION")
	ErrIdentical         = sentinel(CodeIdentical, "SPR_E_IDENTICAL")
	ErrPruned            = sentinel(CodePruned, "SPR_E_PRUNED")
	ErrNeedsConfirmation = sentinel(CodeNeedsConfirmation, "SPR_E_NEEDS_CONFIRMATION")
	ErrNoKey             = sentinel(CodeNoKey, "SPR_E_NO_KEY")
	ErrCorrupt           = sentinel(CodeCorrupt, "SPR_E_CORRUPT")
	ErrBusy              = sentinel(CodeBusy, "SPR_E_BUSY")
	ErrIO                = sentinel(CodeIO, "SPR_E_IO")
	ErrInternal          = sentinel(CodeInternal, "SPR_E_INTERNAL")
	ErrSnapshotNotReady  = sentinel(CodeSnapshotNotReady, "SPR_E_SNAPSHOT_NOT_READY")
	ErrSnapshotMismatch  = sentinel(CodeSnapshotMismatch, "SPR_E_SNAPSHOT_MISMATCH")
	ErrUnknownVolume     = sentinel(CodeUnknownVolume, "SPR_E_UNKNOWN_VOLUME")
)

// ErrClosed is returned by every method of a Store after Close.
var ErrClosed = errors.New("spinnerrollback: store is closed")

// invalidArg builds the error this package returns for an argument it
// refuses before calling the library (same code and shape as the library's).
func invalidArg(op, path, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Name: "SPR_E_INVALID", Op: op, Path: path,
		Message: fmt.Sprintf(format, args...)}
}

// Package host applies spinner states to a Kubernetes cluster and keeps
// their history in a spinner_rollback store: deploy, roll back, report
// rollout status, roll back failed rollouts automatically, snapshot volumes.
package host

import (
	"errors"
	"fmt"
	"io"
	"time"

	snapclient "github.com/kubernetes-csi/external-snapshotter/client/v8/clientset/versioned"
	"k8s.io/client-go/kubernetes"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

// Host is one controller over one namespace. Its methods are not safe for
// concurrent use on one spinner (the CLI runs one command at a time).
type Host struct {
	Store     *spr.Store
	Kube      kubernetes.Interface
	Snap      snapclient.Interface
	Namespace string
	// NameKey keys the hash in Secret object names (see render.ContentHash).
	NameKey []byte
	// ProgressDeadline is the Deployment's progressDeadlineSeconds (0: the
	// Kubernetes default, 600 s).
	ProgressDeadline int32
	// Timeout bounds every wait (rollout, PVC bound, snapshot ready).
	Timeout time.Duration
	// AutoRollback rolls a failed rollout back to the newest active version.
	AutoRollback bool
	Author       string
	Log          io.Writer
}

// Exit codes of the CLI, carried by *Failure.
const (
	ExitFailed  = 1 // the cluster or the rollout failed
	ExitRefused = 2 // invalid input or a library refusal
	ExitConfirm = 3 // the plan needs --confirm
)

// Failure is an error with the exit code the CLI should use.
type Failure struct {
	Code int
	Err  error
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

func failed(format string, a ...any) error {
	return &Failure{Code: ExitFailed, Err: fmt.Errorf(format, a...)}
}

// refusal wraps a library error (or invalid input) as ExitRefused.
func refusal(err error) error {
	var f *Failure
	if errors.As(err, &f) {
		return err
	}
	return &Failure{Code: ExitRefused, Err: err}
}

func (h *Host) logf(format string, a ...any) {
	if h.Log != nil {
		fmt.Fprintf(h.Log, "==> "+format+"\n", a...)
	}
}

func (h *Host) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return 10 * time.Minute
}

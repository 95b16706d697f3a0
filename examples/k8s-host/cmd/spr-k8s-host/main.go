// Command spr-k8s-host runs spinners on Kubernetes with spinner_rollback
// keeping their history (see docs/k8s-host.md).
//
//	spr-k8s-host [global flags] deploy   SPINNER STATE.json [-m MSG] [--auto-rollback]
//	spr-k8s-host [global flags] versions SPINNER [--json]
//	spr-k8s-host [global flags] rollback SPINNER VERSION [--data VOL=current|snapshot:ID]... [--scope S] [--confirm] [--plan-only]
//	spr-k8s-host [global flags] snapshot SPINNER VOLUME [--class NAME]
//
// Global flags: --home DIR (store and key), --kubeconfig FILE, --namespace NS,
// --timeout D, --progress-deadline SECONDS, --author NAME.
// Exit codes: 0 done; 1 the cluster or the rollout failed; 2 refused; 3 the
// plan needs --confirm.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"spinner_rollback.example/k8s-host/internal/host"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:])
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	var f *host.Failure
	if errors.As(err, &f) {
		os.Exit(f.Code)
	}
	os.Exit(host.ExitFailed)
}

func run(ctx context.Context, args []string) error {
	g, rest, err := parseGlobal(args)
	if err != nil {
		return usage(err)
	}
	if len(rest) == 0 {
		return usage(errors.New("no command"))
	}
	cmd, rest := rest[0], rest[1:]
	switch cmd {
	case "deploy":
		return cmdDeploy(ctx, g, rest)
	case "versions":
		return cmdVersions(g, rest)
	case "rollback":
		return cmdRollback(ctx, g, rest)
	case "snapshot":
		return cmdSnapshot(ctx, g, rest)
	}
	return usage(fmt.Errorf("unknown command %q", cmd))
}

func usage(err error) error {
	return &host.Failure{Code: host.ExitRefused, Err: fmt.Errorf("%v (commands: deploy, versions, rollback, snapshot; see docs/k8s-host.md)", err)}
}

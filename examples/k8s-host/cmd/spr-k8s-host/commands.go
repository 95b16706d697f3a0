package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
	"spinner_rollback.example/k8s-host/internal/host"
)

func cmdDeploy(ctx context.Context, g *global, args []string) error {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	msg := fs.String("m", "", "message recorded with the version")
	auto := fs.Bool("auto-rollback", false, "roll a failed rollout back to the newest active version")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 2 {
		return usage(fmt.Errorf("deploy SPINNER STATE.json [-m MSG] [--auto-rollback]"))
	}
	doc, err := os.ReadFile(pos[1])
	if err != nil {
		return usage(err)
	}
	h, err := g.open()
	if err != nil {
		return err
	}
	defer h.Store.Close()
	h.AutoRollback = *auto
	return h.Deploy(ctx, pos[0], doc, &spr.Meta{Author: g.author, Message: *msg})
}

func cmdVersions(g *global, args []string) error {
	fs := flag.NewFlagSet("versions", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the library's JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 1 {
		return usage(fmt.Errorf("versions SPINNER [--json]"))
	}
	h, err := g.open()
	if err != nil {
		return err
	}
	defer h.Store.Close()
	vs, err := h.Store.Versions(pos[0])
	if err != nil {
		return &host.Failure{Code: host.ExitRefused, Err: err}
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(vs)
	}
	for _, v := range vs {
		mark, of := " ", ""
		if v.Current {
			mark = "*"
		}
		if v.RollbackOf != nil {
			of = fmt.Sprintf(" (rollback of v%d)", *v.RollbackOf)
		}
		fmt.Printf("%s v%-4d %-10s %s %s%s\n", mark, v.Number, v.Status, v.CreatedAt.Format("2006-01-02 15:04:05"), v.Summary, of)
	}
	return nil
}

func cmdRollback(ctx context.Context, g *global, args []string) error {
	fs := flag.NewFlagSet("rollback", flag.ContinueOnError)
	var data dataFlag
	fs.Var(&data, "data", "VOL=current or VOL=snapshot:ID (repeatable)")
	scope := fs.String("scope", "", "tracked (default) or all")
	confirm := fs.Bool("confirm", false, "accept new volumes and their cost")
	planOnly := fs.Bool("plan-only", false, "print the plan and stop")
	msg := fs.String("m", "", "message recorded with the version")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 2 {
		return usage(fmt.Errorf("rollback SPINNER VERSION [--data VOL=current|snapshot:ID]... [--scope S] [--confirm] [--plan-only]"))
	}
	target, err := strconv.ParseInt(strings.TrimPrefix(pos[1], "v"), 10, 64)
	if err != nil {
		return usage(fmt.Errorf("VERSION: %v", err))
	}
	h, err := g.open()
	if err != nil {
		return err
	}
	defer h.Store.Close()
	plan, err := h.Store.PlanRollback(pos[0], target, &spr.PlanRequest{Data: data, Scope: *scope})
	if err != nil {
		return &host.Failure{Code: host.ExitRefused, Err: err}
	}
	printPlan(plan)
	if *planOnly {
		return nil
	}
	return h.Rollback(ctx, plan, *confirm, *msg)
}

func cmdSnapshot(ctx context.Context, g *global, args []string) error {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	class := fs.String("class", "", "VolumeSnapshotClass name")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 2 {
		return usage(fmt.Errorf("snapshot SPINNER VOLUME [--class NAME]"))
	}
	h, err := g.open()
	if err != nil {
		return err
	}
	defer h.Store.Close()
	id, err := h.Snapshot(ctx, pos[0], pos[1], *class)
	if err != nil {
		return err
	}
	fmt.Println(id)
	return nil
}

func printPlan(p *spr.Plan) {
	fmt.Printf("plan %s: v%d -> v%d: %s\n", p.PlanID, p.BaseVersion, p.TargetVersion, p.Summary)
	for _, s := range p.Steps {
		fmt.Printf("  step %s: %s\n", s.Action, s.Description)
	}
	for _, v := range p.Volumes {
		if nv := v.NewVolume; nv != nil {
			fmt.Printf("  volume %s: new PVC %s from snapshot %s, %d bytes, ~%.2f %s/month\n",
				v.Volume, nv.Name, v.SnapshotID, nv.SizeBytes, nv.EstimatedMonthlyCost, nv.Currency)
		}
	}
	for _, w := range p.Warnings {
		fmt.Printf("  warning: %s\n", w)
	}
	if p.RequiresConfirmation {
		fmt.Println("  requires confirmation (--confirm)")
	}
}

// dataFlag collects --data VOL=current|snapshot:ID.
type dataFlag map[string]spr.DataSource

func (d *dataFlag) String() string { return "" }

func (d *dataFlag) Set(s string) error {
	vol, src, ok := strings.Cut(s, "=")
	if !ok || vol == "" {
		return fmt.Errorf("want VOL=current or VOL=snapshot:ID, got %q", s)
	}
	if *d == nil {
		*d = dataFlag{}
	}
	switch {
	case src == "current":
		(*d)[vol] = spr.KeepCurrent
	case strings.HasPrefix(src, "snapshot:") && len(src) > len("snapshot:"):
		(*d)[vol] = spr.FromSnapshot(strings.TrimPrefix(src, "snapshot:"))
	default:
		return fmt.Errorf("want VOL=current or VOL=snapshot:ID, got %q", s)
	}
	return nil
}

package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
	"spinner_rollback.example/k8s-host/internal/state"
)

// Deploy records a state document and applies it. A state the policy calls
// unchanged is still applied (it may differ in untracked fields; applying
// what runs changes nothing). The error is a *Failure when it has an exit code.
func (h *Host) Deploy(ctx context.Context, spinner string, doc []byte, meta *spr.Meta) error {
	doc, err := h.bindVolumes(spinner, doc)
	if err != nil {
		return refusal(err)
	}
	res, err := h.Store.Record(spinner, doc, meta)
	if err != nil {
		return refusal(err)
	}
	st, err := state.Parse(doc)
	if err != nil {
		return refusal(err)
	}
	var number int64
	switch res.Outcome {
	case spr.OutcomeCreated:
		number = res.Version.Number
		h.logf("recorded v%d: %s", number, res.Version.Summary)
	case spr.OutcomeUnchanged:
		number, err = h.current(spinner)
		if err != nil {
			return err
		}
		h.logf("unchanged: v%d stays current", number)
	default:
		h.logf("rollback is disabled for %s: applying without a version", spinner)
	}
	return h.rollout(ctx, spinner, number, st)
}

// rollout applies st as version number, waits, reports the status and, when
// the rollout failed and AutoRollback is on, rolls back automatically.
func (h *Host) rollout(ctx context.Context, spinner string, number int64, st *state.State) error {
	d, err := h.apply(ctx, spinner, number, st)
	if err != nil {
		return err
	}
	ok, msg, err := h.waitRollout(ctx, d)
	if err != nil {
		return err
	}
	if ok {
		h.logf("rollout of v%d: %s", number, msg)
		if number > 0 {
			if err := h.setStatus(spinner, number, spr.StatusActive); err != nil {
				return err
			}
		}
		return h.collect(ctx, spinner, st)
	}
	h.logf("rollout of v%d failed: %s", number, msg)
	if number > 0 {
		if err := h.setStatus(spinner, number, spr.StatusFailed); err != nil {
			return err
		}
	}
	if !h.AutoRollback || number == 0 {
		return failed("rollout of v%d failed: %s", number, msg)
	}
	back, err := h.autoRollback(ctx, spinner)
	if err != nil {
		return failed("rollout of v%d failed (%s); automatic rollback failed: %v", number, msg, err)
	}
	return failed("rollout of v%d failed (%s); rolled back automatically: %s", number, msg, back)
}

// autoRollback plans back to the newest active version, commits and rolls
// that out (without a further automatic rollback).
func (h *Host) autoRollback(ctx context.Context, spinner string) (string, error) {
	plan, err := h.Store.PlanAutoRollback(spinner)
	if err != nil {
		return "", err
	}
	if plan.RequiresConfirmation {
		return "", errors.New("the plan back to v" + fmt.Sprint(plan.TargetVersion) + " needs confirmation")
	}
	v, err := h.Store.Commit(plan, &spr.Meta{Author: h.Author, Message: "automatic rollback of a failed rollout"})
	if err != nil {
		return "", err
	}
	h.logf("automatic rollback: v%d = v%d (%s)", v.Number, plan.TargetVersion, plan.Summary)
	st, err := h.stateOf(spinner, v.Number)
	if err != nil {
		return "", err
	}
	saved := h.AutoRollback
	h.AutoRollback = false
	defer func() { h.AutoRollback = saved }()
	if err := h.rollout(ctx, spinner, v.Number, st); err != nil {
		return "", err
	}
	return fmt.Sprintf("v%d (rollback of v%d) is active", v.Number, plan.TargetVersion), nil
}

// setStatus reports a rollout status; a status already reported (the
// unchanged redeploy of an active version) is not written again.
func (h *Host) setStatus(spinner string, number int64, s spr.Status) error {
	if vs, err := h.Store.VersionsPage(spinner, number+1, 1); err == nil && len(vs) == 1 &&
		vs[0].Number == number && vs[0].Status == s {
		h.logf("v%d stays %s", number, s)
		return nil
	}
	if err := h.Store.SetStatus(spinner, number, s); err != nil {
		return refusal(err)
	}
	h.logf("v%d is %s", number, s)
	return nil
}

func (h *Host) current(spinner string) (int64, error) {
	vs, err := h.Store.VersionsPage(spinner, 0, 1)
	if err != nil {
		return 0, refusal(err)
	}
	if len(vs) == 0 {
		return 0, nil
	}
	return vs[0].Number, nil
}

// bindVolumes fills in volumes[].volumeId (the PVC name) where the document
// leaves it out: the claim the current version binds to that name, else
// "<spinner>-<name>".
func (h *Host) bindVolumes(spinner string, doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("state document: %w", err)
	}
	vols, _ := m["volumes"].([]any)
	var bound map[string]string
	changed := false
	for _, v := range vols {
		vo, _ := v.(map[string]any)
		if vo == nil || vo["volumeId"] != nil {
			continue
		}
		if bound == nil {
			bound = h.boundVolumes(spinner)
		}
		name, _ := vo["name"].(string)
		id := bound[name]
		if id == "" {
			id = spinner + "-" + name
		}
		vo["volumeId"] = id
		changed = true
	}
	if !changed {
		return doc, nil
	}
	return json.Marshal(m)
}

func (h *Host) boundVolumes(spinner string) map[string]string {
	out := map[string]string{}
	n, err := h.current(spinner)
	if err != nil || n == 0 {
		return out
	}
	d, err := h.Store.Get(spinner, n, false)
	if err != nil {
		return out
	}
	st, err := state.Parse(d.State)
	if err != nil {
		return out
	}
	for _, v := range st.Volumes {
		out[v.Name] = v.VolumeID
	}
	return out
}

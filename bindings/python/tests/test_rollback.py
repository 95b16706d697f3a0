"""Planning and committing rollbacks: data sources, costs, idempotency, auto rollback."""

from __future__ import annotations

import json

import pytest

import spinner_rollback as spr
from conftest import PRICING

V14 = "registry.example/shop:1.4"
V15 = "registry.example/shop:1.5"
GiB = 2**30


def test_plan_and_commit_keep_current_volume(store, state):
    store.record("shop", state(image=V14, volume_id="vol-a"))
    store.record("shop", state(image=V15, instances=3, volume_id="vol-b"))
    store.set_status("shop", 2, "failed")
    plan = store.plan_rollback("shop", 1)
    assert isinstance(plan, spr.Plan)
    assert plan.spinner == "shop" and plan.base_version == 2 and plan.target_version == 1
    assert plan.plan_id and plan.digest
    assert plan.state["containers"][0]["image"]["reference"] == V14
    assert plan.state["volumes"][0]["volumeId"] == "vol-b"  # "current" is the default
    assert plan.state["instances"] == 2
    assert {c.category for c in plan.diff} == {"image", "instances"}
    assert not plan.requires_confirmation
    assert [v.source for v in plan.volumes] == ["current"]
    assert plan.volumes[0].new_volume is None and plan.estimated_monthly_cost == 0
    assert [s["action"] for s in plan.steps] == ["applyState", "reportStatus"]
    assert plan.summary.startswith("rollback to v1")
    assert json.loads(plan.json)["planId"] == plan.plan_id

    v = store.commit(plan, author="alice", message="undo 1.5")
    assert v.number == 3 and v.reason == "rollback" and v.rollback_of == 1
    assert v.status == "pending" and v.author == "alice" and v.message == "undo 1.5"
    store.set_status("shop", 3, "active")
    vs = store.versions("shop")
    assert [x.number for x in vs] == [3, 2, 1] and vs[0].current
    assert store.get("shop", 3).state["containers"][0]["image"]["reference"] == V14


def test_rollback_from_snapshot_with_cost(store, state):
    store.record("shop", state(image=V14, volume_id="vol-a"))
    store.record("shop", state(image=V15, volume_id="vol-b"))
    snap = store.register_snapshot(
        "snap-a1", "vol-a", 3 * GiB, storage_class="standard", metadata={"tool": "lvm"}
    )
    assert isinstance(snap, spr.Snapshot) and snap.ready
    listed = store.snapshots("vol-a")
    assert [s.id for s in listed] == ["snap-a1"]
    assert listed[0].size_bytes == 3 * GiB and listed[0].metadata == {"tool": "lvm"}
    assert listed[0].storage_class == "standard" and listed[0].created_at is not None
    assert store.snapshots("vol-b") == []

    for source in ({"snapshot": "snap-a1"}, spr.FromSnapshot("snap-a1"), snap):
        plan = store.plan_rollback("shop", 1, data={"data": source})
        assert plan.requires_confirmation
        (pv,) = plan.volumes
        assert pv.volume == "data" and pv.source == "snapshot" and pv.snapshot_id == "snap-a1"
        assert pv.mounts == ["/var/lib/shop"]
        nv = pv.new_volume
        assert isinstance(nv, spr.NewVolume)
        assert nv.size_bytes >= 3 * GiB
        assert nv.currency == "USD"
        assert nv.estimated_monthly_cost == pytest.approx(3 * 0.10)  # 3 GiB standard
        assert plan.estimated_monthly_cost == pytest.approx(0.30)
        assert plan.state["volumes"][0]["volumeId"] == nv.name
        assert any("vol-b" in w and "0.30 USD" in w for w in plan.warnings)
        assert [s["action"] for s in plan.steps][0] == "provisionVolume"
        assert not any("delete" in json.dumps(s).lower() for s in plan.steps)

    v = store.commit(plan, confirmed=True, request_id="rb-1")
    assert v.rollback_of == 1 and v.number == 3
    assert store.get("shop", 3).state["volumes"][0]["volumeId"] == nv.name

    # Snapshot listing and deletion.
    store.register_snapshot(spr.Snapshot("snap-b1", "vol-b", GiB, None, True))
    assert {s.id for s in store.snapshots()} == {"snap-a1", "snap-b1"}
    store.delete_snapshot("snap-b1")
    assert [s.id for s in store.snapshots()] == ["snap-a1"]


def test_dedicated_volume_cost_counts_copies(tmp_path, state):
    s = state(image=V14, volume_id="vol-a", instances=3)
    s["volumes"][0].update(mode="dedicated", storageClass="fast")
    with spr.Store(tmp_path / "d.db", key="11" * 32, pricing=PRICING) as store:
        store.record("shop", s)
        s2 = json.loads(json.dumps(s))
        s2["containers"][0]["image"]["reference"] = V15
        s2["volumes"][0]["volumeId"] = "vol-b"
        store.record("shop", s2)
        store.register_snapshot("snap-a", "vol-a", 2 * GiB)
        plan = store.plan_rollback("shop", 1, data={"data": spr.FromSnapshot("snap-a")})
        nv = plan.volumes[0].new_volume
        assert nv is not None and nv.copies == 3
        assert nv.estimated_monthly_cost == pytest.approx(2 * 0.25 * 3)


def test_commit_idempotent_with_request_id(store, state):
    store.record("shop", state(image=V14))
    store.record("shop", state(image=V15))
    plan = store.plan_rollback("shop", 1)
    first = store.commit(plan, request_id="req-42", author="bot")
    again = store.commit(plan, request_id="req-42", author="bot")
    assert again == first
    assert [v.number for v in store.versions("shop")] == [3, 2, 1]
    # Without the same request id, the (now stale) plan conflicts.
    with pytest.raises(spr.ConflictError):
        store.commit(plan, request_id="req-43")


def test_record_idempotent_with_request_id(store, state):
    first = store.record("shop", state(image=V14), request_id="deploy-1")
    assert store.record("shop", state(image=V14), request_id="deploy-1") == first
    store.record("shop", state(image=V15), request_id="deploy-2")
    assert [v.number for v in store.versions("shop")] == [2, 1]


def test_auto_rollback(store, state):
    store.record("shop", state(image=V14))
    store.set_status("shop", 1, "active")
    store.record("shop", state(image=V15))
    store.set_status("shop", 2, "failed")
    plan = store.plan_auto_rollback("shop")
    assert plan.target_version == 1 and plan.base_version == 2
    v = store.commit(plan)
    assert v.rollback_of == 1


def test_scope_all_restores_untracked(store, state):
    store.record("shop", state(image=V14, labels={"team": "shop"}))
    store.record("shop", state(image=V15, labels={"team": "platform"}))
    tracked = store.plan_rollback("shop", 1)
    assert tracked.state["containers"][0]["image"]["reference"] == V14
    assert tracked.state["labels"] == {"team": "platform"}  # untracked: kept from current
    everything = store.plan_rollback("shop", 1, scope="all")
    assert everything.state["labels"] == {"team": "shop"}


def test_plan_keeps_latest_recorded_settings(store, state):
    store.record("shop", state(image=V14))
    store.record("shop", state(image=V15))
    # settings-only change: no version, but it is what the host runs now
    assert store.record("shop", state(image=V15, history_limit=50)).outcome == "unchanged"
    assert store.spinner_info("shop").history_limit == 50
    plan = store.plan_rollback("shop", 1)
    assert plan.state["settings"]["rollback"]["historyLimit"] == 50


def test_data_current_explicit(store, state):
    store.record("shop", state(image=V14, volume_id="vol-a"))
    store.record("shop", state(image=V15, volume_id="vol-b"))
    plan = store.plan_rollback("shop", 1, data={"data": spr.CURRENT})
    assert plan.volumes[0].source == "current" and not plan.requires_confirmation

"""Every exception class reachable through the real library, and the mapping itself."""

from __future__ import annotations

import pickle
import sqlite3

import pytest

import spinner_rollback as spr
from conftest import KEY

V14 = "registry.example/shop:1.4"
V15 = "registry.example/shop:1.5"
V16 = "registry.example/shop:1.6"


def test_code_mapping():
    expected = {
        1: spr.InvalidError,
        2: spr.NotFoundError,
        3: spr.ConflictError,
        4: spr.RollbackDisabledError,
        5: spr.CurrentVersionError,
        6: spr.IdenticalError,
        7: spr.PrunedError,
        8: spr.NeedsConfirmationError,
        9: spr.NoKeyError,
        10: spr.CorruptError,
        11: spr.BusyError,
        12: spr.StoreIOError,
        13: spr.InternalError,
        14: spr.SnapshotNotReadyError,
        15: spr.SnapshotMismatchError,
        16: spr.UnknownVolumeError,
    }
    for code, cls in expected.items():
        assert spr.error_class(code) is cls
        assert issubclass(cls, spr.SpinnerRollbackError)
        e = cls("boom")
        assert e.code == code and e.name == spr.error_name(code)
        assert cls.__doc__
    assert spr.error_class(77) is spr.SpinnerRollbackError
    e = spr.SpinnerRollbackError("odd", code=77, name="SPR_E_FUTURE", path="$.x")
    assert str(e) == "SPR_E_FUTURE: odd (at $.x)"
    r = pickle.loads(pickle.dumps(spr.ConflictError("moved", path="plan")))
    assert type(r) is spr.ConflictError and r.path == "plan" and r.code == 3 and r.message == "moved"


def test_invalid_with_path(store, state):
    bad = state()
    bad["containers"][0]["ports"][0]["containerPort"] = 70000
    with pytest.raises(spr.InvalidError) as ei:
        store.record("shop", bad)
    e = ei.value
    assert e.code == 1 and e.name == "SPR_E_INVALID"
    assert e.path == "$.containers[0].ports[0].containerPort"
    assert e.message and e.path in str(e)

    unknown = state()
    unknown["colour"] = "blue"
    with pytest.raises(spr.InvalidError) as ei:
        store.record("shop", unknown)
    assert "colour" in ei.value.path

    nan = state()
    nan["instances"] = float("nan")
    with pytest.raises(spr.InvalidError):
        store.record("shop", nan)
    with pytest.raises(spr.InvalidError) as ei:
        store.record("Not_A_Label", state())
    assert ei.value.path == "spinner"
    with pytest.raises(spr.InvalidError) as ei:
        store.record("shop", '{"schemaVersion": 1, "instances": 1, "instances": 2}')
    with pytest.raises(spr.InvalidError):
        store.plan_rollback("shop", 1, scope="everything")


def test_not_found(store, state):
    with pytest.raises(spr.NotFoundError) as ei:
        store.versions("ghost")
    assert ei.value.path == "spinner" and ei.value.code == 2
    store.record("shop", state())
    with pytest.raises(spr.NotFoundError) as ei:
        store.get("shop", 9)
    assert ei.value.path == "number"
    with pytest.raises(spr.NotFoundError):
        store.spinner_info("ghost")
    with pytest.raises(spr.NotFoundError):
        store.delete_snapshot("snap-none")
    with pytest.raises(spr.NotFoundError):
        store.plan_auto_rollback("shop")  # nothing was ever active


def test_current_version_and_identical(store, state):
    store.record("shop", state(image=V14))
    with pytest.raises(spr.CurrentVersionError) as ei:
        store.plan_rollback("shop", 1)
    assert ei.value.code == 5
    store.record("shop", state(image=V15))
    store.record("shop", state(image=V14))  # v3 == v1 in tracked content
    with pytest.raises(spr.IdenticalError):
        store.plan_rollback("shop", 1)


def test_rollback_disabled(store, state):
    store.record("shop", state(image=V14))
    store.record("shop", state(image=V15))
    store.record("shop", state(image=V15, enabled=False))
    with pytest.raises(spr.RollbackDisabledError) as ei:
        store.plan_rollback("shop", 1)
    assert ei.value.code == 4


def test_pruned(store, state):
    for i in range(4):
        store.record("shop", state(instances=i + 1, history_limit=1))
    assert [v.number for v in store.versions("shop")] == [4, 3]
    with pytest.raises(spr.PrunedError) as ei:
        store.get("shop", 1)
    assert ei.value.code == 7
    with pytest.raises(spr.PrunedError):
        store.plan_rollback("shop", 2)
    with pytest.raises(spr.PrunedError):
        store.diff("shop", 1, 4)


def test_conflict(store, state):
    store.record("shop", state(image=V14))
    store.record("shop", state(image=V15))
    plan = store.plan_rollback("shop", 1)
    store.record("shop", state(image=V16))  # current moved since the plan
    with pytest.raises(spr.ConflictError) as ei:
        store.commit(plan)
    assert ei.value.code == 3
    assert [v.number for v in store.versions("shop")] == [3, 2, 1]


def test_altered_plan_is_invalid(store, state):
    store.record("shop", state(image=V14))
    store.record("shop", state(image=V15))
    plan = store.plan_rollback("shop", 1)
    tampered = plan.json.replace('"instances":2', '"instances":9')
    assert tampered != plan.json
    with pytest.raises(spr.InvalidError):
        store.commit(tampered)
    with pytest.raises(spr.InvalidError):
        store.commit("{}")


def test_needs_confirmation(store, state):
    store.record("shop", state(image=V14, volume_id="vol-a"))
    store.record("shop", state(image=V15, volume_id="vol-b"))
    store.register_snapshot("snap-a", "vol-a", 2**30, storage_class="standard")
    plan = store.plan_rollback("shop", 1, data={"data": {"snapshot": "snap-a"}})
    assert plan.requires_confirmation
    with pytest.raises(spr.NeedsConfirmationError) as ei:
        store.commit(plan)
    assert ei.value.path == "meta.confirmed"
    assert store.commit(plan, confirmed=True).rollback_of == 1


def test_snapshot_errors(store, state):
    store.record("shop", state(image=V14, volume_id="vol-a"))
    store.record("shop", state(image=V15, volume_id="vol-b"))
    store.register_snapshot("snap-wip", "vol-a", 2**30, ready=False)
    store.register_snapshot("snap-alien", "vol-zzz", 2**30)
    with pytest.raises(spr.SnapshotNotReadyError) as ei:
        store.plan_rollback("shop", 1, data={"data": spr.FromSnapshot("snap-wip")})
    assert ei.value.code == 14
    with pytest.raises(spr.SnapshotMismatchError) as ei:
        store.plan_rollback("shop", 1, data={"data": spr.FromSnapshot("snap-alien")})
    assert ei.value.code == 15
    with pytest.raises(spr.NotFoundError) as ei:
        store.plan_rollback("shop", 1, data={"data": {"snapshot": "snap-nope"}})
    assert "snapshot" in ei.value.path
    with pytest.raises(spr.UnknownVolumeError) as ei:
        store.plan_rollback("shop", 1, data={"logs": "current"})
    assert ei.value.code == 16
    with pytest.raises(spr.InvalidError):
        store.register_snapshot("snap-x", "vol-a", 10, created_at="yesterday")


def test_store_io_error(tmp_path):
    with pytest.raises(spr.StoreIOError) as ei:
        spr.Store(tmp_path / "no" / "such" / "dir" / "x.db")
    assert ei.value.code == 12 and ei.value.path == "path"


def test_corrupt_file(tmp_path):
    p = tmp_path / "garbage.db"
    p.write_bytes(b"this is not a database, " * 500)
    with pytest.raises(spr.CorruptError) as ei:
        spr.Store(p)
    assert ei.value.code == 10


def test_busy(tmp_path, state):
    p = tmp_path / "busy.db"
    with spr.Store(p, key=KEY) as s:
        s.record("shop", state())
    holder = sqlite3.connect(str(p), isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(spr.BusyError) as ei:
            with spr.Store(p, key=KEY, busy_timeout_ms=50) as s:
                s.record("shop", state(image=V15))
        assert ei.value.code == 11
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with spr.Store(p, key=KEY) as s:
        assert s.record("shop", state(image=V15)).created


def test_errors_are_per_thread(store, state):
    """An error on one thread is read on that thread, never another's."""
    import threading

    store.record("shop", state())
    results = {}

    def worker(i: int) -> None:
        got = []
        for _ in range(30):
            try:
                if i % 2:
                    store.get("shop", 99)
                else:
                    store.plan_rollback("shop", 1)
            except spr.SpinnerRollbackError as e:
                got.append(type(e))
        results[i] = set(got)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for i, kinds in results.items():
        assert kinds == ({spr.NotFoundError} if i % 2 else {spr.CurrentVersionError})

"""The event outbox (C API 0.2): Store.events, Store.wait_events, Store.follow."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import datetime

import pytest

import spinner_rollback as spr
from conftest import KEY, SECRET, make_state

V14 = "registry.example/shop:1.4"
V15 = "registry.example/shop:1.5"
V16 = "registry.example/shop:1.6"

#: A generous bound for "promptly" (the library polls every ~25 ms).
PROMPT = 2.0


def _all_events(store):
    """Every kept event, paged 3 at a time (exercises ``next``)."""
    out, after = [], 0
    while True:
        page = store.events(after=after, limit=3)
        assert len(page) <= 3
        if not page:
            assert page.next == after
            return out
        assert page.next == page.events[-1].seq
        out += page.events
        after = page.next


def _other_handle(store):
    return spr.Store(store.path, key=KEY, busy_timeout_ms=10000)


def test_changes_produce_events_in_order(store):
    store.record("shop", make_state(image=V14), author="ci")
    store.record("shop", make_state(image=V15), author="ci")
    store.record("shop", make_state(image=V15))  # unchanged: no event
    store.tag("shop", 1, "known-good", note="before 1.5", author="alice")
    store.annotate("shop", 2, "v2 broke checkout", author="bob")
    store.set_status("shop", 2, "failed")
    store.register_snapshot("snap-1", "vol-7f3a", 2 * 2**30, storage_class="standard")
    plan = store.plan_rollback("shop", 1)
    store.commit(plan, author="alice", message="undo 1.5")
    store.delete_snapshot("snap-1")
    store.untag("shop", "known-good")
    store.record("shop", make_state(image=V16, enabled=False))  # rollback switched off
    store.record("shop", make_state(image=V16))  # and on again: a "reenabled" version

    events = _all_events(store)
    assert [(e.type, e.spinner, e.version) for e in events] == [
        ("version.created", "shop", 1),
        ("version.created", "shop", 2),
        ("tag.set", "shop", 1),
        ("note.added", "shop", 2),
        ("status.changed", "shop", 2),
        ("snapshot.registered", None, None),
        ("version.created", "shop", 3),
        ("rollback.committed", "shop", 3),
        ("snapshot.deleted", None, None),
        ("tag.removed", "shop", 1),
        ("rollback.disabled", "shop", None),
        ("rollback.enabled", "shop", None),
        ("version.created", "shop", 4),
    ]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # gap-free
    assert {e.type for e in events} <= set(spr.EVENT_TYPES)

    by_type = {}
    for e in events:
        by_type.setdefault(e.type, []).append(e)
    first = by_type["version.created"][0]
    assert first.data["reason"] == "deploy" and first.data["digest"].startswith("sha256:")
    assert first.data["digest"] == store.get("shop", 1).version.digest
    rb_version = by_type["version.created"][2]
    assert rb_version.data["reason"] == "rollback" and rb_version.data["rollbackOf"] == 1
    assert by_type["rollback.committed"][0].data["target"] == 1
    assert by_type["rollback.committed"][0].data["planId"] == plan.plan_id
    assert by_type["tag.set"][0].data == {"name": "known-good", "author": "alice"}
    assert by_type["tag.removed"][0].data == {"name": "known-good"}
    assert by_type["note.added"][0].data == {"author": "bob", "text": "v2 broke checkout"}
    assert by_type["status.changed"][0].data == {"status": "failed"}
    assert by_type["snapshot.registered"][0].data["id"] == "snap-1"
    assert by_type["snapshot.registered"][0].data["volume"] == "vol-7f3a"
    assert by_type["snapshot.deleted"][0].data == {"id": "snap-1"}
    assert by_type["version.created"][3].data["reason"] == "reenabled"

    # Types: frozen dataclasses with aware timestamps, non-decreasing.
    e = events[0]
    assert isinstance(e, spr.Event) and isinstance(e.at, datetime) and e.at.tzinfo is not None
    assert [x.at for x in events] == sorted(x.at for x in events)
    assert e.raw["seq"] == 1 and e.raw["type"] == "version.created"
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.seq = 7  # type: ignore[misc]
    page = store.events()
    assert isinstance(page, spr.EventPage) and list(page) == events and page.next == len(events)
    assert page.raw["next"] == len(events)
    # The store the events belong to.
    assert page.store_id == store.info().store_id and page.raw["storeId"] == page.store_id


def test_pruned_event_lists_numbers(store):
    for image in (V14, V15, V16):
        store.record("shop", make_state(image=image, history_limit=20))
    store.record("shop", make_state(image=V14, history_limit=1))  # lowers the limit, prunes at once
    pruned = [e for e in store.events() if e.type == "versions.pruned"]
    assert len(pruned) == 1
    (p,) = pruned
    assert p.spinner == "shop" and p.version is None
    gone = set(p.data["numbers"])
    assert gone and gone.isdisjoint(v.number for v in store.versions("shop"))


def test_paging(store):
    for i in range(7):
        store.record("shop", make_state(instances=i + 1))
    p1 = store.events(limit=3)
    assert [e.seq for e in p1] == [1, 2, 3] and p1.next == 3
    p2 = store.events(after=p1.next, limit=3)
    assert [e.seq for e in p2] == [4, 5, 6] and p2.next == 6
    p3 = store.events(after=p2.next, limit=3)
    assert [e.seq for e in p3] == [7] and p3.next == 7
    end = store.events(after=p3.next, limit=3)
    assert not end and len(end) == 0 and end.next == 7
    assert store.events(after=1000).next == 1000  # past the end: next is what was asked
    assert [e.seq for e in store.events(after=5, limit=10000)] == [6, 7]


def test_argument_errors(store):
    with pytest.raises(spr.InvalidError) as ei:
        store.events(after=-1)
    assert ei.value.path == "after"
    for bad in (0, 10001):
        with pytest.raises(spr.InvalidError) as ei:
            store.events(limit=bad)
        assert ei.value.path == "limit"
    with pytest.raises(spr.InvalidError) as ei:
        store.events(after=2**63)
    assert ei.value.path == "after"
    with pytest.raises(TypeError):
        store.events(after="1")  # type: ignore[arg-type]
    with pytest.raises(spr.InvalidError) as ei:
        store.wait_events(after=-1, timeout=0)
    assert ei.value.path == "after"
    for bad in (-0.001, 3600.5, float("nan"), float("inf")):
        with pytest.raises(spr.InvalidError) as ei:
            store.wait_events(timeout=bad)
        assert ei.value.path == "timeout"
    for bad_type in (True, "1", None):
        with pytest.raises(TypeError):
            store.wait_events(timeout=bad_type)  # type: ignore[arg-type]
    # follow() checks its arguments at once, not on the first next().
    with pytest.raises(spr.InvalidError) as ei:
        store.follow(after=-1)
    assert ei.value.path == "after"
    with pytest.raises(spr.InvalidError) as ei:
        store.follow(poll_timeout=-1)
    assert ei.value.path == "poll_timeout"


def test_no_secret_in_any_event(store):
    other = "Other-" + SECRET
    store.record("shop", make_state(), author="ci", message="first")
    store.record("shop", make_state(secret=other))  # a secretValues change makes a version
    store.record("shop", make_state(secret=other, image=V15))
    store.tag("shop", 2, "rotated")
    store.annotate("shop", 2, "rotated the db password")
    store.commit(store.plan_rollback("shop", 1))
    store.set_status("shop", 4, "active")
    types = {e.type for e in store.events()}
    assert {"version.created", "rollback.committed", "tag.set", "note.added", "status.changed"} <= types
    assert any(
        e.type == "version.created" and e.version == 2 for e in store.events()
    )  # the secret-only change has its event
    texts = [json.dumps(store.events().raw), repr(store.events())]
    texts.append(json.dumps(store.wait_events(timeout=0).raw))
    for t in texts:
        assert SECRET not in t and other not in t


def test_events_limit_keeps_newest(db_path):
    with spr.Store(db_path, key=KEY, events_limit=5) as s:
        for i in range(9):
            s.record("shop", make_state(instances=i + 1))
        s.tag("shop", 9, "last")
        page = s.events()
        assert [e.seq for e in page] == [6, 7, 8, 9, 10]  # the newest 5 of 10
        assert page.events[-1].type == "tag.set"
        assert s.events(after=0, limit=2).events[0].seq == 6
    # The limit is an open option: reopening with a larger one keeps what is left.
    with spr.Store(db_path, key=KEY) as s:
        assert [e.seq for e in s.events()] == [6, 7, 8, 9, 10]
        s.record("shop", make_state(instances=100))
        assert s.events().next == 11


@pytest.mark.parametrize("bad", [0, 100_000_001, -1])
def test_events_limit_out_of_range(db_path, bad):
    with pytest.raises(spr.InvalidError) as ei:
        spr.Store(db_path, key=KEY, events_limit=bad)
    assert ei.value.path == "options.eventsLimit"


def test_wait_events_returns_empty_at_timeout(store):
    store.record("shop", make_state())
    # Events already there: returned at once.
    t0 = time.monotonic()
    page = store.wait_events(after=0, timeout=30)
    assert [e.seq for e in page] == [1] and time.monotonic() - t0 < PROMPT
    # None after seq 1: an empty page when the time is up, not before.
    t0 = time.monotonic()
    page = store.wait_events(after=1, timeout=0.3)
    elapsed = time.monotonic() - t0
    assert not page and page.next == 1
    assert 0.29 <= elapsed < PROMPT
    # timeout 0: one look, no wait.
    t0 = time.monotonic()
    assert not store.wait_events(after=1, timeout=0)
    assert time.monotonic() - t0 < 0.5
    # A wait longer than one slice (1 s) still ends on time.
    t0 = time.monotonic()
    assert not store.wait_events(after=1, timeout=1.3)
    assert 1.29 <= time.monotonic() - t0 < 1.3 + PROMPT


def test_wait_events_wakes_when_another_handle_records(store):
    store.record("shop", make_state())
    start = store.events().next
    result = {}

    def waiter() -> None:
        t0 = time.monotonic()
        try:
            result["page"] = store.wait_events(after=start, timeout=30)
        except BaseException as e:  # pragma: no cover - reported below
            result["error"] = e
        result["elapsed"] = time.monotonic() - t0

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.3)  # the waiter is waiting
    with _other_handle(store) as other:
        recorded_at = time.monotonic()
        other.record("shop", make_state(image=V15), author="elsewhere")
    th.join(timeout=10)
    assert not th.is_alive()
    assert "error" not in result, result.get("error")
    page = result["page"]
    assert [(e.seq, e.type, e.version) for e in page] == [(start + 1, "version.created", 2)]
    assert page.next == start + 1
    assert result["elapsed"] >= 0.25  # it really waited …
    assert time.monotonic() - recorded_at < PROMPT  # … and woke promptly


def test_waiting_does_not_block_other_threads(store):
    store.record("shop", make_state())
    th = threading.Thread(target=store.wait_events, kwargs={"after": 1, "timeout": 5})
    th.start()
    time.sleep(0.2)
    # The same Store, other calls, while the wait is in progress.
    t0 = time.monotonic()
    for i in range(5):
        store.versions("shop")
        store.events()
    store.spinner_info("shop")
    assert time.monotonic() - t0 < 1.0
    assert th.is_alive()
    store.record("shop", make_state(image=V15))  # ends the wait
    th.join(timeout=PROMPT)
    assert not th.is_alive()


def test_close_ends_a_wait_in_progress(db_path):
    s = spr.Store(db_path, key=KEY)
    s.record("shop", make_state())
    outcome = {}

    def waiter() -> None:
        try:
            outcome["page"] = s.wait_events(after=1, timeout=60)
        except spr.StoreClosedError as e:
            outcome["closed"] = e

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    s.close()  # waits for the slice in progress (at most ~1 s), not the full minute
    th.join(timeout=PROMPT + 1)
    assert not th.is_alive()
    assert time.monotonic() - t0 < PROMPT
    assert "closed" in outcome and "page" not in outcome
    with pytest.raises(spr.StoreClosedError):
        s.events()
    with pytest.raises(spr.StoreClosedError):
        s.wait_events(timeout=0)
    with pytest.raises(spr.StoreClosedError):
        s.follow()


def test_follow_in_a_thread_sees_another_handle(store):
    store.record("shop", make_state())
    seen = []
    errors = []

    def follower() -> None:
        try:
            for e in store.follow(after=0, poll_timeout=0.5):
                seen.append(e)
                if len(seen) == 4:
                    break
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    th = threading.Thread(target=follower)
    th.start()
    time.sleep(0.3)
    with _other_handle(store) as other:
        other.record("shop", make_state(image=V15))
        time.sleep(0.7)  # more than a poll_timeout between two events
        other.tag("shop", 2, "canary")
        other.annotate("shop", 2, "looks fine")
    th.join(timeout=10)
    assert not th.is_alive() and errors == []
    assert [(e.seq, e.type, e.version) for e in seen] == [
        (1, "version.created", 1),
        (2, "version.created", 2),
        (3, "tag.set", 2),
        (4, "note.added", 2),
    ]


def test_follow_resumes_after_a_seq(store):
    for i in range(5):
        store.record("shop", make_state(instances=i + 1))
    it = store.follow(after=3)
    assert [next(it).seq, next(it).seq] == [4, 5]
    it.close()  # stopping iteration is how a follow ends
    other = _other_handle(store)
    try:
        gen = other.follow(after=4, poll_timeout=0.2)
        assert next(gen).seq == 5
    finally:
        other.close()
    with pytest.raises(spr.StoreClosedError):
        next(gen)  # the store is closed: the generator raises

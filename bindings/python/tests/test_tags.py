"""Tags, notes, expected_current (compare-and-set) and partial-scope rollbacks (C API 0.2)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

import spinner_rollback as spr
from conftest import KEY

V14 = "registry.example/shop:1.4"
V15 = "registry.example/shop:1.5"
V16 = "registry.example/shop:1.6"


def _three_versions(store, state):
    store.record("shop", state(image=V14))
    store.record("shop", state(image=V15))
    store.record("shop", state(image=V16))


# -- tags --------------------------------------------------------------------


def test_tag_shows_in_listing(store, state):
    _three_versions(store, state)
    v = store.tag("shop", 1, "known-good", note="last release before 1.5", author="alice")
    assert isinstance(v, spr.Version) and v.number == 1
    assert [t.name for t in v.tags] == ["known-good"]
    (t,) = v.tags
    assert isinstance(t, spr.Tag)
    assert t.note == "last release before 1.5" and t.author == "alice"
    assert isinstance(t.created_at, datetime) and t.created_at.tzinfo is not None

    listed = {x.number: x for x in store.versions("shop")}
    assert listed[1].tags == v.tags
    assert listed[2].tags == [] and listed[3].tags == []
    assert store.versions_page("shop", before=2, limit=10)[0].tags == v.tags
    assert store.get("shop", 1).version.tags == v.tags
    assert store.tagged_version("shop", "known-good") == 1

    # Tagging the holder again updates the note; positional note/author work too.
    again = store.tag("shop", 1, "known-good", "re-checked", "bob")
    assert [(t.name, t.note, t.author) for t in again.tags] == [("known-good", "re-checked", "bob")]

    # A second name on the same version; tags are sorted by name.
    both = store.tag("shop", 1, "audit")
    assert [t.name for t in both.tags] == ["audit", "known-good"]
    assert both.tags[0].note == "" and both.tags[0].author == ""


def test_tag_conflict_and_move(store, state):
    _three_versions(store, state)
    store.tag("shop", 1, "stable")
    with pytest.raises(spr.ConflictError) as ei:
        store.tag("shop", 2, "stable")
    assert ei.value.code == 3 and ei.value.name == "SPR_E_CONFLICT"
    assert store.tagged_version("shop", "stable") == 1  # nothing moved

    moved = store.tag("shop", 2, "stable", move=True)
    assert moved.number == 2 and [t.name for t in moved.tags] == ["stable"]
    assert store.tagged_version("shop", "stable") == 2
    assert {v.number: [t.name for t in v.tags] for v in store.versions("shop")} == {
        3: [],
        2: ["stable"],
        1: [],
    }


def test_untag(store, state):
    _three_versions(store, state)
    store.tag("shop", 2, "canary")
    store.untag("shop", "canary")
    assert all(v.tags == [] for v in store.versions("shop"))
    with pytest.raises(spr.NotFoundError) as ei:
        store.tagged_version("shop", "canary")
    assert ei.value.code == 2
    with pytest.raises(spr.NotFoundError):
        store.untag("shop", "canary")
    with pytest.raises(spr.NotFoundError):
        store.untag("shop", "never-existed")
    with pytest.raises(spr.NotFoundError):
        store.untag("nobody", "canary")


def test_tag_errors(store, state):
    _three_versions(store, state)
    with pytest.raises(spr.NotFoundError):
        store.tag("shop", 99, "x")
    with pytest.raises(spr.NotFoundError):
        store.tag("nobody", 1, "x")
    with pytest.raises(spr.InvalidError) as ei:
        store.tag("shop", 1, "Not A Label")
    assert ei.value.path.startswith("tag")
    with pytest.raises(TypeError):
        store.tag("shop", 1, "ok", move="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.tag("shop", 1, 5)  # type: ignore[arg-type]


def test_max_tagged_versions(tmp_path, state):
    with spr.Store(tmp_path / "t.db", key=KEY, max_tagged_versions=1) as store:
        _three_versions(store, state)
        store.tag("shop", 1, "one")
        store.tag("shop", 1, "two")  # same version: still one tagged version
        with pytest.raises(spr.ConflictError) as ei:
            store.tag("shop", 2, "three")
        assert ei.value.code == 3
        assert "maxTaggedVersions 1" in str(ei.value)
        assert [v.tags for v in store.versions("shop")][1] == []
        with pytest.raises(spr.ConflictError):
            store.tag("shop", 2, "one", move=True)  # v1 keeps "two": two tagged versions
        store.untag("shop", "two")
        moved = store.tag("shop", 2, "one", move=True)  # v1 is left untagged: still one
        assert [t.name for t in moved.tags] == ["one"]
        assert [[t.name for t in v.tags] for v in store.versions("shop")] == [[], ["one"], []]
    with pytest.raises(spr.InvalidError) as ei:
        spr.Store(tmp_path / "bad.db", max_tagged_versions=0)
    assert ei.value.path == "options.maxTaggedVersions"


def test_tagged_version_survives_pruning(store, state):
    store.record("shop", state(image=V14, history_limit=1))
    store.tag("shop", 1, "golden", note="keep me")
    for i, image in enumerate((V15, V16, "registry.example/shop:1.7"), start=2):
        r = store.record("shop", state(image=image, history_limit=1))
        assert r.created and r.version is not None and r.version.number == i
    # historyLimit 1 keeps the current version and one older one (v3): the
    # untagged v2 was pruned, the tagged v1 is kept outside the limit.
    assert [v.number for v in store.versions("shop")] == [4, 3, 1]
    with pytest.raises(spr.PrunedError):
        store.get("shop", 2)
    kept = store.get("shop", 1)
    assert kept.state["containers"][0]["image"]["reference"] == V14
    assert [t.name for t in kept.version.tags] == ["golden"]
    # A tagged version is still a rollback target.
    plan = store.plan_rollback("shop", 1)
    assert plan.target_version == 1 and plan.base_version == 4

    # Untagged, it is subject to retention again from the next write.
    store.untag("shop", "golden")
    store.record("shop", state(image=V14, instances=5, history_limit=1))
    assert [v.number for v in store.versions("shop")] == [5, 4]
    with pytest.raises(spr.PrunedError):
        store.get("shop", 1)


# -- notes -------------------------------------------------------------------


def test_annotate_appends_once_and_get_shows_notes(store, state):
    _three_versions(store, state)
    assert store.get("shop", 2).notes == []
    notes = store.annotate("shop", 2, "v2 broke checkout", author="alice")
    assert len(notes) == 1 and isinstance(notes[0], spr.Note)
    assert notes[0].text == "v2 broke checkout" and notes[0].author == "alice"
    assert isinstance(notes[0].created_at, datetime)

    again = store.annotate("shop", 2, "v2 broke checkout", author="alice")  # a retry
    assert again == notes

    more = store.annotate("shop", 2, "rolled back at 14:02")
    assert [(n.author, n.text) for n in more] == [("alice", "v2 broke checkout"), ("", "rolled back at 14:02")]

    detail = store.get("shop", 2)
    assert detail.notes == more
    assert "notes" not in detail.version.raw and "state" not in detail.version.raw
    assert store.get("shop", 1).notes == []


def test_annotate_errors(store, state):
    _three_versions(store, state)
    with pytest.raises(spr.InvalidError) as ei:
        store.annotate("shop", 1, "")
    assert ei.value.path == "note.text"
    with pytest.raises(spr.InvalidError):
        store.annotate("shop", 1, "x" * 4097)
    with pytest.raises(spr.NotFoundError):
        store.annotate("shop", 42, "nope")
    with pytest.raises(TypeError):
        store.annotate("shop", 1, None)  # type: ignore[arg-type]


# -- expected_current ----------------------------------------------------------


def test_record_expected_current(store, state):
    assert store.record("shop", state(image=V14), expected_current=0).version.number == 1
    with pytest.raises(spr.ConflictError):
        store.record("shop", state(image=V15), expected_current=0)
    assert store.record("shop", state(image=V15), expected_current=1).version.number == 2

    before = store.versions("shop")
    info = store.spinner_info("shop")
    with pytest.raises(spr.ConflictError) as ei:
        store.record("shop", state(image=V16), expected_current=1, author="late")
    assert ei.value.code == 3
    assert store.versions("shop") == before  # nothing written
    after = store.spinner_info("shop")
    assert after.current_version == 2 and after.last_recorded_at == info.last_recorded_at
    # The rejected state did not become the latest state either: recording it
    # for real still creates v3 (and the earlier state would be "unchanged").
    assert store.record("shop", state(image=V16), expected_current=2).version.number == 3

    with pytest.raises(spr.InvalidError) as ei:
        store.record("shop", state(image=V14), expected_current=-1)
    assert ei.value.path == "meta.expectedCurrent"
    with pytest.raises(TypeError):
        store.record("shop", state(image=V14), expected_current="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.record("shop", state(image=V14), expected_current=True)  # type: ignore[arg-type]


def test_commit_expected_current(store, state):
    _three_versions(store, state)
    plan = store.plan_rollback("shop", 1)
    with pytest.raises(spr.ConflictError):
        store.commit(plan, expected_current=2)
    assert [v.number for v in store.versions("shop")] == [3, 2, 1]
    v = store.commit(plan, expected_current=3)
    assert v.number == 4 and v.rollback_of == 1


# -- partial-scope rollbacks -------------------------------------------------


def test_partial_scope_rollback(store, state):
    store.record("shop", state(image=V14))
    store.record("shop", state(image=V15, env_extra={"FEATURE_X": "on"}))
    full = store.plan_rollback("shop", 1)
    assert set(full.diff.categories) == {"image", "env"}
    assert full.scope == "tracked"

    plan = store.plan_rollback("shop", 1, scope=["image"])
    assert plan.scope == ["image"]
    assert json.loads(plan.json)["request"]["scope"] == ["image"]
    assert plan.diff.categories == ["image"]
    assert all(c.category == "image" for c in plan.diff)
    env = {e["name"]: e.get("value") for e in plan.state["containers"][0]["env"]}
    assert env["FEATURE_X"] == "on"  # env kept as it is now
    assert plan.state["containers"][0]["image"]["reference"] == V14

    v = store.commit(plan, author="alice")
    assert v.number == 3 and v.reason == "rollback" and v.rollback_of == 1
    assert v.scope == ["image"]
    vs = store.versions("shop")
    assert vs[0].number == 3 and vs[0].scope == ["image"]
    assert vs[1].scope is None and vs[2].scope is None  # deploys have no scope
    assert store.get("shop", 3).version.scope == ["image"]


def test_scope_forms(store, state):
    store.record("shop", state(image=V14, labels={"team": "shop"}))
    store.record("shop", state(image=V15, instances=3, labels={"team": "platform"}))
    # Strings keep working; tuples and sets are lists of categories.
    assert store.plan_rollback("shop", 1, scope="tracked").scope == "tracked"
    assert store.plan_rollback("shop", 1, scope="all").state["labels"] == {"team": "shop"}
    p = store.plan_rollback("shop", 1, scope=("instances", "image"))
    assert p.scope == ["image", "instances"]  # the library's (documentation) order
    assert set(p.diff.categories) == {"image", "instances"}
    assert store.plan_rollback("shop", 1, scope={"instances"}).diff.categories == ["instances"]
    # A committed "all" rollback records it.
    assert store.commit(store.plan_rollback("shop", 1, scope="all")).scope == "all"

    with pytest.raises(spr.InvalidError) as ei:
        store.plan_rollback("shop", 1, scope=["labels"])
    assert ei.value.path == "request.scope[0]"
    with pytest.raises(spr.InvalidError):
        store.plan_rollback("shop", 1, scope=[])
    with pytest.raises(spr.InvalidError):
        store.plan_rollback("shop", 1, scope="partial")
    with pytest.raises(TypeError):
        store.plan_rollback("shop", 1, scope=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        store.plan_rollback("shop", 1, scope=b"all")  # type: ignore[arg-type]


# -- restore points ----------------------------------------------------------


def test_restore_points_rank_snapshots_against_the_version(store, state):
    store.register_snapshot("snap-old", "vol-7f3a", 1 << 30, created_at="2000-01-01T00:00:00Z")
    store.record("shop", state(image=V14))
    v1 = store.get("shop", 1).version
    store.register_snapshot("snap-v1", "vol-7f3a", 1 << 30, created_at=v1.created_at)
    store.register_snapshot("snap-other", "vol-other", 1, created_at="2001-01-01T00:00:00Z")

    rp = store.restore_points("shop", 1)
    assert isinstance(rp, spr.RestorePoints)
    assert rp.number == 1 and rp.current_until is None  # still current
    (vol,) = rp.volumes
    assert vol.volume == "data" and vol.volume_ids == ["vol-7f3a"]
    assert [(p.snapshot.id, p.relation) for p in vol.snapshots] == [("snap-v1", "during"), ("snap-old", "before")]

    store.record("shop", state(image=V15))
    store.register_snapshot("snap-later", "vol-7f3a", 1 << 30, created_at="2999-01-01T00:00:00Z")
    rp = store.restore_points("shop", 1)
    assert rp.current_until == store.get("shop", 2).version.created_at
    assert [p.relation for p in rp.volumes[0].snapshots] == ["during", "before", "after"]

    with pytest.raises(spr.NotFoundError):
        store.restore_points("shop", 9)

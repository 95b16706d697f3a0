"""evaluate_policy and host-configured triggers."""

from __future__ import annotations

import pytest

import spinner_rollback as spr
from conftest import KEY, make_state


def test_first_state_is_created():
    d = spr.evaluate_policy(None, make_state())
    assert isinstance(d, spr.Decision)
    assert d.snapshot and d.outcome == "created" and d.reasons == [spr.Reason("first", "$")]


def test_default_triggers():
    a = make_state()
    d = spr.evaluate_policy(a, make_state(image="registry.example/shop:1.5", instances=5))
    assert d.snapshot and d.outcome == "created"
    assert {(r.category, r.path) for r in d.reasons} == {
        ("image", "containers[web].image"),
        ("instances", "instances"),
    }
    assert spr.evaluate_policy(a, make_state(labels={"x": "y"})).outcome == "unchanged"
    d = spr.evaluate_policy(a, make_state(secret="rotated"))
    assert d.snapshot and [r.category for r in d.reasons] == ["secretValues"]
    d = spr.evaluate_policy(a, make_state(image="registry.example/shop:1.5", enabled=False))
    assert not d.snapshot and d.outcome == "disabled" and d.reasons == []


def test_custom_triggers_dict_or_list():
    a = make_state(labels={"team": "shop"})
    b = make_state(instances=9, labels={"team": "shop"})
    b["extensions"] = {"team": {"tier": "gold"}}
    for policy in ({"triggers": ["image", "extensions.team.tier"]}, ["image", "extensions.team.tier"]):
        d = spr.evaluate_policy(a, b, policy)
        assert d.snapshot and [(r.category, r.path) for r in d.reasons] == [
            ("extensions", "extensions.team.tier")
        ]
    assert spr.evaluate_policy(a, b, []).outcome == "unchanged"
    with pytest.raises(spr.InvalidError) as ei:
        spr.evaluate_policy(a, b, ["colour"])
    assert ei.value.path == "policy.triggers[0]"
    with pytest.raises(spr.InvalidError):
        spr.evaluate_policy(a, "{", None)


def test_store_with_policy(tmp_path):
    with spr.Store(tmp_path / "p.db", key=KEY, policy=["image"]) as s:
        assert s.record("shop", make_state()).created
        assert s.record("shop", make_state(instances=7)).outcome == "unchanged"
        r = s.record("shop", make_state(instances=7, image="registry.example/shop:1.5"))
        assert r.created and [x.category for x in r.reasons] == ["image"]

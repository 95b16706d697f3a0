"""Model-based (stateful) test: the real store against tests/model.py.

A Hypothesis rule-based state machine records states (also as a
compare-and-set with expected_current), reports statuses,
plans and commits rollbacks (at once and later, against a store that may have
moved), tags and untags versions, reads versions back with their secrets,
reopens the store and feeds bad input, on a fresh store per example; after every step it compares
the store with the reference model: every spinner's listing (numbers, current
flag, reason, policy reasons, status, rollbackOf, tags), the error class of
every refused call, and the event outbox (gap-free seq, the same events in
the same order).

Engine: a SQLite file per example, or, when SPR_TEST_POSTGRES names a
PostgreSQL server (a libpq URI), a fresh schema on it per example (as
tests/support/backend.hpp does; needs psql).

Budget: SPR_MODEL_EXAMPLES (default 60) examples of up to
SPR_MODEL_STEPS (default 25) steps; scripts/model-test.sh runs many more.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from typing import Any, Dict, List, Optional

import pytest

# Hypothesis' caches go to a temporary directory, not into the source tree.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "spr-model-hypothesis"))

# Not importorskip: run_tests.sh and test_wheel.sh install hypothesis, and a
# missing one must fail the run rather than skip the model silently.
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import model as m
import spinner_rollback as spr
from conftest import KEY, make_state

SPINNERS = ["shop", "cart"]
UNKNOWN = "ghost"
TAGS = ["gold", "blue"]
IMAGES = ["registry.example/shop:1.4", "registry.example/shop:1.5", "registry.example/shop:1.6"]

ERRORS = {
    "invalid": spr.InvalidError,
    "not_found": spr.NotFoundError,
    "conflict": spr.ConflictError,
    "rollback_disabled": spr.RollbackDisabledError,
    "current_version": spr.CurrentVersionError,
    "identical": spr.IdenticalError,
    "pruned": spr.PrunedError,
}

knobs = st.builds(
    m.Knobs,
    image=st.sampled_from(IMAGES),
    instances=st.sampled_from([1, 2, 3]),
    debug=st.booleans(),
    secret=st.sampled_from(["Zq7-s3cret-one", "Zq7-s3cret-two"]),
    enabled=st.sampled_from([True, True, True, False]),
    limit=st.sampled_from([1, 2, 3, 4]),
)


def document(k: m.Knobs) -> Dict[str, Any]:
    """The full state document for the model's knobs."""
    return make_state(
        k.image,
        k.instances,
        secret=k.secret,
        enabled=k.enabled,
        history_limit=k.limit,
        env_extra={"DEBUG": "1"} if k.debug else None,
    )


# -- where stores live -----------------------------------------------------------

_PG = os.environ.get("SPR_TEST_POSTGRES") or None
_counter = itertools.count(1)


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", _PG, "-c", "SET client_min_messages = warning; " + sql],
        check=True,
        capture_output=True,
    )


class Location:
    """A new, empty store location: a SQLite file, or a PostgreSQL schema."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="spr-model-")
        self.schema: Optional[str] = None
        if _PG:
            self.schema = f"model_{os.getpid()}_{next(_counter)}"
            _psql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE; CREATE SCHEMA {self.schema}")
            sep = "&" if "?" in _PG else "?"
            self.path = f"{_PG}{sep}options=-csearch_path%3D{self.schema}"
        else:
            self.path = os.path.join(self.dir, "store.db")

    def remove(self) -> None:
        if self.schema:
            _psql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the state machine -----------------------------------------------------------


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.model = m.Model()
        self.loc = Location()
        self.store = spr.Store(self.loc.path, key=KEY)
        assert self.store.info().engine == ("postgres" if _PG else "sqlite")
        self.seq = 0  # the last event seq seen
        self.plans: List[Any] = []  # (model plan, real plan) kept for a later commit

    def teardown(self) -> None:
        self.store.close()
        self.loc.remove()

    # -- helpers

    def expect(self, fn_model: Any, fn_real: Any) -> Any:
        """Run both; the same error class, or both succeed. -> (model result, real result)."""
        try:
            want = fn_model()
        except m.ModelError as e:
            with pytest.raises(spr.SpinnerRollbackError) as got:
                fn_real()
            assert type(got.value) is ERRORS[e.kind], f"model: {e.kind}, store: {got.value!r}"
            return None, None
        return want, fn_real()

    def number(self, data: Any, spinner: str) -> int:
        sp = self.model.spinners.get(spinner)
        last = sp.last if sp else 0
        return data.draw(st.integers(0, last + 1), label="number")

    # -- rules

    @initialize(spinner=st.sampled_from(SPINNERS), k=knobs, data=st.data())
    def first(self, spinner: str, k: m.Knobs, data: Any) -> None:
        # The store's first write may be refused (compare-and-set): the data
        # key it made must not outlive its transaction (found by fuzz_ops).
        self.record_expecting(spinner, k, data)

    @rule()
    def reopen(self) -> None:
        """A new handle sees exactly what the old one wrote (nothing kept only in memory)."""
        self.store.close()
        self.store = spr.Store(self.loc.path, key=KEY)

    @rule(spinner=st.sampled_from(SPINNERS), k=knobs)
    def record(self, spinner: str, k: m.Knobs) -> None:
        outcome, number = self.model.record(spinner, k)
        r = self.store.record(spinner, document(k))
        assert r.outcome == outcome
        assert (r.version.number if r.version else None) == number

    @rule(spinner=st.sampled_from(SPINNERS), k=knobs, data=st.data())
    def record_expecting(self, spinner: str, k: m.Knobs, data: Any) -> None:
        n = self.number(data, spinner)
        outcome, r = self.expect(lambda: self.model.record(spinner, k, expected_current=n),
                                 lambda: self.store.record(spinner, document(k), expected_current=n))
        if outcome is not None:
            assert (r.outcome, r.version.number if r.version else None) == outcome

    @rule(spinner=st.sampled_from(SPINNERS + [UNKNOWN]), k=knobs,
          bad=st.sampled_from(["instances", "image", "port", "schema"]))
    def record_invalid(self, spinner: str, k: m.Knobs, bad: str) -> None:
        doc = document(k)
        if bad == "instances":
            doc["instances"] = -1
        elif bad == "image":
            doc["containers"][0]["image"]["reference"] = "Not A Reference"
        elif bad == "port":
            doc["containers"][0]["ports"][0]["containerPort"] = 70000
        else:
            doc["schemaVersion"] = 99
        with pytest.raises(spr.InvalidError):
            self.store.record(spinner, doc)

    @rule(spinner=st.sampled_from(SPINNERS + [UNKNOWN]), data=st.data(),
          status=st.sampled_from(list(m.STATUSES) + ["bogus"]))
    def set_status(self, spinner: str, data: Any, status: str) -> None:
        n = self.number(data, spinner)
        self.expect(lambda: self.model.set_status(spinner, n, status),
                    lambda: self.store.set_status(spinner, n, status))

    @rule(spinner=st.sampled_from(SPINNERS + [UNKNOWN]), data=st.data())
    def rollback(self, spinner: str, data: Any) -> None:
        n = self.number(data, spinner)
        plan, real = self.expect(lambda: self.model.plan(spinner, n), lambda: self.store.plan_rollback(spinner, n))
        if plan is None:
            return
        assert (real.base_version, real.target_version) == (plan.base, plan.target)
        number = self.model.commit(plan)
        v = self.store.commit(real)
        assert (v.number, v.reason, v.rollback_of, v.status) == (number, "rollback", n, "pending")

    @rule(spinner=st.sampled_from(SPINNERS), data=st.data())
    def plan_for_later(self, spinner: str, data: Any) -> None:
        n = self.number(data, spinner)
        plan, real = self.expect(lambda: self.model.plan(spinner, n), lambda: self.store.plan_rollback(spinner, n))
        if plan is not None:
            self.plans.append((plan, real))

    @rule(data=st.data())
    def commit_later(self, data: Any) -> None:
        if not self.plans:
            return
        plan, real = self.plans.pop(data.draw(st.integers(0, len(self.plans) - 1), label="plan"))
        self.expect(lambda: self.model.commit(plan), lambda: self.store.commit(real))

    @rule(spinner=st.sampled_from(SPINNERS + [UNKNOWN]), data=st.data(), name=st.sampled_from(TAGS), move=st.booleans())
    def tag(self, spinner: str, data: Any, name: str, move: bool) -> None:
        n = self.number(data, spinner)
        self.expect(lambda: self.model.tag(spinner, n, name, move),
                    lambda: self.store.tag(spinner, n, name, move=move))

    @rule(spinner=st.sampled_from(SPINNERS + [UNKNOWN]), name=st.sampled_from(TAGS))
    def untag(self, spinner: str, name: str) -> None:
        self.expect(lambda: self.model.untag(spinner, name), lambda: self.store.untag(spinner, name))

    @rule(spinner=st.sampled_from(SPINNERS + [UNKNOWN]), data=st.data())
    def get(self, spinner: str, data: Any) -> None:
        n = self.number(data, spinner)
        v, d = self.expect(lambda: self.model.get(spinner, n),
                           lambda: self.store.get(spinner, n, reveal_secrets=True))
        if v is None:
            return
        s, c = d.state, d.state["containers"][0]
        assert d.version.number == n
        assert c["image"]["reference"] == v.knobs.image
        assert s["instances"] == v.knobs.instances
        assert ("DEBUG" in {e["name"] for e in c["env"]}) == v.knobs.debug
        assert s["secrets"]["db"]["password"] == v.knobs.secret
        masked = self.store.get(spinner, n).state
        assert masked["secrets"]["db"]["password"] != v.knobs.secret

    # -- compared after every step

    @invariant()
    def same_listings(self) -> None:
        for name in SPINNERS + [UNKNOWN]:
            if name not in self.model.spinners:
                with pytest.raises(spr.NotFoundError):
                    self.store.versions(name)
                continue
            got = [
                (v.number, v.current, v.reason, v.status, v.rollback_of,
                 tuple(sorted((r.category, r.path) for r in v.reasons)), tuple(t.name for t in v.tags))
                for v in self.store.versions(name)
            ]
            assert got == self.model.listing(name), name

    @invariant()
    def same_events(self) -> None:
        start = self.seq
        got = []
        for e in self.store.events(after=start).events:
            assert e.seq == self.seq + 1, f"event seq {e.seq} after {self.seq}: a gap"
            self.seq = e.seq
            got.append((e.type, e.spinner, e.version, tuple(e.data.get("numbers") or ())))
        assert got == self.model.events[start:]


StoreMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("SPR_MODEL_EXAMPLES", "60")),
    stateful_step_count=int(os.environ.get("SPR_MODEL_STEPS", "25")),
    deadline=None,
    database=None,  # no .hypothesis directory in the source tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestStoreModel = StoreMachine.TestCase


# -- discrepancies found by the model ---------------------------------------------
#
# Regression (found by the state machine): retention keeps "the newest
# historyLimit untagged versions older than the current one"
# (docs/retention.md). For a spinner without tags the library used to count
# a window of version *numbers* instead of the versions still there
# (History::prune), so after an earlier, lower limit had left gaps it pruned a
# version the limit keeps; with a tag on the spinner it counted versions.


@pytest.mark.parametrize("with_tag", [pytest.param(False, id="no-tag"), pytest.param(True, id="tag")])
def test_retention_counts_versions_not_numbers(store: spr.Store, with_tag: bool) -> None:
    for i in (1, 2, 3, 4):
        store.record("shop", make_state(f"registry.example/shop:1.{i}", history_limit=1))
        if i == 1:
            store.set_status("shop", 1, "active")  # kept while active, beyond the limit
    # limit 1: v2 was pruned, v1 kept because active, v3 is the one older version.
    assert [v.number for v in store.versions("shop")] == [4, 3, 1]
    if with_tag:
        store.tag("shop", 4, "gold")  # a tag on the current version changes nothing here
    store.set_status("shop", 4, "active")  # v1 superseded: retention applies to it again
    store.record("shop", make_state("registry.example/shop:1.5", history_limit=3))
    # historyLimit 3 keeps the 3 newest older versions: 4, 3 and 1 (there are only 3).
    assert [v.number for v in store.versions("shop")] == [5, 4, 3, 1]


# Regression (found by the state machine, 2026-12-06, in a 50,000-example
# run): the version whose status is "active" is one of the "newest
# historyLimit untagged versions older than the current one" when it is among
# them (docs/retention.md), so it counts toward the limit. The library counted
# it only when it lay inside the window of versions it read ahead; as a
# retention candidate it was skipped uncounted, so a record that only lowered
# historyLimit ("unchanged") kept one version too many.
def test_active_version_counts_toward_history_limit(store: spr.Store) -> None:
    store.record("cart", make_state("registry.example/shop:1.1", history_limit=1))
    store.record("cart", make_state("registry.example/shop:1.2", history_limit=1))
    store.set_status("cart", 2, "active")
    store.record("cart", make_state("registry.example/shop:1.3", history_limit=2))
    assert [v.number for v in store.versions("cart")] == [3, 2, 1]
    # Only the limit changes: nothing new, and limit 1 keeps v2 (the newest
    # older version, and active); v1 goes at once.
    r = store.record("cart", make_state("registry.example/shop:1.3", history_limit=1))
    assert r.outcome == "unchanged"
    assert [v.number for v in store.versions("cart")] == [3, 2]
    pruned = [e for e in store.events(0).events if e.type == "versions.pruned"]
    assert pruned and pruned[-1].data["numbers"] == [1]


# Found by the state machine (2026-12-06, the second 50,000-example run): the
# model, not the library, was wrong. A plan warns when its target was reported
# failed, commit re-plans and compares digests, so a target reported failed
# after the plan was made (or no longer failed) makes commit refuse with
# SPR_E_CONFLICT (docs/rollback.md): nobody commits a plan whose warning they
# never saw. The model now carries that warning in its plans.
def test_target_reported_failed_after_planning_is_a_conflict(store: spr.Store) -> None:
    model = m.Model()
    for image in ("registry.example/shop:1.1", "registry.example/shop:1.2"):
        store.record("cart", make_state(image))
        model.record("cart", m.Knobs(image=image))
    plan = store.plan_rollback("cart", 1)
    model_plan = model.plan("cart", 1)
    assert not any("reported failed" in w for w in plan.warnings)
    store.set_status("cart", 1, "failed")
    model.set_status("cart", 1, "failed")
    with pytest.raises(spr.ConflictError, match="failed status"):
        store.commit(plan)
    with pytest.raises(m.ModelError, match="conflict"):
        model.commit(model_plan)
    assert [v.number for v in store.versions("cart")] == [2, 1]
    again = store.plan_rollback("cart", 1)
    assert any("reported failed" in w for w in again.warnings)
    assert store.commit(again).number == 3

"""A small, obviously-correct in-memory reference model of the store's contract.

test_model.py drives this model and the real store (over the Python binding)
with the same random operations and compares them after every step. Plain
Python, no library calls. What it models, from ../shared/product.md (§2, §3,
§4, §7.1, §7.4, §7.5), docs/policy.md, docs/retention.md, docs/rollback.md
and docs/events.md:

- a state is a handful of knobs (:class:`Knobs`): tracked content (image,
  instances, an extra env var, the secret value) and settings (rollback
  enabled, historyLimit); everything else of the document is constant;
- record: first enabled state -> v1 (reason "first"), tracked change ->
  new version ("deploy", or "reenabled" after a disabled latest state),
  equal tracked content -> "unchanged", rollback disabled -> "disabled";
- versions numbered 1, 2, ... gap-free and never reused; status "pending" at
  creation; reporting "active" supersedes the previously active one;
- retention (docs/retention.md): kept are the current version, every tagged
  version, the active one, and the newest ``historyLimit`` untagged versions
  older than the current one; applied by every write that creates a version
  and by a record that changes the latest state without creating one; a
  record of exactly the latest state writes nothing;
- rollback plan/commit refusals in the documented order (a plan whose
  warning about a failed target no longer holds, or is now missing, is a
  conflict: docs/rollback.md), the committed
  version (reason "rollback", rollbackOf, status pending, target's tracked
  content with the current settings);
- tags (unique per spinner, ``move``), untag;
- the event outbox: one event per change, in order, gap-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Set, Tuple

STATUSES = ("pending", "active", "failed", "superseded")

class ModelError(Exception):
    """The error the contract requires; ``kind`` is the error's short name."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Knobs:
    """The parts of a state document the model varies."""

    image: str = "registry.example/shop:1.4"
    instances: int = 2
    debug: bool = False  # an extra env var DEBUG=1
    secret: str = "s1"
    enabled: bool = True
    limit: int = 20

    def tracked(self) -> Tuple[str, int, bool, str]:
        return (self.image, self.instances, self.debug, self.secret)

    def reasons(self, other: "Knobs") -> Set[Tuple[str, str]]:
        """The policy's reasons (category, path) from *self* to *other*."""
        r: Set[Tuple[str, str]] = set()
        if self.image != other.image:
            r.add(("image", "containers[web].image"))
        if self.instances != other.instances:
            r.add(("instances", "instances"))
        if self.debug != other.debug:
            r.add(("env", "containers[web].env[DEBUG]"))
        if self.secret != other.secret:
            r.add(("secretValues", "secrets[db][password]"))
        return r


FIRST = {("first", "$")}


@dataclass
class Version:
    number: int
    knobs: Knobs  # the full state it records (settings as of its creation)
    reason: str  # deploy / rollback / reenabled
    reasons: Set[Tuple[str, str]]
    status: str = "pending"
    rollback_of: Optional[int] = None


@dataclass
class Spinner:
    versions: Dict[int, Version] = field(default_factory=dict)  # retained ones
    last: int = 0  # highest number ever given
    current: int = 0
    latest: Optional[Knobs] = None  # the latest recorded state
    tags: Dict[str, int] = field(default_factory=dict)  # name -> number

    def tagged(self) -> Set[int]:
        return set(self.tags.values())


@dataclass
class Plan:
    spinner: str
    base: int
    target: int
    latest: Knobs  # the latest state the plan was made against
    target_failed: bool  # the plan warns that its target was reported failed


Event = Tuple[str, Optional[str], Optional[int], Tuple[int, ...]]  # type, spinner, version, pruned numbers


class Model:
    def __init__(self) -> None:
        self.spinners: Dict[str, Spinner] = {}
        self.events: List[Event] = []

    # -- helpers -------------------------------------------------------------

    def _spinner(self, name: str) -> Spinner:
        if name not in self.spinners:
            raise ModelError("not_found")
        return self.spinners[name]

    def _version(self, sp: Spinner, number: int) -> Version:
        if 1 <= number <= sp.last:
            if number in sp.versions:
                return sp.versions[number]
            raise ModelError("pruned")
        raise ModelError("not_found")

    def _emit(self, type_: str, spinner: Optional[str], version: Optional[int], numbers: Tuple[int, ...] = ()) -> None:
        self.events.append((type_, spinner, version, numbers))

    def _prune(self, name: str, sp: Spinner, created: bool) -> None:
        limit = sp.latest.limit if sp.latest else 20
        tagged = sp.tagged()
        active = {n for n, v in sp.versions.items() if v.status == "active"}
        older = sorted((n for n in sp.versions if n != sp.current and n not in tagged), reverse=True)
        window = older[:limit]
        keep = {sp.current} | tagged | active | set(window)
        doomed = tuple(sorted((n for n in sp.versions if n not in keep), reverse=True))
        if doomed:
            self._emit("versions.pruned", name, None, doomed)
            for n in doomed:
                del sp.versions[n]

    def _append(self, name: str, sp: Spinner, v: Version) -> None:
        sp.versions[v.number] = v
        sp.last = v.number
        sp.current = v.number
        self._emit("version.created", name, v.number)
        self._prune(name, sp, created=True)

    # -- operations ----------------------------------------------------------

    def record(self, name: str, k: Knobs, expected_current: Optional[int] = None) -> Tuple[str, Optional[int]]:
        """-> (outcome, new version number or None)."""
        sp = self.spinners.get(name)
        if expected_current is not None and expected_current != (sp.current if sp else 0):
            raise ModelError("conflict")  # compare-and-set: nothing written
        if sp is not None and sp.latest == k:
            return ("unchanged" if k.enabled else "disabled", None)  # nothing written
        if sp is None:
            sp = self.spinners[name] = Spinner()
        elif sp.latest is not None and sp.latest.enabled != k.enabled:
            self._emit("rollback.enabled" if k.enabled else "rollback.disabled", name, None)
        was_enabled = sp.latest.enabled if sp.latest else True
        sp.latest = k
        cur = sp.versions.get(sp.current)
        if not k.enabled:
            outcome = "disabled"
        elif cur is None:
            outcome = "created"
            self._append(name, sp, Version(sp.last + 1, k, "deploy", set(FIRST)))
            return outcome, sp.current
        elif cur.knobs.tracked() != k.tracked():
            reason = "deploy" if was_enabled else "reenabled"
            self._append(name, sp, Version(sp.last + 1, k, reason, cur.knobs.reasons(k)))
            return "created", sp.current
        else:
            outcome = "unchanged"
        self._prune(name, sp, created=False)
        return outcome, None

    def set_status(self, name: str, number: int, status: str) -> None:
        if status not in STATUSES:
            raise ModelError("invalid")  # arguments are checked before lookups
        sp = self._spinner(name)
        v = self._version(sp, number)
        if status == "active":
            for o in sp.versions.values():
                if o.status == "active" and o.number != number:
                    o.status = "superseded"
        v.status = status
        self._emit("status.changed", name, number)

    def plan(self, name: str, target: int) -> Plan:
        sp = self._spinner(name)
        if sp.latest is None or not sp.latest.enabled:
            raise ModelError("rollback_disabled")
        if sp.current == 0:
            raise ModelError("not_found")
        if target == sp.current:
            raise ModelError("current_version")
        t = self._version(sp, target)
        if t.knobs.tracked() == sp.versions[sp.current].knobs.tracked():
            raise ModelError("identical")
        return Plan(name, sp.current, target, sp.latest, t.status == "failed")

    def commit(self, plan: Plan) -> int:
        sp = self._spinner(plan.spinner)
        if sp.current != plan.base:
            raise ModelError("conflict")
        self.plan(plan.spinner, plan.target)  # the same refusals as planning now
        t = sp.versions[plan.target]
        if sp.latest != plan.latest or (t.status == "failed") != plan.target_failed:
            raise ModelError("conflict")  # the plan no longer matches the store
        cur = sp.versions[sp.current]
        # The target's tracked content with the current settings.
        k = replace(t.knobs, enabled=sp.latest.enabled, limit=sp.latest.limit)
        v = Version(sp.last + 1, k, "rollback", cur.knobs.reasons(k), rollback_of=plan.target)
        self._append(plan.spinner, sp, v)
        self._emit("rollback.committed", plan.spinner, v.number)
        sp.latest = k
        return v.number

    def tag(self, name: str, number: int, tag: str, move: bool) -> None:
        sp = self._spinner(name)
        self._version(sp, number)
        holder = sp.tags.get(tag)
        if holder is not None and holder != number and not move:
            raise ModelError("conflict")
        sp.tags[tag] = number
        self._emit("tag.set", name, number)

    def untag(self, name: str, tag: str) -> None:
        sp = self._spinner(name)
        if tag not in sp.tags:
            raise ModelError("not_found")
        number = sp.tags.pop(tag)
        self._emit("tag.removed", name, number)

    def listing(self, name: str) -> List[Tuple[Any, ...]]:
        """Newest first: (number, current, reason, status, rollbackOf, reasons, tags)."""
        sp = self._spinner(name)
        out = []
        for n in sorted(sp.versions, reverse=True):
            v = sp.versions[n]
            tags = tuple(sorted(t for t, m in sp.tags.items() if m == n))
            out.append((n, n == sp.current, v.reason, v.status, v.rollback_of, tuple(sorted(v.reasons)), tags))
        return out

    def get(self, name: str, number: int) -> Version:
        return self._version(self._spinner(name), number)

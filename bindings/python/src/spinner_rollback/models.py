"""Typed, immutable results of spinner_rollback calls.

Each class is a frozen dataclass built from the JSON the C API returns.
Field names are the JSON names in ``snake_case``; ``from`` becomes ``from_``.
Every class keeps the decoded JSON object in ``raw`` (excluded from
comparison and ``repr``) so fields added by newer library releases stay
reachable.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional, Union

__all__ = [
    "Reason",
    "Tag",
    "Note",
    "Scope",
    "Version",
    "VersionDetail",
    "RecordResult",
    "Change",
    "Diff",
    "NewVolume",
    "PlanVolume",
    "Plan",
    "Snapshot",
    "FromSnapshot",
    "SpinnerInfo",
    "StoreInfo",
    "KeyringKey",
    "RotateResult",
    "ImportResult",
    "MigrateResult",
    "Decision",
    "Event",
    "EventPage",
    "EVENT_TYPES",
    "parse_timestamp",
    "format_timestamp",
]

JSON = Any


def _raw() -> Any:
    """The ``raw`` field: the decoded JSON, not compared, not in repr."""
    return field(default_factory=dict, compare=False, repr=False)


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (``2024-05-01T12:00:00.123Z``) into an aware datetime.

    Fractions finer than microseconds are truncated.  Raises :class:`ValueError`
    for anything else.
    """
    m = _RFC3339.match(text)
    if not m:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    if z:
        tz = timezone.utc
    else:
        off = timedelta(hours=int(oh), minutes=int(om))
        tz = timezone(-off if sign == "-" else off)
    sec = int(s)
    leap = sec == 60  # RFC 3339 allows a leap second; datetime does not
    dt = datetime(int(y), int(mo), int(d), int(h), int(mi), 59 if leap else sec, micro, tzinfo=tz)
    return dt + timedelta(seconds=1) if leap else dt


def format_timestamp(value: datetime) -> str:
    """Format a datetime as RFC 3339 (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    ms = value.microsecond // 1000
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"


def _opt_ts(v: Optional[str]) -> Optional[datetime]:
    return None if v is None else parse_timestamp(v)


@dataclass(frozen=True)
class Reason:
    """Why the policy created a version: a changed ``category`` at a JSON ``path``.

    The first version of a spinner has the reason ``Reason("first", "$")``.
    Reasons never hold values.
    """

    category: str
    path: str

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "Reason":
        """Build from a ``{"category", "path"}`` object."""
        return cls(category=o["category"], path=o["path"])


def _reasons(items: Optional[List[Mapping[str, JSON]]]) -> List[Reason]:
    return [Reason.from_json(r) for r in (items or [])]


@dataclass(frozen=True)
class Tag:
    """A name pinned on a version (:meth:`Store.tag`).

    A tagged version is never pruned and does not count toward the
    spinner's ``historyLimit``.  ``note`` and ``author`` may be empty;
    ``created_at`` is when the name was put on this version.
    """

    name: str
    note: str
    author: str
    created_at: datetime
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "Tag":
        """Build from a ``{"name","note","author","createdAt"}`` object."""
        return cls(
            name=o["name"],
            note=o.get("note") or "",
            author=o.get("author") or "",
            created_at=parse_timestamp(o["createdAt"]),
            raw=dict(o),
        )


@dataclass(frozen=True)
class Note:
    """A note appended to a version after the fact (:meth:`Store.annotate`).

    ``author`` may be empty; ``created_at`` is set by the store.
    """

    author: str
    text: str
    created_at: datetime
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "Note":
        """Build from a ``{"author","text","createdAt"}`` object."""
        return cls(
            author=o.get("author") or "",
            text=o["text"],
            created_at=parse_timestamp(o["createdAt"]),
            raw=dict(o),
        )


def _notes(items: Optional[List[Mapping[str, JSON]]]) -> List[Note]:
    return [Note.from_json(n) for n in (items or [])]


#: What a rollback takes from its target version: ``"tracked"`` (the
#: categories the policy tracks), ``"all"`` (every field but settings) or a
#: list of category names (a partial rollback), e.g. ``["image"]``.
Scope = Union[str, List[str]]


def _scope(v: JSON) -> Optional[Scope]:
    if v is None or isinstance(v, str):
        return v
    return [str(c) for c in v]


@dataclass(frozen=True)
class Version:
    """One version in a spinner's history (the listing fields).

    ``reason`` is ``"deploy"``, ``"rollback"`` or ``"reenabled"``; ``reasons``
    are the policy's reasons; ``status`` is ``"pending"``, ``"active"``,
    ``"failed"`` or ``"superseded"``; ``rollback_of`` is the target version
    of a rollback, else ``None``.  ``scope`` is what a rollback took from its
    target (``"tracked"``, ``"all"`` or a list of categories such as
    ``["image"]``), else ``None``; ``tags`` are the names pinned on the
    version (:class:`Tag`), sorted by name.
    """

    spinner: str
    number: int
    current: bool
    created_at: datetime
    author: str
    message: str
    reason: str
    reasons: List[Reason]
    summary: str
    digest: str
    rollback_of: Optional[int]
    status: str
    scope: Optional[Scope] = None
    tags: List[Tag] = field(default_factory=list)
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "Version":
        """Build from a version object of ``spr_versions`` / ``spr_record``."""
        return cls(
            spinner=o.get("spinner", ""),
            number=int(o["number"]),
            current=bool(o["current"]),
            created_at=parse_timestamp(o["createdAt"]),
            author=o.get("author") or "",
            message=o.get("message") or "",
            reason=o["reason"],
            reasons=_reasons(o.get("reasons")),
            summary=o.get("summary") or "",
            digest=o["digest"],
            rollback_of=o.get("rollbackOf"),
            status=o["status"],
            scope=_scope(o.get("scope")),
            tags=[Tag.from_json(t) for t in (o.get("tags") or [])],
            raw=dict(o),
        )


@dataclass(frozen=True)
class VersionDetail:
    """A version together with its full state document and its notes.

    Secret values in ``state`` are ``"<redacted>"`` unless the version was
    fetched with ``reveal_secrets=True``.  ``notes`` are the notes appended
    with :meth:`Store.annotate`, oldest first.
    """

    version: Version
    state: Dict[str, JSON]
    notes: List[Note] = field(default_factory=list)

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "VersionDetail":
        """Build from the object ``spr_version_get`` returns."""
        rest = {k: v for k, v in o.items() if k not in ("state", "notes")}
        return cls(version=Version.from_json(rest), state=o["state"], notes=_notes(o.get("notes")))


@dataclass(frozen=True)
class RecordResult:
    """What :meth:`Store.record` did.

    ``outcome`` is ``"created"`` (``version`` is the new version),
    ``"unchanged"`` or ``"disabled"`` (``version`` is ``None``).
    """

    outcome: str
    version: Optional[Version]
    reasons: List[Reason]

    @property
    def created(self) -> bool:
        """True when a new version was created."""
        return self.outcome == "created"

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "RecordResult":
        """Build from the object ``spr_record`` returns."""
        v = o.get("version")
        return cls(
            outcome=o["outcome"],
            version=Version.from_json(v) if v else None,
            reasons=_reasons(o.get("reasons")),
        )


@dataclass(frozen=True)
class Change:
    """One field-level change: ``kind`` is ``"added"``, ``"removed"`` or ``"changed"``.

    ``from_`` / ``to`` are the JSON values (``None`` when absent); secret
    values are always masked.
    """

    path: str
    category: str
    kind: str
    from_: JSON
    to: JSON

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "Change":
        """Build from a ``{"path","category","kind","from","to"}`` object."""
        return cls(
            path=o["path"], category=o["category"], kind=o["kind"], from_=o.get("from"), to=o.get("to")
        )


@dataclass(frozen=True)
class Diff:
    """A field-level diff; iterable over its :class:`Change` items, falsy when empty."""

    changes: List[Change]

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Iterate over the changes."""
        return iter(self.changes)

    def __len__(self) -> int:
        """Number of changes."""
        return len(self.changes)

    @property
    def categories(self) -> List[str]:
        """The distinct categories changed, in order of first appearance."""
        seen: Dict[str, None] = {}
        for c in self.changes:
            seen.setdefault(c.category, None)
        return list(seen)

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "Diff":
        """Build from a ``{"changes": [...]}`` object."""
        return cls(changes=[Change.from_json(c) for c in o.get("changes", [])])


@dataclass(frozen=True)
class NewVolume:
    """A volume a plan provisions from a snapshot, with its estimated monthly cost."""

    name: str
    size_bytes: int
    estimated_monthly_cost: float
    currency: str
    storage_class: Optional[str] = None
    copies: int = 1
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "NewVolume":
        """Build from a plan's ``newVolume`` object."""
        return cls(
            name=o["name"],
            size_bytes=int(o["sizeBytes"]),
            estimated_monthly_cost=float(o["estimatedMonthlyCost"]),
            currency=o.get("currency", ""),
            storage_class=o.get("storageClass"),
            copies=int(o.get("copies", 1)),
            raw=dict(o),
        )


@dataclass(frozen=True)
class PlanVolume:
    """Where one volume's data comes from in a plan.

    ``source`` is ``"current"`` or ``"snapshot"``; for a snapshot source
    ``snapshot_id`` names it and ``new_volume`` describes the volume to create.
    """

    volume: str
    mounts: List[str]
    source: str
    snapshot_id: Optional[str]
    new_volume: Optional[NewVolume]
    volume_id: Optional[str] = None
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "PlanVolume":
        """Build from an entry of a plan's ``volumes``."""
        nv = o.get("newVolume")
        return cls(
            volume=o["volume"],
            mounts=list(o.get("mounts") or []),
            source=o["source"],
            snapshot_id=o.get("snapshotId"),
            new_volume=NewVolume.from_json(nv) if nv else None,
            volume_id=o.get("volumeId"),
            raw=dict(o),
        )


@dataclass(frozen=True)
class Plan:
    """A rollback plan (read-only until committed with :meth:`Store.commit`).

    ``json`` is the plan exactly as the library returned it; :meth:`Store.commit`
    passes it back unchanged (the library verifies the plan's digest).
    ``steps`` are the host's ordered actions (``provisionVolume``,
    ``applyState``, ``reportStatus``) as JSON objects.
    """

    plan_id: str
    spinner: str
    base_version: int
    target_version: int
    state: Dict[str, JSON]
    diff: Diff
    summary: str
    volumes: List[PlanVolume]
    steps: List[Dict[str, JSON]]
    warnings: List[str]
    requires_confirmation: bool
    digest: str
    json: str = field(repr=False)
    raw: Dict[str, JSON] = _raw()

    @property
    def scope(self) -> Scope:
        """What the plan takes from the target version: ``"tracked"``,
        ``"all"`` or a list of categories (from the plan's ``request``)."""
        req = self.raw.get("request") or {}
        return _scope(req.get("scope")) or "tracked"

    @property
    def estimated_monthly_cost(self) -> float:
        """Sum of the estimated monthly cost of the volumes the plan provisions."""
        return sum(v.new_volume.estimated_monthly_cost for v in self.volumes if v.new_volume)

    @classmethod
    def from_json(cls, o: Mapping[str, JSON], text: str) -> "Plan":
        """Build from a decoded plan object and the original text it came from."""
        return cls(
            plan_id=o["planId"],
            spinner=o["spinner"],
            base_version=int(o["baseVersion"]),
            target_version=int(o["targetVersion"]),
            state=o["state"],
            diff=Diff.from_json(o.get("diff") or {}),
            summary=o.get("summary") or "",
            volumes=[PlanVolume.from_json(v) for v in o.get("volumes") or []],
            steps=list(o.get("steps") or []),
            warnings=list(o.get("warnings") or []),
            requires_confirmation=bool(o.get("requiresConfirmation")),
            digest=o["digest"],
            json=text,
            raw=dict(o),
        )


@dataclass(frozen=True)
class Snapshot:
    """A volume snapshot the host made and registered.

    ``volume`` is the ``volumeId`` the snapshot was taken of.
    """

    id: str
    volume: str
    size_bytes: int
    created_at: Optional[datetime]
    ready: bool
    storage_class: Optional[str] = None
    metadata: Dict[str, JSON] = field(default_factory=dict)
    raw: Dict[str, JSON] = _raw()

    def to_json(self) -> Dict[str, JSON]:
        """The ``snapshot_json`` object for ``spr_snapshot_register``."""
        o: Dict[str, JSON] = {
            "id": self.id,
            "volume": self.volume,
            "sizeBytes": self.size_bytes,
            "ready": self.ready,
            "metadata": dict(self.metadata),
        }
        if self.created_at is not None:
            o["createdAt"] = format_timestamp(self.created_at)
        if self.storage_class is not None:
            o["storageClass"] = self.storage_class
        return o

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "Snapshot":
        """Build from an entry of ``spr_snapshots``."""
        return cls(
            id=o["id"],
            volume=o["volume"],
            size_bytes=int(o["sizeBytes"]),
            created_at=_opt_ts(o.get("createdAt")),
            ready=bool(o["ready"]),
            storage_class=o.get("storageClass") or None,
            metadata=dict(o.get("metadata") or {}),
            raw=dict(o),
        )


@dataclass(frozen=True)
class RestorePoint:
    """A registered snapshot seen as a restore point of one version's volume.

    ``relation`` says when it was taken, relative to the time the version
    was current: ``"during"`` (its own data), ``"before"`` or ``"after"``.
    """

    snapshot: Snapshot
    relation: str

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "RestorePoint":
        """Build from an entry of ``volumes[].snapshots`` of ``spr_restore_points``."""
        return cls(snapshot=Snapshot.from_json({**o, "metadata": {}}), relation=str(o["relation"]))


@dataclass(frozen=True)
class VolumeRestorePoints:
    """The restore points of one volume, nearest to the version's data first."""

    volume: str
    volume_ids: List[str]
    snapshots: List[RestorePoint]

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "VolumeRestorePoints":
        """Build from an entry of ``volumes`` of ``spr_restore_points``."""
        return cls(
            volume=str(o["volume"]),
            volume_ids=[str(x) for x in o.get("volumeIds") or []],
            snapshots=[RestorePoint.from_json(x) for x in o.get("snapshots") or []],
        )


@dataclass(frozen=True)
class RestorePoints:
    """Which snapshots can bring back a version's data (:meth:`Store.restore_points`).

    ``current_until`` is ``None`` while the version is current.
    """

    spinner: str
    number: int
    current_from: Optional[datetime]
    current_until: Optional[datetime]
    volumes: List[VolumeRestorePoints]
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "RestorePoints":
        """Build from the output of ``spr_restore_points``."""
        return cls(
            spinner=str(o["spinner"]),
            number=int(o["number"]),
            current_from=_opt_ts(o.get("currentFrom")),
            current_until=_opt_ts(o.get("currentUntil")),
            volumes=[VolumeRestorePoints.from_json(x) for x in o.get("volumes") or []],
            raw=dict(o),
        )


@dataclass(frozen=True)
class FromSnapshot:
    """A plan data source: restore a volume from the snapshot ``id``.

    ``plan_rollback(..., data={"data": FromSnapshot("snap-1")})`` is the same
    as ``data={"data": {"snapshot": "snap-1"}}``.
    """

    id: str

    def to_json(self) -> Dict[str, str]:
        """The request's ``{"snapshot": id}`` object."""
        return {"snapshot": self.id}


DataSource = Union[str, Mapping[str, str], FromSnapshot, Snapshot]


@dataclass(frozen=True)
class StoreInfo:
    """The store itself: ``store_id`` (a UUID made with the store and kept by
    every schema migration), ``engine`` (``"sqlite"`` or ``"postgres"``), its
    ``schema_version`` and the library's version."""

    store_id: str
    engine: str
    schema_version: int
    library_version: str
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "StoreInfo":
        """Build from the object ``spr_store_info`` returns."""
        return cls(
            store_id=o["storeId"],
            engine=o["engine"],
            schema_version=int(o["schemaVersion"]),
            library_version=o["libraryVersion"],
            raw=dict(o),
        )


@dataclass(frozen=True)
class KeyringKey:
    """One key of a keyring (``Store(..., keys=[...])``).

    ``id`` labels the key (1-64 of ``[A-Za-z0-9._-]``, distinct within the
    ring; :meth:`Store.rotate_key` reports it, the store never keeps it).
    Give either ``key`` (64 hex characters, base64 of 32 bytes, or the 32
    raw bytes) or ``key_file`` (a file holding the key).  The first key of a
    ring wraps the store's data key, any key unwraps it.  ``key`` is left
    out of ``repr``.
    """

    id: str
    key: Union[str, bytes, None] = field(default=None, repr=False)
    key_file: Union[str, "os.PathLike[str]", None] = None


@dataclass(frozen=True)
class RotateResult:
    """What :meth:`Store.rotate_key` did.

    ``key_id`` is the id of the key that now wraps the store's keys (``""``
    for a single ``key``/``key_file``, ``"cipher"`` for a host cipher);
    ``rewrapped`` counts the wrapped keys rewritten (0: the store holds no
    secret); ``resealed`` the secret values re-sealed by this call;
    ``resumed`` is true when it continued an interrupted reseal.
    """

    key_id: str
    rewrapped: int
    resealed: int
    resumed: bool
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "RotateResult":
        """Build from the object ``spr_rotate_key`` returns."""
        return cls(
            key_id=o.get("keyId") or "",
            rewrapped=int(o.get("rewrapped", 0)),
            resealed=int(o.get("resealed", 0)),
            resumed=bool(o.get("resumed")),
            raw=dict(o),
        )


@dataclass(frozen=True)
class ImportResult:
    """What :meth:`Store.import_bundle` did.

    ``source_store_id`` is the :attr:`StoreInfo.store_id` the bundle was
    exported from.  A spinner already here with the same history is
    skipped (so importing twice imports nothing the second time), and so
    is a snapshot already registered under the same id.
    """

    source_store_id: str
    spinners_imported: int
    spinners_skipped: int
    versions_imported: int
    versions_skipped: int
    snapshots_imported: int
    snapshots_skipped: int
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "ImportResult":
        """Build from the object ``spr_import`` returns."""
        return cls(
            source_store_id=o.get("sourceStoreId") or "",
            spinners_imported=int(o.get("spinnersImported", 0)),
            spinners_skipped=int(o.get("spinnersSkipped", 0)),
            versions_imported=int(o.get("versionsImported", 0)),
            versions_skipped=int(o.get("versionsSkipped", 0)),
            snapshots_imported=int(o.get("snapshotsImported", 0)),
            snapshots_skipped=int(o.get("snapshotsSkipped", 0)),
            raw=dict(o),
        )


@dataclass(frozen=True)
class MigrateResult:
    """What :meth:`Store.migrate` did: the target's ``store_id``, how many
    versions were read back and verified against the source, and what the
    copy imported (:class:`ImportResult`)."""

    target_store_id: str
    versions_verified: int
    imported: ImportResult
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "MigrateResult":
        """Build from the object ``spr_migrate`` returns."""
        return cls(
            target_store_id=o.get("targetStoreId") or "",
            versions_verified=int(o.get("versionsVerified", 0)),
            imported=ImportResult.from_json(o.get("imported") or {}),
            raw=dict(o),
        )


@dataclass(frozen=True)
class SpinnerInfo:
    """Facts about a spinner: whether rollback is enabled, its history limit,
    its current version (``None`` when it has none) and when a state was last recorded."""

    spinner: str
    rollback_enabled: bool
    history_limit: int
    current_version: Optional[int]
    versions_created: int
    last_recorded_at: Optional[datetime]
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "SpinnerInfo":
        """Build from the object ``spr_spinner_info`` returns."""
        return cls(
            spinner=o["spinner"],
            rollback_enabled=bool(o["rollbackEnabled"]),
            history_limit=int(o["historyLimit"]),
            current_version=o.get("currentVersion"),
            versions_created=int(o.get("versionsCreated", 0)),
            last_recorded_at=_opt_ts(o.get("lastRecordedAt")),
            raw=dict(o),
        )


@dataclass(frozen=True)
class Decision:
    """A policy decision: ``snapshot`` (would a version be created), ``outcome``
    (``"created"``, ``"unchanged"``, ``"disabled"``) and the ``reasons``."""

    snapshot: bool
    outcome: str
    reasons: List[Reason]

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "Decision":
        """Build from the object ``spr_policy_evaluate`` returns."""
        return cls(snapshot=bool(o["snapshot"]), outcome=o["outcome"], reasons=_reasons(o.get("reasons")))


#: The event types this release of the library writes (:attr:`Event.type`),
#: in no particular order.  Later releases may add types: skip the ones you
#: do not know rather than fail.
EVENT_TYPES = (
    "version.created",
    "rollback.committed",
    "status.changed",
    "tag.set",
    "tag.removed",
    "note.added",
    "snapshot.registered",
    "snapshot.deleted",
    "rollback.enabled",
    "rollback.disabled",
    "versions.pruned",
    "spinner.imported",
    "store.key_rotated",
)


@dataclass(frozen=True)
class Event:
    """One entry of the store's event outbox (:meth:`Store.events`).

    ``seq`` numbers events gap-free in commit order, store-wide (across
    processes too); ``at`` is when the change was committed; ``type`` is one
    of :data:`EVENT_TYPES` (e.g. ``"version.created"``, ``"tag.set"``).
    ``spinner`` is ``None`` for store-wide events (snapshots,
    ``store.key_rotated``); ``version`` is the version
    the event is about, or ``None`` (``versions.pruned`` lists its numbers in
    ``data["numbers"]``; ``spinner.imported``, written by
    :meth:`Store.import_bundle`, is about the imported spinner's current
    version and has ``data["versions"]`` and ``data["sourceStoreId"]``).
    ``data`` holds the type's own fields (docs/events.md) and never a
    secret value.
    """

    seq: int
    at: datetime
    type: str
    spinner: Optional[str]
    version: Optional[int]
    data: Dict[str, JSON] = field(default_factory=dict)
    raw: Dict[str, JSON] = _raw()

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "Event":
        """Build from an entry of ``events`` of ``spr_events``."""
        v = o.get("version")
        return cls(
            seq=int(o["seq"]),
            at=parse_timestamp(o["at"]),
            type=str(o["type"]),
            spinner=o.get("spinner"),
            version=None if v is None else int(v),
            data=dict(o.get("data") or {}),
            raw=dict(o),
        )


@dataclass(frozen=True)
class EventPage:
    """A page of events, oldest first; iterable over its :class:`Event` items,
    falsy when empty.

    ``next`` is the ``after`` to ask with for the following page: the last
    event's ``seq``, or the ``after`` asked with when the page is empty.
    ``store_id`` is the identity of the store the events belong to
    (:attr:`StoreInfo.store_id`): a reader that keeps ``next`` to resume
    can check that it still reads the same store.
    """

    events: List[Event]
    next: int
    store_id: Optional[str] = None
    raw: Dict[str, JSON] = _raw()

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Iterate over the events."""
        return iter(self.events)

    def __len__(self) -> int:
        """Number of events."""
        return len(self.events)

    @classmethod
    def from_json(cls, o: Mapping[str, JSON]) -> "EventPage":
        """Build from the object ``spr_events`` / ``spr_events_wait`` return."""
        return cls(
            events=[Event.from_json(e) for e in o.get("events") or []],
            next=int(o["next"]),
            store_id=o.get("storeId"),
            raw=dict(o),
        )

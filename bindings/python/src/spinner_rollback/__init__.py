"""spinner_rollback — versioned spinner states, diffs and rollback plans (ctypes bindings).

The native library ships in the package directory (``pip install`` builds it);
the ``SPR_LIBRARY`` environment variable (full path to
``libspinner_rollback.so.0``) overrides that copy. A package built without the
library looks for it with ``ctypes.util.find_library("spinner_rollback")``,
else the dynamic loader. It is loaded on first use;
:class:`LibraryNotFoundError` (an :class:`ImportError`) says what failed.
``python -m spinner_rollback --version`` shows both versions and the file loaded.

Quick tour::

    import spinner_rollback as spr

    with spr.Store("/var/lib/host/rollback.db", key=KEY_HEX) as store:
        store.record("shop", state_v1, author="ci")
        store.record("shop", state_v2, author="ci")
        plan = store.plan_rollback("shop", 1)
        v = store.commit(plan, author="alice", message="undo 1.5")
        store.set_status("shop", v.number, "active")
        store.tag("shop", 1, "known-good", note="last release before 1.5")
        for event in store.events(after=0):      # the outbox; store.follow() waits for more
            print(event.seq, event.type, event.spinner, event.version)
        store.export("shop.bundle", "shop", key=EXPORT_KEY)   # import_bundle() reads it back

    ring = [spr.KeyringKey("k2", NEW_KEY), spr.KeyringKey("k1", key_file="/etc/host/k1")]
    with spr.Store("/var/lib/host/rollback.db", keys=ring) as store:
        store.rotate_key(reseal=True)            # k1 can now be retired

See ``docs/python.md`` for the full guide.
"""

from __future__ import annotations

from ._native import LibraryNotFoundError, load_library
from .errors import (
    BusyError,
    ConflictError,
    CorruptError,
    CurrentVersionError,
    IdenticalError,
    InternalError,
    InvalidError,
    NeedsConfirmationError,
    NoKeyError,
    NotFoundError,
    PrunedError,
    RollbackDisabledError,
    SnapshotMismatchError,
    SnapshotNotReadyError,
    SpinnerRollbackError,
    StoreClosedError,
    StoreIOError,
    UnknownVolumeError,
    error_class,
)
from .models import (
    EVENT_TYPES,
    Change,
    Decision,
    Diff,
    Event,
    EventPage,
    FromSnapshot,
    ImportResult,
    KeyringKey,
    MigrateResult,
    NewVolume,
    Note,
    Plan,
    PlanVolume,
    Reason,
    RecordResult,
    RestorePoint,
    RestorePoints,
    RotateResult,
    Scope,
    Snapshot,
    SpinnerInfo,
    StoreInfo,
    Tag,
    Version,
    VersionDetail,
)
from .store import (
    Cipher,
    Store,
    diff_states,
    error_name,
    evaluate_policy,
    version,
    version_number,
)

#: Version of these Python bindings (the native library's is :func:`version`).
__version__ = "0.2.0"

#: The ``"current"`` data source for :meth:`Store.plan_rollback`.
CURRENT = "current"

__all__ = [
    "__version__",
    "CURRENT",
    # store and functions
    "Store",
    "Cipher",
    "evaluate_policy",
    "diff_states",
    "version",
    "version_number",
    "error_name",
    "load_library",
    # results
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
    "RestorePoint",
    "RestorePoints",
    "FromSnapshot",
    "SpinnerInfo",
    "StoreInfo",
    "Decision",
    "Event",
    "EventPage",
    "EVENT_TYPES",
    "KeyringKey",
    "RotateResult",
    "ImportResult",
    "MigrateResult",
    # errors
    "LibraryNotFoundError",
    "SpinnerRollbackError",
    "InvalidError",
    "NotFoundError",
    "ConflictError",
    "RollbackDisabledError",
    "CurrentVersionError",
    "IdenticalError",
    "PrunedError",
    "NeedsConfirmationError",
    "NoKeyError",
    "CorruptError",
    "BusyError",
    "StoreIOError",
    "InternalError",
    "SnapshotNotReadyError",
    "SnapshotMismatchError",
    "UnknownVolumeError",
    "StoreClosedError",
    "error_class",
]

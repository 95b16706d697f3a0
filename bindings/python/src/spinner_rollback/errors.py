"""Exceptions raised by spinner_rollback: one class per C API status code.

Every error the library reports becomes a :class:`SpinnerRollbackError`
subclass carrying the fields of ``spr_last_error()``: ``code``, ``name``
(e.g. ``"SPR_E_CONFLICT"``), ``message`` and ``path`` (the JSON path or
argument the error is about, ``""`` when none).  Codes this version of the
bindings does not know map to :class:`SpinnerRollbackError` itself.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Type

__all__ = [
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

SPR_OK = 0
SPR_E_INVALID = 1
SPR_E_NOT_FOUND = 2
SPR_E_CONFLICT = 3
SPR_E_ROLLBACK_DISABLED = 4
SPR_E_CURRENT_VERSION = 5
SPR_E_IDENTICAL = 6
SPR_E_PRUNED = 7
SPR_E_NEEDS_CONFIRMATION = 8
SPR_E_NO_KEY = 9
SPR_E_CORRUPT = 10
SPR_E_BUSY = 11
SPR_E_IO = 12
SPR_E_INTERNAL = 13
SPR_E_SNAPSHOT_NOT_READY = 14
SPR_E_SNAPSHOT_MISMATCH = 15
SPR_E_UNKNOWN_VOLUME = 16


class SpinnerRollbackError(Exception):
    """Base class of every error reported by libspinner_rollback.

    Attributes:
        code: the numeric status code (``SPR_E_*``).
        name: the code's name, e.g. ``"SPR_E_NOT_FOUND"``.
        message: the library's human-readable message (never holds secrets).
        path: the JSON path or argument concerned, or ``""``.
    """

    #: Status code used when none is given to the constructor.
    default_code: int = -1
    #: Code name used when none is given to the constructor.
    default_name: str = "SPR_E_UNKNOWN"

    code: int
    name: str
    message: str
    path: str

    def __init__(
        self,
        message: str = "",
        *,
        code: Optional[int] = None,
        name: Optional[str] = None,
        path: str = "",
    ) -> None:
        self.code = self.default_code if code is None else int(code)
        self.name = self.default_name if name is None else str(name)
        self.message = str(message)
        self.path = str(path or "")
        super().__init__(self.message)

    def __str__(self) -> str:
        s = f"{self.name}: {self.message}"
        if self.path:
            s += f" (at {self.path})"
        return s

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, code={self.code!r}, "
            f"name={self.name!r}, path={self.path!r})"
        )

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        """Pickle support (keyword-only fields are not in ``args``)."""
        return (_rebuild, (type(self), self.message, self.code, self.name, self.path))


def _rebuild(
    cls: Type[SpinnerRollbackError], message: str, code: int, name: str, path: str
) -> SpinnerRollbackError:
    return cls(message, code=code, name=name, path=path)


class InvalidError(SpinnerRollbackError):
    """``SPR_E_INVALID``: bad argument, JSON document, request or plan (``path`` says where)."""

    default_code = SPR_E_INVALID
    default_name = "SPR_E_INVALID"


class NotFoundError(SpinnerRollbackError):
    """``SPR_E_NOT_FOUND``: unknown spinner, version or snapshot."""

    default_code = SPR_E_NOT_FOUND
    default_name = "SPR_E_NOT_FOUND"


class ConflictError(SpinnerRollbackError):
    """``SPR_E_CONFLICT``: the current version moved since the plan was made; plan again."""

    default_code = SPR_E_CONFLICT
    default_name = "SPR_E_CONFLICT"


class RollbackDisabledError(SpinnerRollbackError):
    """``SPR_E_ROLLBACK_DISABLED``: ``settings.rollback.enabled`` is false for the spinner."""

    default_code = SPR_E_ROLLBACK_DISABLED
    default_name = "SPR_E_ROLLBACK_DISABLED"


class CurrentVersionError(SpinnerRollbackError):
    """``SPR_E_CURRENT_VERSION``: the rollback target is the current version."""

    default_code = SPR_E_CURRENT_VERSION
    default_name = "SPR_E_CURRENT_VERSION"


class IdenticalError(SpinnerRollbackError):
    """``SPR_E_IDENTICAL``: the target's tracked content equals the current version's."""

    default_code = SPR_E_IDENTICAL
    default_name = "SPR_E_IDENTICAL"


class PrunedError(SpinnerRollbackError):
    """``SPR_E_PRUNED``: the version existed but retention (``historyLimit``) removed it."""

    default_code = SPR_E_PRUNED
    default_name = "SPR_E_PRUNED"


class NeedsConfirmationError(SpinnerRollbackError):
    """``SPR_E_NEEDS_CONFIRMATION``: the plan costs money; commit with ``confirmed=True``."""

    default_code = SPR_E_NEEDS_CONFIRMATION
    default_name = "SPR_E_NEEDS_CONFIRMATION"


class NoKeyError(SpinnerRollbackError):
    """``SPR_E_NO_KEY``: secret values but no key configured (or the wrong key)."""

    default_code = SPR_E_NO_KEY
    default_name = "SPR_E_NO_KEY"


class CorruptError(SpinnerRollbackError):
    """``SPR_E_CORRUPT``: stored data failed verification against its digest."""

    default_code = SPR_E_CORRUPT
    default_name = "SPR_E_CORRUPT"


class BusyError(SpinnerRollbackError):
    """``SPR_E_BUSY``: the database stayed locked longer than ``busy_timeout_ms``."""

    default_code = SPR_E_BUSY
    default_name = "SPR_E_BUSY"


class StoreIOError(SpinnerRollbackError):
    """``SPR_E_IO``: file or database I/O failed (named so as not to shadow :class:`IOError`)."""

    default_code = SPR_E_IO
    default_name = "SPR_E_IO"


class InternalError(SpinnerRollbackError):
    """``SPR_E_INTERNAL``: a bug in the library; please report it."""

    default_code = SPR_E_INTERNAL
    default_name = "SPR_E_INTERNAL"


class SnapshotNotReadyError(SpinnerRollbackError):
    """``SPR_E_SNAPSHOT_NOT_READY``: the chosen snapshot is registered with ``ready: false``."""

    default_code = SPR_E_SNAPSHOT_NOT_READY
    default_name = "SPR_E_SNAPSHOT_NOT_READY"


class SnapshotMismatchError(SpinnerRollbackError):
    """``SPR_E_SNAPSHOT_MISMATCH``: the snapshot is of a volume never bound to that name."""

    default_code = SPR_E_SNAPSHOT_MISMATCH
    default_name = "SPR_E_SNAPSHOT_MISMATCH"


class UnknownVolumeError(SpinnerRollbackError):
    """``SPR_E_UNKNOWN_VOLUME``: the request names a volume the target version lacks."""

    default_code = SPR_E_UNKNOWN_VOLUME
    default_name = "SPR_E_UNKNOWN_VOLUME"


class StoreClosedError(InvalidError, ValueError):
    """The :class:`~spinner_rollback.Store` was closed; raised instead of touching a freed handle.

    It is an :class:`InvalidError` (the C API answers a NULL handle with
    ``SPR_E_INVALID``) and a :class:`ValueError` (like I/O on a closed file).
    """


_BY_CODE: Dict[int, Type[SpinnerRollbackError]] = {
    cls.default_code: cls
    for cls in (
        InvalidError,
        NotFoundError,
        ConflictError,
        RollbackDisabledError,
        CurrentVersionError,
        IdenticalError,
        PrunedError,
        NeedsConfirmationError,
        NoKeyError,
        CorruptError,
        BusyError,
        StoreIOError,
        InternalError,
        SnapshotNotReadyError,
        SnapshotMismatchError,
        UnknownVolumeError,
    )
}


def error_class(code: int) -> Type[SpinnerRollbackError]:
    """The exception class for a status code; unknown codes give :class:`SpinnerRollbackError`."""
    return _BY_CODE.get(code, SpinnerRollbackError)

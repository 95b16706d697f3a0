"""The :class:`Store` and the module-level functions over the C API."""

from __future__ import annotations

import ctypes
import json
import math
import operator
import os
import threading
import time
import weakref
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Union,
)

from . import _native
from .errors import InternalError, InvalidError, SpinnerRollbackError, StoreClosedError, error_class
from .models import (
    DataSource,
    Decision,
    Diff,
    Event,
    EventPage,
    FromSnapshot,
    ImportResult,
    KeyringKey,
    MigrateResult,
    Note,
    Plan,
    RecordResult,
    RestorePoints,
    RotateResult,
    Scope,
    Snapshot,
    SpinnerInfo,
    StoreInfo,
    Version,
    VersionDetail,
    format_timestamp,
)

__all__ = [
    "Store",
    "Cipher",
    "evaluate_policy",
    "diff_states",
    "version",
    "version_number",
    "error_name",
]

#: A state document: a ``dict`` (serialised with :func:`json.dumps`) or JSON text.
StateLike = Union[Mapping[str, Any], str, bytes]
#: A snapshot policy: ``{"triggers": [...]}`` or just the list of triggers.
PolicyLike = Union[Mapping[str, Any], Sequence[str]]
PathLike = Union[str, "os.PathLike[str]"]
#: A key: 64 hex characters or base64 of 32 bytes, or the 32 raw bytes.
KeyLike = Union[str, bytes, bytearray]
#: A keyring: :class:`KeyringKey` items, or mappings of the same fields
#: (``{"id": "k2", "key": ...}`` / ``{"id": "k1", "key_file": ...}``).
KeyringLike = Sequence[Union[KeyringKey, Mapping[str, Any]]]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

#: The longest single ``spr_events_wait`` call :meth:`Store.wait_events`
#: makes, in ms.  A longer wait is made of such slices so that :meth:`Store.close`
#: (which waits for calls in progress) is never held up for more than about this.
_WAIT_SLICE_MS = 1000
#: The longest wait the library accepts (``spr_events_wait``: 0-3600000 ms).
_WAIT_MAX_S = 3600


# --------------------------------------------------------------------------
# Marshalling helpers
# --------------------------------------------------------------------------


def _text(value: Any, arg: str) -> bytes:
    """A required ``const char *`` argument: str -> UTF-8, refusing NUL bytes."""
    if not isinstance(value, str):
        raise TypeError(f"{arg} must be a str, not {type(value).__name__}")
    if "\x00" in value:
        # A C string would silently end at the NUL: refuse rather than truncate.
        raise InvalidError(f"{arg} must not contain NUL characters", path=arg)
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidError(f"{arg} is not valid Unicode (lone surrogate)", path=arg) from None


def _opt_text(value: Optional[str], arg: str) -> Optional[bytes]:
    return None if value is None else _text(value, arg)


def _json_bytes(obj: Any, arg: str) -> bytes:
    # ensure_ascii keeps the text pure ASCII (lone surrogates become \\udXXX
    # escapes the library then judges); allow_nan stays on so that NaN reaches
    # the library's validation and comes back as InvalidError with a path.
    try:
        text = json.dumps(obj)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{arg} is not JSON-serialisable: {e}") from None
    return text.encode("ascii")


def _opt_json(obj: Any, arg: str) -> Optional[bytes]:
    """An optional JSON argument: NULL (the library's defaults) when *obj* is empty."""
    return _json_bytes(obj, arg) if obj else None


def _fs_path(value: PathLike, arg: str) -> bytes:
    """A file path (str, bytes or path-like) or a database URI, refusing NUL bytes."""
    p = os.fspath(value)
    b = p if isinstance(p, bytes) else os.fsencode(p)
    if b"\x00" in b:
        raise InvalidError(f"{arg} must not contain NUL characters", path=arg)
    return b


def _key_fields(key: Optional[KeyLike], key_file: Optional[PathLike], path: str) -> Dict[str, Any]:
    """``{"key"}`` and/or ``{"keyFile"}`` of an options object at *path*.

    Raw bytes become hex; giving both is left to the library to refuse.
    Errors never echo the key.
    """
    o: Dict[str, Any] = {}
    if key is not None:
        if isinstance(key, (bytes, bytearray)):
            if len(key) != 32:
                raise InvalidError("a raw key must be exactly 32 bytes", path=f"{path}.key")
            key = bytes(key).hex()
        o["key"] = key
    if key_file is not None:
        o["keyFile"] = os.fsdecode(os.fspath(key_file))
    return o


def _keyring_json(keys: KeyringLike) -> List[Dict[str, Any]]:
    """The ``"keys"`` array of the open options."""
    if isinstance(keys, (str, bytes, bytearray, Mapping)) or not isinstance(keys, Sequence):
        raise TypeError("keys must be a list of KeyringKey (or of dicts with id and key or key_file)")
    ring = []
    for i, k in enumerate(keys):
        if isinstance(k, Mapping):
            k = KeyringKey(**k)
        elif not isinstance(k, KeyringKey):
            raise TypeError(f"keys[{i}] must be a KeyringKey or a dict, not {type(k).__name__}")
        if not isinstance(k.id, str):
            raise TypeError(f"keys[{i}].id must be a str, not {type(k.id).__name__}")
        ring.append({"id": k.id, **_key_fields(k.key, k.key_file, f"options.keys[{i}]")})
    return ring


def _open_options(
    *,
    key: Optional[KeyLike] = None,
    key_file: Optional[PathLike] = None,
    keys: Optional[KeyringLike] = None,
    pricing: Optional[Mapping[str, Any]] = None,
    policy: Optional[PolicyLike] = None,
    busy_timeout_ms: Optional[int] = None,
    durability: Optional[str] = None,
    max_tagged_versions: Optional[int] = None,
    events_limit: Optional[int] = None,
) -> Dict[str, Any]:
    """The ``spr_open`` options object of :class:`Store` (also :meth:`Store.migrate`'s target)."""
    opts = _key_fields(key, key_file, "options")
    if keys is not None:
        opts["keys"] = _keyring_json(keys)
    if pricing is not None:
        opts["pricing"] = dict(pricing)
    if policy is not None:
        opts["policy"] = _policy_obj(policy)
    if busy_timeout_ms is not None:
        opts["busyTimeoutMs"] = busy_timeout_ms
    if durability is not None:
        opts["durability"] = durability
    if max_tagged_versions is not None:
        opts["maxTaggedVersions"] = max_tagged_versions
    if events_limit is not None:
        opts["eventsLimit"] = events_limit
    return opts


def _doc(value: Any, arg: str) -> bytes:
    """A JSON document argument: a mapping/list (dumped) or JSON text."""
    if isinstance(value, str):
        return _text(value, arg)
    if isinstance(value, (bytes, bytearray)):
        if b"\x00" in value:
            raise InvalidError(f"{arg} must not contain NUL bytes", path=arg)
        return bytes(value)
    if isinstance(value, (Mapping, list, tuple)):
        return _json_bytes(value if not isinstance(value, Mapping) else dict(value), arg)
    raise TypeError(f"{arg} must be a dict or JSON text, not {type(value).__name__}")


def _int64(value: Any, arg: str) -> int:
    """An ``int64_t`` argument; ctypes would silently truncate out-of-range ints."""
    if isinstance(value, bool):
        raise TypeError(f"{arg} must be an int, not bool")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{arg} must be an int, not {type(value).__name__}") from None
    if not _INT64_MIN <= n <= _INT64_MAX:
        raise InvalidError(f"{arg} is out of range for a 64-bit integer", path=arg)
    return n


def _seconds(value: Any, arg: str, maximum: float = _WAIT_MAX_S) -> float:
    """A timeout in seconds: a finite real number, 0 to *maximum*."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{arg} must be a number of seconds, not {type(value).__name__}")
    t = float(value)
    if not (0.0 <= t <= maximum):  # also refuses NaN
        raise InvalidError(f"{arg} must be 0-{maximum:g} seconds", path=arg)
    return t


def _meta(**fields: Any) -> Optional[bytes]:
    m = {k: v for k, v in fields.items() if v is not None}
    for k, v in m.items():
        if k == "expectedCurrent":
            m[k] = _int64(v, "expected_current")  # the library refuses < 0 with a path
        elif k != "confirmed" and not isinstance(v, str):
            raise TypeError(f"{k} must be a str, not {type(v).__name__}")
    return _json_bytes(m, "meta") if m else None


def _scope_json(scope: Union[str, Sequence[str]]) -> Any:
    """A plan request's ``"scope"``: a word as is, any other sequence as a list of categories."""
    if isinstance(scope, str):
        return scope
    if isinstance(scope, (bytes, bytearray, Mapping)) or not isinstance(scope, (Sequence, set, frozenset)):
        raise TypeError(
            'scope must be "tracked", "all" or a list of categories, not ' + type(scope).__name__
        )
    cats = list(scope)
    for c in cats:
        if not isinstance(c, str):
            raise TypeError(f"scope categories must be str, not {type(c).__name__}")
    return cats


def _policy_obj(policy: PolicyLike) -> Dict[str, Any]:
    if isinstance(policy, Mapping):
        return dict(policy)
    if isinstance(policy, (str, bytes)):
        raise TypeError("policy must be a dict like {'triggers': [...]} or a list of triggers")
    return {"triggers": list(policy)}


def _last_error(rc: int) -> SpinnerRollbackError:
    """Build the exception for a failed call from this thread's spr_last_error().

    Call this *immediately* after the failing call, before any other spr_*
    function.  That is safe with ctypes: a foreign call runs on the calling
    OS thread (ctypes releases the GIL for the duration of the call, but the
    thread does not change), and spr_last_error() is thread-local in the
    library, so no other Python thread can overwrite it in between.
    """
    lib = _native.lib()
    raw = lib.spr_last_error()  # copied into bytes by ctypes; library-owned, never freed
    try:
        o = json.loads(raw.decode("utf-8", "replace")) if raw else {}
        if not isinstance(o, dict):
            o = {}
    except ValueError:
        o = {}
    name = o.get("name") or lib.spr_error_name(rc).decode("ascii", "replace")
    message = o.get("message") or f"call failed with {name}"
    return error_class(rc)(message, code=rc, name=name, path=o.get("path") or "")


def _check(rc: int) -> None:
    if rc != 0:
        raise _last_error(rc)


def _call_out(fn: Callable[..., int], *args: Any) -> str:
    """Call ``fn(*args, &out)``, return the decoded JSON and free the library's string."""
    out = ctypes.c_void_p()
    rc = fn(*args, ctypes.byref(out))
    if rc != 0:
        err = _last_error(rc)  # first, before any other library call
        if out.value:  # the contract says NULL on failure; be defensive anyway
            _native.lib().spr_free(out)
        raise err
    if not out.value:
        raise InternalError("library returned success without a result", code=13, name="SPR_E_INTERNAL")
    try:
        text = ctypes.string_at(out.value).decode("utf-8")
    finally:
        _native.lib().spr_free(out)
    return text


def _call_json(fn: Callable[..., int], *args: Any) -> Any:
    return json.loads(_call_out(fn, *args))


# --------------------------------------------------------------------------
# Host cipher (KMS) support
# --------------------------------------------------------------------------


class Cipher:
    """Base class for a host cipher (e.g. a KMS client) that wraps the store's data key.

    Override :meth:`encrypt` and :meth:`decrypt`; both take and return
    ``bytes`` and must be thread-safe.  An exception in either makes the
    library call fail with :class:`~spinner_rollback.NoKeyError`, with the
    original exception chained as ``__cause__``.
    """

    def encrypt(self, plaintext: bytes) -> bytes:
        """Encrypt *plaintext* (the store's data key)."""
        raise NotImplementedError

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt what :meth:`encrypt` returned."""
        raise NotImplementedError


class _CipherBridge:
    """Keeps the ctypes callbacks of one Store's cipher alive and remembers failures."""

    def __init__(self, cipher: Any) -> None:
        libc = ctypes.CDLL(None)  # the process's C library: the library frees with its free()
        self._malloc = libc.malloc
        self._malloc.restype = ctypes.c_void_p
        self._malloc.argtypes = [ctypes.c_size_t]
        self._cipher = cipher
        self.errors = threading.local()
        self._enc = _native.CIPHER_FN(self._wrap(cipher.encrypt))
        self._dec = _native.CIPHER_FN(self._wrap(cipher.decrypt))
        self.struct = _native.SprCipher(None, self._enc, self._dec)

    def _wrap(self, fn: Callable[[bytes], bytes]) -> Callable[..., int]:
        def callback(_user: Any, data: Any, n: int, out: Any, out_len: Any) -> int:
            try:
                inp = ctypes.string_at(data, n) if n else b""
                res = bytes(fn(inp))
                buf = self._malloc(max(len(res), 1))
                if not buf:
                    raise MemoryError("malloc failed")
                ctypes.memmove(buf, res, len(res))
                out[0] = buf
                out_len[0] = len(res)
                return 0
            except BaseException as e:  # never let an exception unwind into C
                self.errors.last = e
                return 1

        return callback

    def take_error(self) -> Optional[BaseException]:
        e = getattr(self.errors, "last", None)
        self.errors.last = None
        return e


# --------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------



# Stores open in this process. In a child of os.fork() (multiprocessing's
# "fork" start method included) a thread of the parent may have been inside a
# call at that instant: its bookkeeping below is reset, so that using an
# inherited Store reaches the library, which refuses it (InvalidError: a
# handle cannot cross fork()), and closing it never waits for that thread.
_stores: "weakref.WeakSet[Store]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for s in list(_stores):
        s._cond = threading.Condition()
        s._active = 0


os.register_at_fork(after_in_child=_after_fork_in_child)


class Store:
    """An open spinner_rollback store (one SQLite file).

    Use it as a context manager or call :meth:`close`.  One ``Store`` may be
    shared by many threads: every call is thread-safe in the library, and the
    ctypes calls release the GIL, so threads run in the library concurrently.
    :meth:`close` waits for calls in progress on other threads, is idempotent,
    and afterwards every method raises :class:`~spinner_rollback.StoreClosedError`.
    ``multiprocessing`` works with every start method, and ``os.fork()`` is
    safe at any time, even while threads are in calls: a child opens its own
    ``Store`` (the same file included); a ``Store`` inherited from the parent
    raises :class:`~spinner_rollback.InvalidError` there, and closing it is safe.

    Args:
        path: the store file (created if needed, schema migrated on open).
        key: the secrets key: 64 hex characters or base64 of 32 bytes, or the
            32 raw bytes.
        key_file: a file holding the key (instead of ``key``).
        keys: a keyring instead of ``key``/``key_file``: a list of
            :class:`KeyringKey` (or dicts of its fields), e.g.
            ``[KeyringKey("k2", new_key), KeyringKey("k1", key_file="/etc/k1")]``.
            The first key wraps the store's data key, any key unwraps it;
            :meth:`rotate_key` re-wraps under the first so the others can be
            retired.  At most 16 keys with distinct ids.
        pricing: ``{"currency": "USD", "perGiBMonth": {"standard": 0.10, "*": 0.10}}``.
        policy: ``{"triggers": [...]}`` or the list of triggers itself.
        busy_timeout_ms: how long a write waits for a locked database.
        durability: ``"full"`` or ``"normal"``.
        max_tagged_versions: how many versions of one spinner may carry tags
            (1-10000, library default 50); tagging beyond it is a
            :class:`~spinner_rollback.ConflictError`.
        events_limit: how many events the outbox keeps, the newest
            (1-100000000, library default 100000); see :meth:`events`.
        cipher: a :class:`Cipher` (KMS) wrapping the data key, instead of a key.

    Raises:
        InvalidError: bad options; NoKeyError: wrong key (``path``
        ``"options.key"``), or no key of the ring opens the store
        (``"options.keys"``); StoreIOError, CorruptError, BusyError: the
        file could not be opened.
    """

    def __init__(
        self,
        path: PathLike,
        *,
        key: Optional[KeyLike] = None,
        key_file: Optional[PathLike] = None,
        keys: Optional[KeyringLike] = None,
        pricing: Optional[Mapping[str, Any]] = None,
        policy: Optional[PolicyLike] = None,
        busy_timeout_ms: Optional[int] = None,
        durability: Optional[str] = None,
        max_tagged_versions: Optional[int] = None,
        events_limit: Optional[int] = None,
        cipher: Optional[Cipher] = None,
    ) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._handle: Optional[int] = None
        self._bridge: Optional[_CipherBridge] = None
        self._path = os.fspath(path)
        bpath = _fs_path(self._path, "path")
        opts = _open_options(
            key=key,
            key_file=key_file,
            keys=keys,
            pricing=pricing,
            policy=policy,
            busy_timeout_ms=busy_timeout_ms,
            durability=durability,
            max_tagged_versions=max_tagged_versions,
            events_limit=events_limit,
        )
        options = _opt_json(opts, "options")

        lib = _native.lib()
        out = ctypes.c_void_p()
        if cipher is not None:
            bridge = _CipherBridge(cipher)
            rc = lib.spr_open_with_cipher(bpath, options, ctypes.byref(bridge.struct), ctypes.byref(out))
            if rc != 0:
                err = _last_error(rc)
                cause = bridge.take_error()
                if cause is not None:
                    raise err from cause
                raise err
            self._bridge = bridge
        else:
            rc = lib.spr_open(bpath, options, ctypes.byref(out))
            _check(rc)
        if not out.value:
            raise InternalError("spr_open returned success without a handle", code=13, name="SPR_E_INTERNAL")
        self._handle = out.value
        _stores.add(self)

    # -- lifecycle ---------------------------------------------------------

    @property
    def path(self) -> str:
        """The store file's path as given."""
        return self._path if isinstance(self._path, str) else os.fsdecode(self._path)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._handle is None

    def close(self) -> None:
        """Close the store; waits for calls in progress. Closing twice is a no-op."""
        with self._cond:
            h = self._handle
            if h is None:
                return
            self._handle = None  # new calls now raise StoreClosedError
            while self._active:
                self._cond.wait()
        _native.lib().spr_close(h)
        self._bridge = None

    def __enter__(self) -> "Store":
        """Return the store itself."""
        return self

    def __exit__(self, *exc: Any) -> None:
        """Close the store."""
        self.close()

    def __del__(self) -> None:
        """Close a store that was never closed (best effort)."""
        try:
            h = getattr(self, "_handle", None)
            if h is not None and not self._active and _native._lib is not None:
                self._handle = None
                _native._lib.spr_close(h)
        except Exception:
            pass

    def __repr__(self) -> str:
        """``<Store 'path' open|closed>``."""
        return f"<Store {self.path!r} {'closed' if self.closed else 'open'}>"

    @contextmanager
    def _use(self) -> Iterator[int]:
        with self._cond:
            h = self._handle
            if h is None:
                raise StoreClosedError(f"store {self.path!r} is closed", path="store")
            self._active += 1
        try:
            yield h
        except SpinnerRollbackError as e:
            bridge = self._bridge
            cause = bridge.take_error() if bridge is not None else None
            if cause is not None and e.__cause__ is None:
                raise e from cause
            raise
        finally:
            with self._cond:
                self._active -= 1
                if not self._active:
                    self._cond.notify_all()

    # -- versions ------------------------------------------------------------

    def record(
        self,
        spinner: str,
        state: StateLike,
        *,
        author: Optional[str] = None,
        message: Optional[str] = None,
        request_id: Optional[str] = None,
        expected_current: Optional[int] = None,
    ) -> RecordResult:
        """Validate *state* and record it; the policy decides whether it becomes a version.

        *state* is a dict (serialised with :func:`json.dumps`) or JSON text.
        A retried call with the same *request_id* returns the first result.
        With *expected_current* (a version number, ``0`` for "no version
        yet") the state is recorded only if that is the spinner's current
        version: a compare-and-set for hosts with more than one writer.

        Raises:
            InvalidError: the state is invalid (``path`` names the JSON path).
            NoKeyError: the state holds secret values and the store has no key.
            ConflictError: the current version is not *expected_current*
                (nothing was written), or *request_id* was used for another state.
        """
        args = (
            _text(spinner, "spinner"),
            _doc(state, "state"),
            _meta(author=author, message=message, requestId=request_id, expectedCurrent=expected_current),
        )
        with self._use() as h:
            o = _call_json(_native.lib().spr_record, h, *args)
        return RecordResult.from_json(o)

    def versions(self, spinner: str) -> List[Version]:
        """The retained versions of *spinner*, newest (current) first.

        Raises:
            NotFoundError: no such spinner.
        """
        s = _text(spinner, "spinner")
        with self._use() as h:
            o = _call_json(_native.lib().spr_versions, h, s)
        return [Version.from_json(v) for v in o]

    def versions_page(self, spinner: str, *, before: int = 0, limit: int = 100) -> List[Version]:
        """At most *limit* (1-10000) retained versions of *spinner* numbered
        below *before* (0: from the newest), newest first. Pass the last
        number of a page as *before* for the next; an empty list is the end.

        Raises:
            InvalidError: *before* < 0 or *limit* out of range (``path`` names it).
            NotFoundError: no such spinner.
        """
        s = _text(spinner, "spinner")
        with self._use() as h:
            o = _call_json(_native.lib().spr_versions_page, h, s, int(before), int(limit))
        return [Version.from_json(v) for v in o]

    def get(self, spinner: str, number: int, *, reveal_secrets: bool = False) -> VersionDetail:
        """One version with its full state; secret values are ``"<redacted>"``
        unless *reveal_secrets* is true (which needs the key).

        Raises:
            NotFoundError, PrunedError, NoKeyError, CorruptError.
        """
        s, n = _text(spinner, "spinner"), _int64(number, "number")
        with self._use() as h:
            o = _call_json(_native.lib().spr_version_get, h, s, n, 1 if reveal_secrets else 0)
        return VersionDetail.from_json(o)

    def diff(self, spinner: str, from_: int, to: int) -> Diff:
        """Field-level diff from version *from_* to version *to* (secret values masked).

        Raises:
            NotFoundError, PrunedError.
        """
        s, a, b = _text(spinner, "spinner"), _int64(from_, "from"), _int64(to, "to")
        with self._use() as h:
            o = _call_json(_native.lib().spr_diff, h, s, a, b)
        return Diff.from_json(o)

    def set_status(self, spinner: str, number: int, status: str) -> None:
        """Report a version's rollout status: ``"pending"``, ``"active"``, ``"failed"`` or ``"superseded"``.

        Raises:
            InvalidError, NotFoundError, PrunedError.
        """
        s, n, st = _text(spinner, "spinner"), _int64(number, "number"), _text(status, "status")
        with self._use() as h:
            _check(_native.lib().spr_set_status(h, s, n, st))

    # -- tags and notes --------------------------------------------------------

    def tag(
        self,
        spinner: str,
        number: int,
        name: str,
        note: str = "",
        author: str = "",
        move: bool = False,
    ) -> Version:
        """Pin the tag *name* (a DNS-1123 label) on version *number*.

        A tagged version is never pruned and does not count toward the
        spinner's ``historyLimit``.  Tagging the version that already holds
        *name* again updates its note.  With *move*, a name held by another
        version moves here.  Returns the version with its :attr:`Version.tags`.

        Raises:
            ConflictError: *name* is on another version and *move* is false;
                or the spinner already has ``max_tagged_versions`` tagged
                versions, or the version 16 tags.
            NotFoundError, PrunedError: no such version.
            InvalidError: a bad name, or a note/author too long (``path`` names it).
        """
        s, n = _text(spinner, "spinner"), _int64(number, "number")
        for arg, v in (("name", name), ("note", note), ("author", author)):
            if not isinstance(v, str):
                raise TypeError(f"{arg} must be a str, not {type(v).__name__}")
        if not isinstance(move, bool):
            raise TypeError(f"move must be a bool, not {type(move).__name__}")
        body = _json_bytes({"name": name, "note": note, "author": author, "move": move}, "tag")
        with self._use() as h:
            o = _call_json(_native.lib().spr_tag, h, s, n, body)
        return Version.from_json(o)

    def untag(self, spinner: str, name: str) -> None:
        """Remove the tag *name*; its version is subject to retention again
        from the next write to the spinner.

        Raises:
            NotFoundError: no such spinner, or it has no tag *name*.
        """
        s, t = _text(spinner, "spinner"), _text(name, "name")
        with self._use() as h:
            _check(_native.lib().spr_untag(h, s, t))

    def tagged_version(self, spinner: str, name: str) -> int:
        """The number of the version that holds the tag *name*.

        Raises:
            NotFoundError: no such spinner, or it has no tag *name*.
        """
        s, t = _text(spinner, "spinner"), _text(name, "name")
        out = ctypes.c_int64(0)
        with self._use() as h:
            _check(_native.lib().spr_tagged_version(h, s, t, ctypes.byref(out)))
        return int(out.value)

    def annotate(self, spinner: str, number: int, text: str, author: str = "") -> List[Note]:
        """Append a note (1-4096 bytes of *text*) to version *number*.

        Notes are append-only, at most 100 per version; a note equal to the
        version's last one (same author and text) is not appended again, so
        a retry is harmless.  Returns all the version's notes, oldest first
        (:meth:`get` shows them too, in :attr:`VersionDetail.notes`).

        Raises:
            InvalidError: empty or too long *text*, or the version has 100 notes.
            NotFoundError, PrunedError: no such version.
        """
        s, n = _text(spinner, "spinner"), _int64(number, "number")
        for arg, v in (("text", text), ("author", author)):
            if not isinstance(v, str):
                raise TypeError(f"{arg} must be a str, not {type(v).__name__}")
        body = _json_bytes({"author": author, "text": text}, "note")
        with self._use() as h:
            o = _call_json(_native.lib().spr_annotate, h, s, n, body)
        return [Note.from_json(x) for x in o.get("notes") or []]

    def restore_points(self, spinner: str, number: int) -> RestorePoints:
        """Which registered snapshots can bring back version *number*'s data.

        For each volume of the version: the snapshots of the volumeIds it
        bound, ``"during"`` (taken while it was current) first, newest
        first; then ``"before"`` (newest first); then ``"after"`` (oldest
        first).

        Raises:
            NotFoundError, PrunedError: no such version.
        """
        s, n = _text(spinner, "spinner"), _int64(number, "number")
        with self._use() as h:
            return RestorePoints.from_json(_call_json(_native.lib().spr_restore_points, h, s, n))

    # -- events ----------------------------------------------------------------

    def events(self, after: int = 0, limit: int = 1000) -> EventPage:
        """At most *limit* (1-10000) events numbered above *after* (0: from
        the oldest kept), oldest first: the store's outbox.

        Every change (a version created, a rollback committed, a status,
        tag, note or snapshot change, rollback switched on or off, versions
        pruned) appends its event in its own transaction; ``seq`` is
        gap-free in commit order, store-wide, whichever process wrote.  No
        event holds a secret value.  The newest ``events_limit`` events are
        kept.  Pass :attr:`EventPage.next` as *after* for the next page; an
        empty page is the end (for now).

        Raises:
            InvalidError: *after* < 0 or *limit* out of range (``path`` names it).
        """
        a, n = _int64(after, "after"), _int64(limit, "limit")
        with self._use() as h:
            return EventPage.from_json(_call_json(_native.lib().spr_events, h, a, n))

    def wait_events(self, after: int = 0, timeout: float = 30.0) -> EventPage:
        """As :meth:`events` (at most 1000 events), but waits up to *timeout*
        **seconds** (a float, 0-3600) for an event numbered above *after*.

        Returns as soon as there is one (a commit by any handle or process is
        seen within about 25 ms), else an empty page when the time is up.
        The GIL is released while it waits, and other threads' calls on this
        store are not held up.  The wait is made of library calls of at most
        one second each, so :meth:`close` on another thread takes effect
        within about a second: this call then raises
        :class:`~spinner_rollback.StoreClosedError`.

        Raises:
            InvalidError: *after* < 0 or *timeout* out of range.
            StoreClosedError: the store is (or got) closed.
        """
        a = _int64(after, "after")
        deadline = time.monotonic() + _seconds(timeout, "timeout")
        while True:
            remaining_ms = math.ceil((deadline - time.monotonic()) * 1000)
            ms = max(0, min(remaining_ms, _WAIT_SLICE_MS))
            with self._use() as h:
                o = _call_json(_native.lib().spr_events_wait, h, a, ms)
            page = EventPage.from_json(o)
            if page.events or time.monotonic() >= deadline:
                return page

    def follow(self, after: int = 0, *, poll_timeout: float = 30.0) -> Iterator[Event]:
        """Yield every event numbered above *after*, oldest first, waiting for
        new ones: a generator that never ends on its own.

        It runs until the caller stops iterating (``break``, or ``close()`` on
        the generator).  It waits in :meth:`wait_events` calls of
        *poll_timeout* seconds (0-3600) and yields nothing while idle, so a
        thread blocked in it is stopped by closing the store: the generator
        then raises :class:`~spinner_rollback.StoreClosedError` within about
        a second.  To resume later, keep the last :attr:`Event.seq` seen and
        pass it as *after*.  A follower that falls more than
        ``events_limit`` events behind misses the oldest: ``seq`` jumps.

        Raises:
            InvalidError: *after* < 0 or *poll_timeout* out of range (at
                once, not on the first ``next()``).
            StoreClosedError: the store is (or got) closed.
        """
        cursor = _int64(after, "after")
        if cursor < 0:
            raise InvalidError("after must be >= 0 (0 = from the oldest kept)", path="after")
        poll = _seconds(poll_timeout, "poll_timeout")
        if self._handle is None:
            raise StoreClosedError(f"store {self.path!r} is closed", path="store")
        return self._follow(cursor, poll)

    def _follow(self, cursor: int, poll: float) -> Iterator[Event]:
        while True:
            page = self.wait_events(cursor, poll)
            for e in page.events:
                cursor = e.seq
                yield e
            cursor = max(cursor, page.next)

    def spinner_info(self, spinner: str) -> SpinnerInfo:
        """Facts about *spinner* (rollback enabled, history limit, current version, …).

        Raises:
            NotFoundError: no such spinner.
        """
        s = _text(spinner, "spinner")
        with self._use() as h:
            o = _call_json(_native.lib().spr_spinner_info, h, s)
        return SpinnerInfo.from_json(o)

    def spinners(self) -> List[str]:
        """Names of every spinner the store knows, sorted."""
        with self._use() as h:
            return list(_call_json(_native.lib().spr_spinners, h))

    def info(self) -> StoreInfo:
        """The store's identity (a UUID kept across migrations), engine and schema version."""
        with self._use() as h:
            return StoreInfo.from_json(_call_json(_native.lib().spr_store_info, h))

    # -- keys, bundles and migration -----------------------------------------

    def rotate_key(self, *, reseal: bool = False, batch_size: Optional[int] = None) -> RotateResult:
        """Re-wrap the store's keys under the first key of the keyring it was
        opened with (``keys=``), in one transaction; the other keys of the
        ring can then be retired.

        With *reseal*, also make a new data key and re-seal every secret
        value under it, *batch_size* (1-100000, library default 500) per
        transaction: other processes read and write meanwhile, and a call
        after a crash resumes where the last batch ended
        (:attr:`RotateResult.resumed`).  No digest changes.  Roll the new
        keyring out to every process first (docs/operations.md, "Rotating
        keys").

        Raises:
            NoKeyError: the store was opened without a key, or no key of the
                ring opens its keys.
            InvalidError: *batch_size* out of range (``path``
                ``"options.batchSize"``).
        """
        if not isinstance(reseal, bool):
            raise TypeError(f"reseal must be a bool, not {type(reseal).__name__}")
        opts: Dict[str, Any] = {"reseal": True} if reseal else {}
        if batch_size is not None:
            opts["batchSize"] = _int64(batch_size, "batch_size")
        body = _opt_json(opts, "options")
        with self._use() as h:
            return RotateResult.from_json(_call_json(_native.lib().spr_rotate_key, h, body))

    def export(
        self,
        path: PathLike,
        spinner: Optional[str] = None,
        *,
        key: Optional[KeyLike] = None,
        key_file: Optional[PathLike] = None,
    ) -> None:
        """Write a bundle file (docs/bundles.md): the full history of
        *spinner* (every spinner when ``None``) with its tags, notes,
        statuses and the snapshots its volumes bound, read in one transaction.

        The file is written next to *path* (``path + ".partial"``) and then
        renamed onto it.  Secret values stay sealed, under a fresh bundle key
        wrapped by the export key (*key*: 64 hex, base64 or 32 raw bytes; or
        *key_file*), which is needed when an exported version holds a secret
        value and again by :meth:`import_bundle`.

        Raises:
            NotFoundError: no such spinner.
            NoKeyError: secret values to export but no export key (``path``
                ``"options.key"``), or the store was opened without its key.
            StoreIOError: the file cannot be written.
        """
        p = _fs_path(path, "path")
        sp = _opt_text(spinner, "spinner")
        body = _opt_json(_key_fields(key, key_file, "options"), "options")
        with self._use() as h:
            _check(_native.lib().spr_export(h, sp, p, body))

    def import_bundle(
        self,
        path: PathLike,
        *,
        key: Optional[KeyLike] = None,
        key_file: Optional[PathLike] = None,
    ) -> ImportResult:
        """Import a bundle written by :meth:`export`, in one transaction.

        Each spinner new to this store gets its history exactly (numbers,
        times, authors, statuses, tags, notes, digests) and a
        ``spinner.imported`` event; a spinner already here with the same
        versions is skipped, so importing twice changes nothing.  The whole
        bundle is checked before anything is written.  *key* / *key_file* is
        the export key.  (``import`` is a Python keyword, hence the name.)

        Raises:
            InvalidError: a malformed, truncated, altered or newer-format
                bundle: ``path`` is ``"bundle:<line>"`` and the message names
                the line and the reason; nothing is imported.
            ConflictError: a spinner here has another history, or this store
                holds secrets under another store's MAC key.
            NoKeyError: the bundle holds secrets and no key, or the wrong
                key, was given, or this store was opened without a key.
            StoreIOError: the file cannot be read.
        """
        p = _fs_path(path, "path")
        body = _opt_json(_key_fields(key, key_file, "options"), "options")
        with self._use() as h:
            return ImportResult.from_json(_call_json(_native.lib().spr_import, h, p, body))

    def migrate(self, target: PathLike, **options: Any) -> MigrateResult:
        """Copy every spinner into the store at *target* (a SQLite file, or a
        ``postgres://`` URI), then read every version of the copy back and
        compare it with this store, field by field and digest by digest.

        *options* are the keyword options of :class:`Store` to open the
        target with (``key``, ``key_file``, ``keys``, ``pricing``, ...; not
        ``cipher``): give a key when this store holds secret values.  The
        copy travels as a bundle in memory under a one-time key.  Success
        only when every version matches; running it again skips what is
        already there.

        Raises:
            ConflictError: a spinner of the target has another history.
            NoKeyError: this store holds secrets and the target has no key.
            CorruptError: a check after the copy failed (the message says which).
            InvalidError, StoreIOError, BusyError: as opening the target.
        """
        if "cipher" in options:
            raise TypeError("migrate() cannot open the target with a cipher: give key, key_file or keys")
        t = _fs_path(target, "target")
        body = _opt_json(_open_options(**options), "options")
        with self._use() as h:
            return MigrateResult.from_json(_call_json(_native.lib().spr_migrate, h, t, body))

    # -- rollback ------------------------------------------------------------

    def plan_rollback(
        self,
        spinner: str,
        target: int,
        *,
        data: Optional[Mapping[str, DataSource]] = None,
        scope: Optional[Union[str, Sequence[str]]] = None,
    ) -> Plan:
        """Plan a rollback of *spinner* to version *target* (read-only).

        Args:
            data: volume name -> ``"current"`` (keep the volume in use now, the
                default), ``{"snapshot": ID}``, :class:`FromSnapshot` or a
                :class:`Snapshot` (restore onto a new volume; the plan then
                needs confirmation and carries a cost estimate).
            scope: ``"tracked"`` (default), ``"all"`` (restore untracked
                fields such as probes and labels too), or a list of
                categories for a partial rollback that takes only those from
                the target and keeps everything else as it is now, e.g.
                ``["image"]`` (image, codeVersion, env, ports,
                securityContext, cpu, memory, command, args, instances,
                mounts, configValues, secretValues).  The committed
                version's :attr:`Version.scope` records it.

        Raises:
            RollbackDisabledError, CurrentVersionError, IdenticalError,
            NotFoundError, PrunedError, UnknownVolumeError,
            SnapshotNotReadyError, SnapshotMismatchError, InvalidError.
        """
        s, t = _text(spinner, "spinner"), _int64(target, "target")
        req: Dict[str, Any] = {}
        if data is not None:
            if not isinstance(data, Mapping):
                raise TypeError("data must be a mapping of volume name -> source")
            req["data"] = {str(k): _source(v) for k, v in data.items()}
        if scope is not None:
            req["scope"] = _scope_json(scope)
        body = _json_bytes(req, "request") if req else None
        with self._use() as h:
            text = _call_out(_native.lib().spr_plan_rollback, h, s, t, body)
        return Plan.from_json(json.loads(text), text)

    def plan_auto_rollback(self, spinner: str) -> Plan:
        """Plan a rollback to the newest earlier version whose status was ``active``.

        Raises:
            NotFoundError: no earlier version was ever active; and the
            refusals of :meth:`plan_rollback`.
        """
        s = _text(spinner, "spinner")
        with self._use() as h:
            text = _call_out(_native.lib().spr_plan_auto_rollback, h, s)
        return Plan.from_json(json.loads(text), text)

    def commit(
        self,
        plan: Union[Plan, str],
        *,
        confirmed: bool = False,
        author: Optional[str] = None,
        message: Optional[str] = None,
        request_id: Optional[str] = None,
        expected_current: Optional[int] = None,
    ) -> Version:
        """Commit *plan* as a new version (reason ``rollback``, status ``pending``).

        The plan's original JSON (:attr:`Plan.json`) is passed back unchanged.
        A retried commit with the same *request_id* returns the first result.
        With *expected_current* the commit happens only if that is the
        spinner's current version (as :meth:`record`).

        Raises:
            NeedsConfirmationError: the plan provisions volumes and
                *confirmed* is not true.
            ConflictError: the current version moved since the plan, or is
                not *expected_current*.
            InvalidError: the plan was altered.
        """
        text = plan.json if isinstance(plan, Plan) else plan
        p = _text(text, "plan")
        m = _meta(
            author=author,
            message=message,
            requestId=request_id,
            confirmed=True if confirmed else None,
            expectedCurrent=expected_current,
        )
        with self._use() as h:
            o = _call_json(_native.lib().spr_commit_rollback, h, p, m)
        return Version.from_json(o)

    # -- snapshots -------------------------------------------------------------

    def register_snapshot(
        self,
        snapshot: Union[Snapshot, str],
        volume: Optional[str] = None,
        size_bytes: Optional[int] = None,
        *,
        ready: bool = True,
        created_at: Union[datetime, str, None] = None,
        storage_class: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Snapshot:
        """Register (or replace) a volume snapshot the host made.

        Either pass a :class:`Snapshot`, or its fields: ``register_snapshot(
        "snap-1", "vol-7f3a", 2 * 2**30, storage_class="standard")``.
        *volume* is the ``volumeId`` the snapshot was taken of; *created_at*
        defaults to now.  Returns the snapshot as registered.

        Raises:
            InvalidError: a field is missing or malformed.
        """
        if isinstance(snapshot, Snapshot):
            extra = (volume, size_bytes, created_at, storage_class, metadata)
            if any(x is not None for x in extra):
                raise TypeError("pass either a Snapshot or its fields, not both")
            obj = snapshot.to_json()
            if "createdAt" not in obj:
                obj["createdAt"] = format_timestamp(datetime.now(timezone.utc))
        else:
            if not isinstance(snapshot, str):
                raise TypeError("snapshot must be a Snapshot or an id (str)")
            if volume is None or size_bytes is None:
                raise TypeError("register_snapshot(id, volume, size_bytes, ...) needs volume and size_bytes")
            if created_at is None:
                created_at = datetime.now(timezone.utc)
            obj = {
                "id": snapshot,
                "volume": volume,
                "sizeBytes": size_bytes,
                "createdAt": format_timestamp(created_at) if isinstance(created_at, datetime) else created_at,
                "ready": ready,
                "metadata": dict(metadata or {}),
            }
            if storage_class is not None:
                obj["storageClass"] = storage_class
        body = _json_bytes(obj, "snapshot")
        with self._use() as h:
            _check(_native.lib().spr_snapshot_register(h, body))
        return Snapshot.from_json(obj)

    def snapshots(self, volume: Optional[str] = None) -> List[Snapshot]:
        """Registered snapshots of one ``volumeId`` (all when *volume* is None), newest first."""
        v = _opt_text(volume, "volume")
        with self._use() as h:
            o = _call_json(_native.lib().spr_snapshots, h, v)
        return [Snapshot.from_json(s) for s in o]

    def delete_snapshot(self, id: str) -> None:
        """Delete a snapshot record (not the snapshot itself).

        Raises:
            NotFoundError: no snapshot with that id.
        """
        i = _text(id, "id")
        with self._use() as h:
            _check(_native.lib().spr_snapshot_delete(h, i))


def _source(v: Any) -> Any:
    if isinstance(v, FromSnapshot):
        return v.to_json()
    if isinstance(v, Snapshot):
        return {"snapshot": v.id}
    if isinstance(v, Mapping):
        return dict(v)
    return v  # "current" or anything else: the library validates it


# --------------------------------------------------------------------------
# Module-level functions
# --------------------------------------------------------------------------


def evaluate_policy(
    prev: Optional[StateLike], next: StateLike, policy: Optional[PolicyLike] = None
) -> Decision:
    """Evaluate a snapshot policy on two states (pure; no store).

    *prev* is ``None`` when there is no previous version; *policy* is
    ``{"triggers": [...]}``, a list of triggers, or ``None`` for the defaults.
    Returns whether *next* would become a version and why.
    """
    p = _json_bytes(_policy_obj(policy), "policy") if policy is not None else None
    a = _doc(prev, "prev") if prev is not None else None
    b = _doc(next, "next")
    return Decision.from_json(_call_json(_native.lib().spr_policy_evaluate, p, a, b))


def diff_states(a: StateLike, b: StateLike) -> Diff:
    """Field-level diff between two state documents (no store; secrets masked)."""
    return Diff.from_json(_call_json(_native.lib().spr_diff_states, _doc(a, "a"), _doc(b, "b")))


def version() -> str:
    """The native library's version, e.g. ``"0.2.0"``."""
    raw: bytes = _native.lib().spr_version_string()
    return raw.decode("ascii")


def version_number() -> int:
    """The native library's version as ``MAJOR*10000 + MINOR*100 + PATCH``."""
    return int(_native.lib().spr_version_number())


def error_name(code: int) -> str:
    """The name of a status code, e.g. ``error_name(3) == "SPR_E_CONFLICT"``."""
    raw: bytes = _native.lib().spr_error_name(int(code))
    return raw.decode("ascii")

"""Loading libspinner_rollback and declaring its C prototypes (internal).

Every function of ``capi/spinner_rollback.h`` gets explicit ``argtypes`` and
``restype``.  Strings the library allocates (the ``char **out_json``
out-parameters) are declared as ``POINTER(c_void_p)`` so that ctypes never
auto-converts them to ``bytes`` and loses the pointer: we copy the text with
:func:`ctypes.string_at` and hand the pointer back to ``spr_free``.

The only ``c_char_p`` *return* types are ``spr_last_error``,
``spr_error_name`` and ``spr_version_string``: those strings are owned by the
library (thread-local or static storage) and must not be freed, so the
automatic copy into ``bytes`` is exactly what we want.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import Optional

__all__ = ["LibraryNotFoundError", "load_library", "lib"]

ENV_VAR = "SPR_LIBRARY"
SONAME = "libspinner_rollback.so.0"


class LibraryNotFoundError(ImportError):
    """libspinner_rollback could not be found or loaded.

    A wheel carries the library in the package directory; if that copy does not
    load, the message says why (typically a missing system library, see
    docs/python.md). Set the environment variable ``SPR_LIBRARY`` to the full
    path of ``libspinner_rollback.so.0`` to use another build.
    """


c_int64 = ctypes.c_int64
c_int = ctypes.c_int
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
c_size_t = ctypes.c_size_t
OUT = ctypes.POINTER(c_void_p)  # char ** / spr_store ** out-parameters
c_ubyte_p = ctypes.POINTER(ctypes.c_ubyte)

#: int (*)(void *user_data, const unsigned char *in, size_t in_len,
#:         unsigned char **out, size_t *out_len)
CIPHER_FN = ctypes.CFUNCTYPE(
    c_int, c_void_p, c_ubyte_p, c_size_t, ctypes.POINTER(c_void_p), ctypes.POINTER(c_size_t)
)


class SprCipher(ctypes.Structure):
    """``struct spr_cipher`` (see spr_open_with_cipher)."""

    _fields_ = [
        ("user_data", c_void_p),
        ("encrypt", CIPHER_FN),
        ("decrypt", CIPHER_FN),
    ]


# name -> (restype, argtypes)
_PROTOTYPES = {
    "spr_open": (c_int, [c_char_p, c_char_p, OUT]),
    "spr_open_with_cipher": (c_int, [c_char_p, c_char_p, ctypes.POINTER(SprCipher), OUT]),
    "spr_close": (None, [c_void_p]),
    "spr_record": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, OUT]),
    "spr_versions": (c_int, [c_void_p, c_char_p, OUT]),
    "spr_versions_page": (c_int, [c_void_p, c_char_p, c_int64, c_int64, OUT]),
    "spr_version_get": (c_int, [c_void_p, c_char_p, c_int64, c_int, OUT]),
    "spr_diff": (c_int, [c_void_p, c_char_p, c_int64, c_int64, OUT]),
    "spr_diff_states": (c_int, [c_char_p, c_char_p, OUT]),
    "spr_plan_rollback": (c_int, [c_void_p, c_char_p, c_int64, c_char_p, OUT]),
    "spr_plan_auto_rollback": (c_int, [c_void_p, c_char_p, OUT]),
    "spr_commit_rollback": (c_int, [c_void_p, c_char_p, c_char_p, OUT]),
    "spr_set_status": (c_int, [c_void_p, c_char_p, c_int64, c_char_p]),
    "spr_tag": (c_int, [c_void_p, c_char_p, c_int64, c_char_p, OUT]),
    "spr_untag": (c_int, [c_void_p, c_char_p, c_char_p]),
    "spr_tagged_version": (c_int, [c_void_p, c_char_p, c_char_p, ctypes.POINTER(c_int64)]),
    "spr_annotate": (c_int, [c_void_p, c_char_p, c_int64, c_char_p, OUT]),
    "spr_restore_points": (c_int, [c_void_p, c_char_p, c_int64, OUT]),
    "spr_events": (c_int, [c_void_p, c_int64, c_int64, OUT]),
    # Blocks up to timeout_ms: like every call here it goes through CDLL, so
    # ctypes releases the GIL for its duration.
    "spr_events_wait": (c_int, [c_void_p, c_int64, c_int64, OUT]),
    "spr_spinner_info": (c_int, [c_void_p, c_char_p, OUT]),
    "spr_spinners": (c_int, [c_void_p, OUT]),
    "spr_store_info": (c_int, [c_void_p, OUT]),
    "spr_rotate_key": (c_int, [c_void_p, c_char_p, OUT]),
    "spr_export": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p]),
    "spr_import": (c_int, [c_void_p, c_char_p, c_char_p, OUT]),
    "spr_migrate": (c_int, [c_void_p, c_char_p, c_char_p, OUT]),
    "spr_snapshot_register": (c_int, [c_void_p, c_char_p]),
    "spr_snapshots": (c_int, [c_void_p, c_char_p, OUT]),
    "spr_snapshot_delete": (c_int, [c_void_p, c_char_p]),
    "spr_policy_evaluate": (c_int, [c_char_p, c_char_p, c_char_p, OUT]),
    "spr_free": (None, [c_void_p]),
    "spr_last_error": (c_char_p, []),  # library-owned, thread-local: copy, never free
    "spr_error_name": (c_char_p, [c_int]),  # static storage
    "spr_version_string": (c_char_p, []),  # static storage
    "spr_version_number": (c_int, []),
}

#: Where a wheel puts the library: next to this file.
BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), SONAME)

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_how: Optional[str] = None


def _candidates() -> "list[tuple[str, str]]":
    """(how it was found, name or path to dlopen), in lookup order."""
    env = os.environ.get(ENV_VAR)
    if env:
        # An explicit setting is authoritative: no silent fallback.
        return [(f"{ENV_VAR}={env}", env)]
    if os.path.exists(BUNDLED):
        # The copy built with this package (a wheel) matches its Python code:
        # if it does not load, say why rather than pick up another version.
        return [("bundled with the package", BUNDLED)]
    # A package built without the library (wheel.cmake=false): look elsewhere.
    out = []
    found = ctypes.util.find_library("spinner_rollback")
    if found:
        out.append(("ctypes.util.find_library('spinner_rollback')", found))
    out.append(("the dynamic loader", SONAME))
    return out


def _declare(cdll: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(cdll, name)
        fn.restype = restype
        fn.argtypes = argtypes


def load_library(path: Optional[str] = None) -> ctypes.CDLL:
    """Load (once) and return the native library with every prototype declared.

    Lookup order: *path* if given, else the ``SPR_LIBRARY`` environment
    variable (full path to ``libspinner_rollback.so.0``), else the copy in the
    package directory (installed from a wheel; when present nothing else is
    tried), else ``ctypes.util.find_library("spinner_rollback")``, else
    ``libspinner_rollback.so.0`` through the dynamic loader.

    Raises :class:`LibraryNotFoundError` (an :class:`ImportError`) naming
    ``SPR_LIBRARY`` when nothing loads.
    """
    global _lib, _how
    with _lock:
        if _lib is not None and path is None:
            return _lib
        cands = [(f"path={path!r}", path)] if path else _candidates()
        problems = []
        for how, name in cands:
            try:
                cdll = ctypes.CDLL(name)
            except OSError as e:
                problems.append(f"{how}: {e}")
                continue
            try:
                _declare(cdll)
            except AttributeError as e:
                problems.append(f"{how}: not a spinner_rollback library ({e})")
                continue
            _lib = cdll
            _how = how
            return cdll
        raise LibraryNotFoundError(
            "cannot load libspinner_rollback; set the environment variable "
            f"{ENV_VAR} to the full path of {SONAME} (tried: " + "; ".join(problems) + ")",
            name=SONAME,
        )


def lib() -> ctypes.CDLL:
    """The loaded library (loading it on first use)."""
    return _lib if _lib is not None else load_library()


class _DlInfo(ctypes.Structure):
    _fields_ = [
        ("dli_fname", c_char_p),
        ("dli_fbase", c_void_p),
        ("dli_sname", c_char_p),
        ("dli_saddr", c_void_p),
    ]


def _file_of(cdll: ctypes.CDLL) -> str:
    """The file the dynamic loader mapped for *cdll* (dladdr), else its dlopen name."""
    addr = ctypes.cast(cdll.spr_version_string, c_void_p).value
    for libname in (None, "libdl.so.2"):  # dladdr: in libc since glibc 2.34, libdl before
        try:
            dladdr = ctypes.CDLL(libname).dladdr
        except (OSError, AttributeError):
            continue
        dladdr.argtypes = [c_void_p, ctypes.POINTER(_DlInfo)]
        dladdr.restype = c_int
        info = _DlInfo()
        if dladdr(addr, ctypes.byref(info)) and info.dli_fname:
            return os.fsdecode(info.dli_fname)
    return str(cdll._name)


def loaded() -> "tuple[str, str]":
    """(how the library was found, the file loaded), loading it on first use.

    For diagnostics (``python -m spinner_rollback --version``).
    """
    cdll = lib()
    return (_how or "load_library()"), _file_of(cdll)

"""``python -m spinner_rollback --version``: the versions of the package and of the native library.

Prints two lines and exits 0, or exits 1 when the library does not load::

    spinner_rollback 0.2.0 (Python package in /…/site-packages/spinner_rollback)
    libspinner_rollback 0.2.0 (version number 200), bundled with the package: /…/libspinner_rollback.so.0
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spinner_rollback",
        description="spinner_rollback Python bindings (ctypes over libspinner_rollback).",
    )
    parser.add_argument(
        "--version",
        action="store_true",
        help="print the package's and the native library's versions, and the library file loaded",
    )
    args = parser.parse_args(argv)
    if not args.version:
        parser.print_help()
        return 0

    from . import __version__, _native, version, version_number

    print(f"spinner_rollback {__version__} (Python package in {os.path.dirname(os.path.abspath(__file__))})")
    try:
        how, path = _native.loaded()
        text, number = version(), version_number()
    except _native.LibraryNotFoundError as e:
        print(f"libspinner_rollback: not loaded: {e}", file=sys.stderr)
        return 1
    print(f"libspinner_rollback {text} (version number {number}), {how}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared fixtures: every test runs against the real library on a temp SQLite file.

The library is the one SPR_LIBRARY names (run_tests.sh), else the one the
installed package carries (a wheel: test_wheel.sh), else
<repo>/build/libspinner_rollback.so.0 (set before spinner_rollback loads it).
"""

from __future__ import annotations

import copy
import importlib.util
import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

REPO = Path(__file__).resolve().parents[3]


def _package_has_library() -> bool:
    """Whether the spinner_rollback that will be imported ships its library (no import)."""
    spec = importlib.util.find_spec("spinner_rollback")
    return bool(spec and spec.origin and (Path(spec.origin).parent / "libspinner_rollback.so.0").exists())


if "SPR_LIBRARY" not in os.environ and not _package_has_library():
    os.environ["SPR_LIBRARY"] = str(REPO / "build" / "libspinner_rollback.so.0")

import spinner_rollback as spr  # noqa: E402

if os.environ.get("SPR_TEST_EXPECT_INSTALLED") == "1":
    # test_wheel.sh: the tests must exercise the installed package and the
    # library it carries, not the source tree or a build directory.
    _how, _path = spr._native.loaded()
    _pkg = Path(spr.__file__).resolve().parent
    if REPO in _pkg.parents or _how != "bundled with the package" or Path(_path).resolve().parent != _pkg:
        raise RuntimeError(f"not testing the installed package: {_pkg}, library {_path} ({_how})")


def pytest_report_header(config: Any) -> List[str]:
    """Which package and which library the tests run against."""
    try:
        how, path = spr._native.loaded()
    except spr.LibraryNotFoundError as e:
        how, path = "not loaded", str(e)
    return [f"spinner_rollback: {Path(spr.__file__).parent}", f"libspinner_rollback: {path} ({how})"]

#: A distinctive secret value: it must never appear outside get(reveal_secrets=True).
SECRET = "Zq7-pa55w0rd-NEVER-LEAK-91f3"
KEY = "5f" * 32
PRICING = {"currency": "USD", "perGiBMonth": {"standard": 0.10, "fast": 0.25, "*": 0.20}}

BASE: Dict[str, Any] = {
    "schemaVersion": 1,
    "settings": {"rollback": {"enabled": True, "historyLimit": 20}, "description": "shop front"},
    "instances": 2,
    "containers": [
        {
            "name": "web",
            "image": {
                "reference": "registry.example/shop:1.4",
                "digest": "sha256:" + "a" * 64,
            },
            "codeVersion": "9f3c2e1",
            "command": ["/app/shop"],
            "args": ["--listen", ":8080"],
            "env": [
                {"name": "MODE", "value": "prod"},
                {"name": "DB_PASSWORD", "secretRef": {"name": "db", "key": "password"}},
                {"name": "FLAGS", "configMapRef": {"name": "shop-config", "key": "flags"}},
            ],
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP", "expose": True}],
            "resources": {"cpu": "500m", "memory": "256Mi"},
            "mounts": [
                {"path": "/etc/shop", "configMap": "shop-config"},
                {"path": "/var/lib/shop", "volume": "data"},
            ],
        }
    ],
    "volumes": [
        {"name": "data", "mode": "shared", "size": "1Gi", "storageClass": "standard", "volumeId": "vol-7f3a"}
    ],
    "configMaps": {"shop-config": {"flags": "a,b"}},
    "secrets": {"db": {"password": SECRET}},
    "labels": {"team": "shop"},
    "extensions": {},
}


def make_state(
    image: str = "registry.example/shop:1.4",
    instances: int = 2,
    *,
    secret: str = SECRET,
    volume_id: str = "vol-7f3a",
    enabled: bool = True,
    history_limit: int = 20,
    env_extra: Any = None,
    labels: Any = None,
    with_secret: bool = True,
) -> Dict[str, Any]:
    """A valid state document with a few knobs."""
    s = copy.deepcopy(BASE)
    c = s["containers"][0]
    c["image"]["reference"] = image
    s["instances"] = instances
    s["volumes"][0]["volumeId"] = volume_id
    s["settings"]["rollback"] = {"enabled": enabled, "historyLimit": history_limit}
    if with_secret:
        s["secrets"]["db"]["password"] = secret
    else:
        del s["secrets"]
        c["env"] = [e for e in c["env"] if "secretRef" not in e]
    if env_extra:
        c["env"].extend({"name": k, "value": v} for k, v in env_extra.items())
    if labels is not None:
        s["labels"] = labels
    return s


@pytest.fixture
def state() -> Callable[..., Dict[str, Any]]:
    """The state factory."""
    return make_state


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh store file path."""
    return tmp_path / "store.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[spr.Store]:
    """An open store with a key and pricing."""
    with spr.Store(db_path, key=KEY, pricing=PRICING, busy_timeout_ms=10000) as s:
        yield s

"""Shared fixtures: every test runs against the real library on a temp SQLite file.

SPR_LIBRARY is taken from the environment, else defaults to
<repo>/build/libspinner_rollback.so.0 (set before spinner_rollback loads it).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest

REPO = Path(__file__).resolve().parents[3]
os.environ.setdefault("SPR_LIBRARY", str(REPO / "build" / "libspinner_rollback.so.0"))

import spinner_rollback as spr  # noqa: E402

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

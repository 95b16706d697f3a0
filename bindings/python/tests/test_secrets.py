"""Secret values: masked everywhere, revealed only on request, encrypted at rest."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import spinner_rollback as spr
from conftest import KEY, PRICING, SECRET


def _text_of(obj) -> str:
    return repr(obj) + json.dumps(getattr(obj, "raw", {}), default=str)


def test_masked_vs_revealed(store, state):
    store.record("shop", state())
    masked = store.get("shop", 1)
    assert masked.state["secrets"]["db"]["password"] == "<redacted>"
    assert SECRET not in json.dumps(masked.state)
    revealed = store.get("shop", 1, reveal_secrets=True)
    assert revealed.state["secrets"]["db"]["password"] == SECRET
    assert revealed.version == masked.version


def test_secret_never_leaks(store, db_path: Path, state):
    other = "Other-" + SECRET
    store.record("shop", state(), author="ci")
    store.record("shop", state(secret=other))  # secretValues is a default trigger
    store.record("shop", state(secret=other, image="registry.example/shop:1.5"))
    texts = []
    vs = store.versions("shop")
    assert [v.number for v in vs] == [3, 2, 1]
    assert {r.category for r in vs[1].reasons} == {"secretValues"}
    texts += [_text_of(v) for v in vs]
    d = store.diff("shop", 1, 3)
    assert any(c.category == "secretValues" for c in d)
    texts.append(_text_of(d))
    texts.append(_text_of(spr.diff_states(state(), state(secret=other))))
    plan = store.plan_rollback("shop", 1)
    assert plan.state["secrets"]["db"]["password"] == "<redacted>"
    texts += [plan.json, _text_of(plan)]
    committed = store.commit(plan)
    texts.append(_text_of(committed))
    # An error about a document holding the secret must not echo it.
    bad = state()
    bad["secrets"]["db"]["password"] = 12345
    bad["secrets"]["db"]["unused"] = SECRET
    with pytest.raises(spr.InvalidError) as ei:
        store.record("shop", bad)
    texts.append(str(ei.value) + repr(ei.value))
    for t in texts:
        assert SECRET not in t and other not in t

    # Not on disk either, in the main file or the WAL (checked while open and after close).
    def disk_bytes() -> bytes:
        out = b""
        for suffix in ("", "-wal", "-journal"):
            p = Path(str(db_path) + suffix)
            if p.exists():
                out += p.read_bytes()
        return out

    blob = disk_bytes()
    assert len(blob) > 0
    assert SECRET.encode() not in blob and other.encode() not in blob
    store.close()
    blob = disk_bytes()
    assert SECRET.encode() not in blob and other.encode() not in blob
    # ...and yet the values come back with the key.
    with spr.Store(db_path, key=KEY) as s:
        assert s.get("shop", 1, reveal_secrets=True).state["secrets"]["db"]["password"] == SECRET
        assert s.get("shop", 4, reveal_secrets=True).state["secrets"]["db"]["password"] == SECRET


def test_no_key_refuses_secrets(tmp_path, state):
    with spr.Store(tmp_path / "nokey.db") as s:
        with pytest.raises(spr.NoKeyError) as ei:
            s.record("shop", state())
        assert ei.value.code == 9 and ei.value.name == "SPR_E_NO_KEY"
        assert SECRET not in str(ei.value)
        # without secrets it works
        assert s.record("shop", state(with_secret=False)).created


def test_wrong_key(tmp_path, state):
    p = tmp_path / "k.db"
    with spr.Store(p, key=KEY) as s:
        s.record("shop", state())
    with pytest.raises(spr.NoKeyError):
        with spr.Store(p, key="00" * 32) as s:
            s.get("shop", 1, reveal_secrets=True)


class XorCipher(spr.Cipher):
    """A toy 'KMS' for the test (never use XOR for real)."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def encrypt(self, plaintext: bytes) -> bytes:
        with self.lock:
            self.calls += 1
        return b"X1" + bytes(b ^ 0x5A for b in plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        with self.lock:
            self.calls += 1
        if not ciphertext.startswith(b"X1"):
            raise ValueError("not mine")
        return bytes(b ^ 0x5A for b in ciphertext[2:])


class BrokenCipher(spr.Cipher):
    def encrypt(self, plaintext: bytes) -> bytes:
        raise RuntimeError("KMS unreachable")

    def decrypt(self, ciphertext: bytes) -> bytes:
        raise RuntimeError("KMS unreachable")


def test_host_cipher(tmp_path, state):
    p = tmp_path / "kms.db"
    c = XorCipher()
    with spr.Store(p, cipher=c, pricing=PRICING) as s:
        s.record("shop", state())
        assert s.get("shop", 1, reveal_secrets=True).state["secrets"]["db"]["password"] == SECRET
    assert c.calls >= 1
    with spr.Store(p, cipher=XorCipher()) as s:
        assert s.get("shop", 1, reveal_secrets=True).state["secrets"]["db"]["password"] == SECRET
    assert SECRET.encode() not in p.read_bytes()
    # A failing cipher is a NoKeyError carrying the Python exception as its cause.
    with pytest.raises(spr.NoKeyError) as ei:
        with spr.Store(p, cipher=BrokenCipher()) as s:
            s.get("shop", 1, reveal_secrets=True)
    assert isinstance(ei.value.__cause__, RuntimeError)
    with pytest.raises(spr.InvalidError):
        spr.Store(tmp_path / "both.db", cipher=XorCipher(), key=KEY)

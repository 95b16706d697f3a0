"""Keyrings and key rotation, bundles (export / import) and migration (C API 0.2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import spinner_rollback as spr
from conftest import KEY, SECRET, make_state

V14 = "registry.example/shop:1.4"
V15 = "registry.example/shop:1.5"
V16 = "registry.example/shop:1.6"

#: The key that replaces KEY in the keyring tests.
NEW_KEY = "a7" * 32
#: The key bundles are sealed under; neither store's own key.
EXPORT_KEY = "3c" * 32
#: The key of the stores bundles are imported into.
OTHER_KEY = "e1" * 32

OTHER_SECRET = "Other-" + SECRET


def _fill(store: spr.Store) -> None:
    """Two spinners, with secrets, tags, notes, statuses and a snapshot."""
    store.record("shop", make_state(image=V14), author="ci", message="first")
    store.record("shop", make_state(image=V15, secret=OTHER_SECRET), author="ci")
    store.record("shop", make_state(image=V16, secret=OTHER_SECRET), author="bob")
    store.tag("shop", 1, "known-good", note="before 1.5", author="alice")
    store.annotate("shop", 2, "v2 broke checkout", author="alice")
    store.set_status("shop", 3, "active")
    store.register_snapshot("snap-1", "vol-7f3a", 2 * 2**30, storage_class="standard")
    store.record("cart", make_state(image="registry.example/cart:1.0", with_secret=False))


def _history(store: spr.Store) -> dict:
    """Every spinner's versions, and each version revealed, for comparison."""
    out = {}
    for name in store.spinners():
        versions = store.versions(name)
        details = [store.get(name, v.number, reveal_secrets=True) for v in versions]
        out[name] = (versions, [(d.state, d.notes) for d in details])
    return out


def _secret_of(store: spr.Store, spinner: str, number: int) -> str:
    return store.get(spinner, number, reveal_secrets=True).state["secrets"]["db"]["password"]


def _key_file(tmp_path: Path, name: str, key: str) -> Path:
    p = tmp_path / name
    p.write_text(key + "\n")
    p.chmod(0o600)
    return p


def _no_leak(err: BaseException, *keys: str) -> None:
    text = str(err) + repr(err)
    for k in (SECRET, OTHER_SECRET, *keys):
        assert k not in text


# -- keyrings and rotation -------------------------------------------------------


def test_keyring_rotate_with_reseal_retires_the_old_key(tmp_path, state):
    db = tmp_path / "ring.db"
    k1_file = _key_file(tmp_path, "k1.key", KEY)
    with spr.Store(db, key=KEY) as s:
        _fill(s)
        before = _history(s)

    # Roll the new key out first (it wraps), the old one still unwraps.
    ring = [spr.KeyringKey("k2", NEW_KEY), spr.KeyringKey("k1", key_file=k1_file)]
    with spr.Store(db, keys=ring) as s:
        assert _secret_of(s, "shop", 1) == SECRET
        r = s.rotate_key(reseal=True, batch_size=1)
        assert isinstance(r, spr.RotateResult)
        assert r.key_id == "k2" and r.rewrapped >= 1 and r.resealed >= 2 and r.resumed is False
        assert r.raw["keyId"] == "k2"
        # Nothing visible changed: same versions, digests, revealed states.
        assert _history(s) == before
        # Again without reseal: only a re-wrap, nothing left to re-seal.
        again = s.rotate_key()
        assert again.key_id == "k2" and again.resealed == 0 and not again.resumed

    # The retired key alone opens nothing, given either way.
    with pytest.raises(spr.NoKeyError) as ei:
        spr.Store(db, key=KEY)
    assert ei.value.code == 9 and ei.value.path == "options.key"
    _no_leak(ei.value, KEY, NEW_KEY)
    with pytest.raises(spr.NoKeyError) as ei:
        spr.Store(db, keys=[spr.KeyringKey("k1", key_file=k1_file)])
    assert ei.value.path == "options.keys"
    _no_leak(ei.value, KEY, NEW_KEY)

    # The new key alone (as raw bytes, in a one-key ring given as a dict) does.
    with spr.Store(db, keys=[{"id": "k2", "key": bytes.fromhex(NEW_KEY)}]) as s:
        assert _history(s) == before
        assert _secret_of(s, "shop", 2) == OTHER_SECRET
    assert SECRET.encode() not in db.read_bytes()


def test_keyring_options_are_validated(tmp_path, state):
    db = tmp_path / "v.db"
    k = spr.KeyringKey("k2", NEW_KEY)
    assert NEW_KEY not in repr(k) and "k2" in repr(k)  # the key stays out of repr

    bad = [
        (dict(keys=[spr.KeyringKey("k2", b"\x01" * 31)]), "options.keys[0].key"),
        (dict(keys=[k, spr.KeyringKey("k1", b"short")]), "options.keys[1].key"),
        (dict(keys=[spr.KeyringKey("k2")]), "options.keys[0]"),  # neither key nor key_file
        (dict(keys=[k, spr.KeyringKey("k2", KEY)]), "options.keys[1].id"),  # duplicate id
        (dict(keys=[spr.KeyringKey("no spaces", KEY)]), "options.keys[0].id"),
        (dict(keys=[spr.KeyringKey("k2", "not-a-key")]), "options.keys[0].key"),
        (dict(keys=[]), "options.keys"),
        (dict(keys=[k], key=KEY), "options.keys"),  # a ring or a single key, not both
    ]
    for kwargs, path in bad:
        with pytest.raises(spr.InvalidError) as ei:
            spr.Store(db, **kwargs)
        assert ei.value.path == path, kwargs
        _no_leak(ei.value, KEY, NEW_KEY)
    for keys in ("k2", [("k2", NEW_KEY)], [{"id": "k2", "key": NEW_KEY, "secret": 1}], [spr.KeyringKey(2, KEY)]):
        with pytest.raises(TypeError):
            spr.Store(db, keys=keys)

    with spr.Store(db, keys=[k]) as s:
        s.record("shop", state())
        with pytest.raises(spr.InvalidError) as ei:
            s.rotate_key(batch_size=0)
        assert ei.value.path == "options.batchSize"
        with pytest.raises(TypeError):
            s.rotate_key(reseal="yes")
    with spr.Store(tmp_path / "nokey.db") as s:
        with pytest.raises(spr.NoKeyError):
            s.rotate_key()


def test_rotate_a_store_without_secrets(tmp_path, state):
    with spr.Store(tmp_path / "plain.db", keys=[spr.KeyringKey("k1", KEY)]) as s:
        s.record("shop", state(with_secret=False))
        r = s.rotate_key(reseal=True)
        assert r == spr.RotateResult(key_id="k1", rewrapped=0, resealed=0, resumed=False)


# -- export and import -----------------------------------------------------------


def test_export_import_gives_the_same_history(tmp_path, store):
    _fill(store)
    bundle = tmp_path / "all.bundle"
    assert store.export(bundle, key=EXPORT_KEY) is None
    assert bundle.exists() and not Path(str(bundle) + ".partial").exists()
    blob = bundle.read_bytes()
    assert SECRET.encode() not in blob and OTHER_SECRET.encode() not in blob

    with spr.Store(tmp_path / "copy.db", key=OTHER_KEY) as copy:
        r = copy.import_bundle(bundle, key=EXPORT_KEY)
        assert isinstance(r, spr.ImportResult)
        assert r.source_store_id == store.info().store_id != copy.info().store_id
        assert (r.spinners_imported, r.spinners_skipped) == (2, 0)
        assert (r.versions_imported, r.versions_skipped) == (4, 0)
        assert (r.snapshots_imported, r.snapshots_skipped) == (1, 0)

        assert copy.spinners() == store.spinners() == ["cart", "shop"]
        assert _history(copy) == _history(store)
        assert [v.tags for v in copy.versions("shop")] == [v.tags for v in store.versions("shop")]
        assert copy.snapshots() == store.snapshots()
        assert copy.tagged_version("shop", "known-good") == 1

        imported = [e for e in copy.events() if e.type == "spinner.imported"]
        assert sorted((e.spinner, e.version, e.data["versions"]) for e in imported) == [
            ("cart", 1, 1),
            ("shop", 3, 3),
        ]
        assert all(e.data["sourceStoreId"] == r.source_store_id for e in imported)
        assert {e.type for e in copy.events()} <= set(spr.EVENT_TYPES)

        # A second import finds everything there: skipped, nothing written.
        seq = copy.events().next
        again = copy.import_bundle(bundle, key=EXPORT_KEY)
        assert (again.spinners_imported, again.spinners_skipped) == (0, 2)
        assert (again.versions_imported, again.versions_skipped) == (0, 4)
        assert (again.snapshots_imported, again.snapshots_skipped) == (0, 1)
        assert copy.events(after=seq).events == []
        assert _history(copy) == _history(store)


def test_export_one_spinner_with_key_files(tmp_path, store):
    _fill(store)
    kf = _key_file(tmp_path, "export.key", EXPORT_KEY)
    bundle = tmp_path / "shop.bundle"
    store.export(os.fspath(bundle), "shop", key_file=kf)
    with spr.Store(tmp_path / "copy.db", key_file=_key_file(tmp_path, "own.key", OTHER_KEY)) as copy:
        r = copy.import_bundle(bundle, key_file=kf)
        assert (r.spinners_imported, r.versions_imported) == (1, 3)
        assert copy.spinners() == ["shop"]
        assert _secret_of(copy, "shop", 3) == OTHER_SECRET
    # A bundle without secrets needs no key at either end.
    plain = tmp_path / "cart.bundle"
    store.export(plain, "cart")
    with spr.Store(tmp_path / "nokey.db") as bare:
        assert bare.import_bundle(plain).versions_imported == 1


def test_export_refusals(tmp_path, store):
    _fill(store)
    with pytest.raises(spr.NoKeyError) as ei:
        store.export(tmp_path / "x.bundle")  # secrets to export, no export key
    assert ei.value.path == "options.key"
    assert not (tmp_path / "x.bundle").exists()
    with pytest.raises(spr.NotFoundError):
        store.export(tmp_path / "x.bundle", "nobody", key=EXPORT_KEY)
    with pytest.raises(spr.InvalidError) as ei:
        store.export(tmp_path / "x.bundle", key=b"\x00" * 5)
    assert ei.value.path == "options.key"
    with pytest.raises(spr.InvalidError) as ei:
        store.export(str(tmp_path / "x\x00.bundle"), key=EXPORT_KEY)
    assert ei.value.path == "path"
    with pytest.raises(spr.StoreIOError):
        store.export(tmp_path / "no-such-dir" / "x.bundle", key=EXPORT_KEY)


def test_import_with_the_wrong_key_imports_nothing(tmp_path, store):
    _fill(store)
    bundle = tmp_path / "all.bundle"
    store.export(bundle, key=EXPORT_KEY)
    with spr.Store(tmp_path / "copy.db", key=OTHER_KEY) as copy:
        for kwargs in ({}, {"key": OTHER_KEY}):
            with pytest.raises(spr.NoKeyError) as ei:
                copy.import_bundle(bundle, **kwargs)
            _no_leak(ei.value, EXPORT_KEY, OTHER_KEY)
        assert copy.spinners() == [] and copy.snapshots() == []
    with pytest.raises(spr.StoreIOError):
        store.import_bundle(tmp_path / "missing.bundle", key=EXPORT_KEY)


def test_truncated_bundle_is_invalid_and_nothing_is_imported(tmp_path, store):
    _fill(store)
    bundle = tmp_path / "all.bundle"
    store.export(bundle, key=EXPORT_KEY)
    lines = bundle.read_bytes().splitlines(keepends=True)
    assert len(lines) > 4
    cut = tmp_path / "cut.bundle"
    cut.write_bytes(b"".join(lines[: len(lines) - 2]))  # the tail (and end line) lost

    with spr.Store(tmp_path / "copy.db", key=OTHER_KEY) as copy:
        copy.record("other", make_state(with_secret=False))
        before = (_history(copy), copy.events().next)
        with pytest.raises(spr.InvalidError) as ei:
            copy.import_bundle(cut, key=EXPORT_KEY)
        e = ei.value
        assert e.code == 1 and e.path.startswith("bundle:")
        line = e.path[len("bundle:") :]
        assert line.isdigit() and line in e.message and "line" in e.message
        _no_leak(e, EXPORT_KEY)
        # Checked whole before anything is written.
        assert (_history(copy), copy.events().next) == before
        assert copy.spinners() == ["other"] and copy.snapshots() == []

        # So is an altered line (a digest no longer matching, say).
        altered = tmp_path / "altered.bundle"
        altered.write_bytes(bundle.read_bytes().replace(b"v2 broke checkout", b"v2 fixed checkout"))
        with pytest.raises(spr.InvalidError) as ei:
            copy.import_bundle(altered, key=EXPORT_KEY)
        assert ei.value.path.startswith("bundle:")
        assert copy.spinners() == ["other"]


def test_import_of_a_conflicting_history(tmp_path, store):
    _fill(store)
    bundle = tmp_path / "all.bundle"
    store.export(bundle, key=EXPORT_KEY)
    with spr.Store(tmp_path / "copy.db", key=OTHER_KEY) as copy:
        copy.record("cart", make_state(image="registry.example/cart:9.9", with_secret=False))
        before = _history(copy)
        with pytest.raises(spr.ConflictError):
            copy.import_bundle(bundle, key=EXPORT_KEY)
        assert _history(copy) == before and copy.spinners() == ["cart"]


# -- migrate ---------------------------------------------------------------------


def test_migrate_to_another_sqlite_file(tmp_path, store):
    _fill(store)
    target = tmp_path / "target.db"
    ring = [spr.KeyringKey("t1", OTHER_KEY)]
    m = store.migrate(target, keys=ring, durability="normal")
    assert isinstance(m, spr.MigrateResult) and isinstance(m.imported, spr.ImportResult)
    assert m.versions_verified == 4
    assert m.imported.source_store_id == store.info().store_id
    assert (m.imported.spinners_imported, m.imported.versions_imported, m.imported.snapshots_imported) == (2, 4, 1)
    with spr.Store(target, keys=ring) as t:
        assert t.info().store_id == m.target_store_id != m.imported.source_store_id
        assert _history(t) == _history(store)

    # Running it again skips what is there, and verifies it all again.
    again = store.migrate(os.fspath(target), key=OTHER_KEY)
    assert again.versions_verified == 4 and again.target_store_id == m.target_store_id
    assert (again.imported.spinners_imported, again.imported.spinners_skipped) == (0, 2)
    assert again.imported.versions_skipped == 4


def test_migrate_refusals(tmp_path, store):
    _fill(store)
    with pytest.raises(spr.NoKeyError):
        store.migrate(tmp_path / "nokey.db")  # secrets, and the target has no key
    with pytest.raises(spr.InvalidError) as ei:
        store.migrate(tmp_path / "t.db", key=OTHER_KEY, durability="sometimes")
    assert ei.value.path == "options.durability"
    with pytest.raises(TypeError):
        store.migrate(tmp_path / "t.db", cipher=object())
    with pytest.raises(TypeError):
        store.migrate(tmp_path / "t.db", bogus=1)


def test_closed_store_refuses_the_new_calls(tmp_path, store):
    store.close()
    for call in (
        lambda: store.rotate_key(),
        lambda: store.export(tmp_path / "x.bundle"),
        lambda: store.import_bundle(tmp_path / "x.bundle"),
        lambda: store.migrate(tmp_path / "t.db", key=OTHER_KEY),
    ):
        with pytest.raises(spr.StoreClosedError):
            call()

"""Recording, listing, reading and diffing versions; the Store lifecycle."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone

import pytest

import spinner_rollback as spr
from conftest import KEY, SECRET


def test_library_version():
    v = spr.version()
    assert v.count(".") == 2
    major, minor, patch = (int(x) for x in v.split("."))
    assert spr.version_number() == major * 10000 + minor * 100 + patch
    assert spr.error_name(3) == "SPR_E_CONFLICT"
    assert spr.error_name(999) == "SPR_E_UNKNOWN"


def test_missing_library_names_spr_library(tmp_path):
    code = textwrap.dedent(
        """
        import spinner_rollback as spr
        try:
            spr.version()
        except ImportError as e:
            assert isinstance(e, spr.LibraryNotFoundError)
            print("OK", e)
        """
    )
    env = dict(os.environ, SPR_LIBRARY=str(tmp_path / "nope.so.0"))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert r.stdout.startswith("OK")
    assert "SPR_LIBRARY" in r.stdout


def _run_main(env, cwd):
    return subprocess.run(
        [sys.executable, "-m", "spinner_rollback", "--version"], env=env, cwd=cwd, capture_output=True, text=True
    )


def test_main_version_prints_both_versions(tmp_path):
    r = _run_main(dict(os.environ), tmp_path)
    assert r.returncode == 0, r.stderr
    pkg_line, lib_line = r.stdout.splitlines()
    assert pkg_line.startswith(f"spinner_rollback {spr.__version__} (Python package in ")
    assert lib_line.startswith(f"libspinner_rollback {spr.version()} (version number {spr.version_number()}), ")
    loaded = lib_line.rsplit(": ", 1)[1]
    assert os.path.samefile(loaded, spr._native.loaded()[1])


def _package_copy(tmp_path, library_bytes):
    """A copy of the imported package under tmp_path/pkg, with *library_bytes* as its bundled library."""
    import shutil

    src = os.path.dirname(spr.__file__)
    dst = tmp_path / "pkg" / "spinner_rollback"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "libspinner_rollback*"))
    vendored = os.path.join(os.path.dirname(src), "spinner_rollback.libs")  # a repaired (manylinux) wheel
    if os.path.isdir(vendored):
        shutil.copytree(vendored, tmp_path / "pkg" / "spinner_rollback.libs")
    (dst / "libspinner_rollback.so.0").write_bytes(library_bytes)
    env = {k: v for k, v in os.environ.items() if k != "SPR_LIBRARY"}
    env["PYTHONPATH"] = str(tmp_path / "pkg")
    return dst / "libspinner_rollback.so.0", env


def test_bundled_library_is_loaded_first_and_spr_library_overrides_it(tmp_path):
    real = spr._native.loaded()[1]
    with open(real, "rb") as f:
        bundled, env = _package_copy(tmp_path, f.read())
    r = _run_main(env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1].endswith(f"bundled with the package: {bundled}")
    env["SPR_LIBRARY"] = real
    r = _run_main(env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"SPR_LIBRARY={real}: " in r.stdout.splitlines()[1]


def test_broken_bundled_library_is_reported_not_bypassed(tmp_path):
    bundled, env = _package_copy(tmp_path, b"not an ELF file")
    r = _run_main(env, tmp_path)
    assert r.returncode == 1
    assert "libspinner_rollback: not loaded:" in r.stderr
    assert f"bundled with the package: {bundled}" in r.stderr and "SPR_LIBRARY" in r.stderr


def test_record_created_unchanged_disabled(store, state):
    r1 = store.record("shop", state(), author="ci", message="first deploy", request_id="d-1")
    assert r1.outcome == "created" and r1.created
    assert r1.version is not None and r1.version.number == 1
    assert r1.version.reason == "deploy" and r1.version.current
    assert r1.version.author == "ci" and r1.version.message == "first deploy"
    assert r1.reasons == [spr.Reason("first", "$")]
    assert isinstance(r1.version.created_at, datetime)
    assert r1.version.created_at.tzinfo is not None
    assert r1.version.digest.startswith("sha256:")
    assert r1.version.rollback_of is None and r1.version.status == "pending"

    # Only untracked fields changed: nothing is created.
    r2 = store.record("shop", state(labels={"team": "other"}))
    assert r2.outcome == "unchanged" and r2.version is None and not r2.created

    # Rollback disabled: nothing versioned, history kept.
    r3 = store.record("shop", state(image="registry.example/shop:1.5", enabled=False))
    assert r3.outcome == "disabled" and r3.version is None
    assert [v.number for v in store.versions("shop")] == [1]
    assert store.spinner_info("shop").rollback_enabled is False

    # Re-enabled with a different state: recorded at once, reason "reenabled".
    r4 = store.record("shop", state(image="registry.example/shop:1.5"))
    assert r4.outcome == "created" and r4.version.number == 2
    assert r4.version.reason == "reenabled"
    assert spr.Reason("image", "containers[web].image") in r4.reasons


def test_record_accepts_json_text(store, state):
    import json

    r = store.record("shop", json.dumps(state()))
    assert r.created
    r = store.record("shop", json.dumps(state()).encode())
    assert r.outcome == "unchanged"
    with pytest.raises(TypeError):
        store.record("shop", 42)  # type: ignore[arg-type]


def test_versions_newest_first_and_summary(store, state):
    store.record("shop", state())
    store.record("shop", state(image="registry.example/shop:1.5"))
    store.record("shop", state(image="registry.example/shop:1.5", instances=3, env_extra={"DEBUG": "1"}))
    vs = store.versions("shop")
    assert [v.number for v in vs] == [3, 2, 1]
    assert [v.current for v in vs] == [True, False, False]
    assert vs[0].created_at >= vs[1].created_at >= vs[2].created_at
    assert "instances 2 → 3" in vs[0].summary and "DEBUG" in vs[0].summary
    assert "shop:1.4 → shop:1.5" in vs[1].summary
    assert {r.category for r in vs[0].reasons} == {"instances", "env"}
    # frozen dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        vs[0].number = 7  # type: ignore[misc]


def test_versions_page(store, state):
    for i in range(1, 8):
        store.record("shop", state(env_extra={"N": str(i)}))
    pages, before = [], 0
    while True:
        page = store.versions_page("shop", before=before, limit=3)
        if not page:
            break
        pages.append([v.number for v in page])
        before = page[-1].number
    assert pages == [[7, 6, 5], [4, 3, 2], [1]]
    assert [v.number for v in store.versions_page("shop", before=3, limit=10)] == [2, 1]
    with pytest.raises(spr.InvalidError) as e:
        store.versions_page("shop", limit=0)
    assert e.value.path == "limit"
    with pytest.raises(spr.InvalidError) as e:
        store.versions_page("shop", before=-1)
    assert e.value.path == "before"
    with pytest.raises(spr.NotFoundError):
        store.versions_page("nobody")


def test_get_and_diff(store, state):
    store.record("shop", state())
    store.record("shop", state(image="registry.example/shop:1.5", instances=3))
    d = store.get("shop", 1)
    assert isinstance(d, spr.VersionDetail)
    assert d.version.number == 1 and not d.version.current
    assert d.state["instances"] == 2
    assert d.state["containers"][0]["image"]["reference"] == "registry.example/shop:1.4"

    diff = store.diff("shop", 1, 2)
    assert isinstance(diff, spr.Diff) and len(diff) == 2
    by_path = {c.path: c for c in diff}
    assert by_path["instances"] == spr.Change("instances", "instances", "changed", 2, 3)
    img = by_path["containers[web].image"]
    assert img.category == "image" and img.kind == "changed"
    assert img.from_["reference"].endswith(":1.4") and img.to["reference"].endswith(":1.5")
    assert sorted(diff.categories) == ["image", "instances"]
    assert not store.diff("shop", 2, 2)


def test_diff_states_without_store(state):
    a = state(with_secret=False)
    b = state(with_secret=False, env_extra={"DEBUG": "1"})
    d = spr.diff_states(a, b)
    assert d.changes == [spr.Change("containers[web].env[DEBUG]", "env", "added", None, "1")]
    masked = spr.diff_states(state(), state(secret="rotated-value"))
    assert masked.changes == [
        spr.Change("secrets[db][password]", "secretValues", "changed", "<redacted>", "<redacted>")
    ]
    assert spr.diff_states(a, a).changes == []
    with pytest.raises(spr.InvalidError):
        spr.diff_states(a, "{not json")


def test_set_status_and_info(store, state):
    store.record("shop", state())
    store.set_status("shop", 1, "active")
    assert store.versions("shop")[0].status == "active"
    info = store.spinner_info("shop")
    assert info.spinner == "shop" and info.current_version == 1 and info.history_limit == 20
    assert info.versions_created == 1 and info.rollback_enabled
    assert info.last_recorded_at is not None and info.last_recorded_at <= datetime.now(timezone.utc)
    with pytest.raises(spr.InvalidError) as ei:
        store.set_status("shop", 1, "sideways")
    assert ei.value.path == "status"


def test_close_twice_and_closed_store(db_path, state):
    s = spr.Store(db_path, key=KEY)
    s.record("shop", state())
    assert not s.closed and "open" in repr(s)
    s.close()
    s.close()  # idempotent
    assert s.closed
    for call in (
        lambda: s.versions("shop"),
        lambda: s.record("shop", state()),
        lambda: s.get("shop", 1),
        lambda: s.snapshots(),
        lambda: s.plan_rollback("shop", 1),
    ):
        with pytest.raises(spr.StoreClosedError) as ei:
            call()
        assert isinstance(ei.value, spr.InvalidError) and isinstance(ei.value, ValueError)
        assert "closed" in str(ei.value)
    # the data survived: reopen
    with spr.Store(str(db_path), key=KEY) as s2:
        assert [v.number for v in s2.versions("shop")] == [1]
    assert s2.closed


def test_store_accepts_pathlike_and_raw_key(tmp_path, state):
    raw = bytes.fromhex(KEY)
    with spr.Store(tmp_path / "p.db", key=raw) as s:
        s.record("shop", state())
    with spr.Store(os.fspath(tmp_path / "p.db"), key=KEY) as s:
        assert s.get("shop", 1, reveal_secrets=True).state["secrets"]["db"]["password"] == SECRET


def test_key_file(tmp_path, state):
    kf = tmp_path / "key"
    kf.write_text(KEY + "\n")
    kf.chmod(0o600)
    with spr.Store(tmp_path / "k.db", key_file=kf) as s:
        s.record("shop", state())
        assert s.get("shop", 1, reveal_secrets=True).state["secrets"]["db"]["password"] == SECRET


def test_open_options_validated(tmp_path):
    with pytest.raises(spr.InvalidError) as ei:
        spr.Store(tmp_path / "o.db", durability="sometimes")
    assert ei.value.path == "options.durability"
    with spr.Store(tmp_path / "o.db", durability="normal", busy_timeout_ms=250) as s:
        assert not s.closed


def test_argument_guards(store, state):
    store.record("shop", state())
    with pytest.raises(spr.InvalidError) as ei:
        store.get("shop", 2**64)  # ctypes would silently truncate this to 0
    assert ei.value.path == "number"
    with pytest.raises(spr.InvalidError) as ei:
        store.versions("shop\x00evil")  # a C string would end at the NUL
    assert ei.value.path == "spinner"
    with pytest.raises(TypeError):
        store.get("shop", True)
    with pytest.raises(TypeError):
        store.get("shop", "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.versions(b"shop")  # type: ignore[arg-type]


def test_hostile_input_is_refused_not_crashing(store):
    deep = '{"schemaVersion": 1, "extensions": ' + "[" * 100000 + "]" * 100000 + "}"
    with pytest.raises(spr.InvalidError):
        store.record("shop", deep)
    with pytest.raises(spr.InvalidError):
        store.record("shop", b'{"schemaVersion": 1, "labels": {"a": "\xff\xfe"}}')
    with pytest.raises(spr.InvalidError):
        store.record("shop", '{"schemaVersion": 1, "instances": 1e999}')
    with pytest.raises(spr.InvalidError):
        store.record("shop", {"schemaVersion": 1, "labels": {"a": "x" * (64 * 1024 * 1024)}})


def test_unclosed_store_is_closed_by_gc(db_path, state):
    import gc

    s = spr.Store(db_path, key=KEY)
    s.record("shop", state())
    del s
    gc.collect()
    with spr.Store(db_path, key=KEY) as s2:
        assert s2.versions("shop")[0].number == 1


def test_store_info_and_spinners(store, state, db_path):
    info = store.info()
    assert isinstance(info, spr.StoreInfo)
    assert info.engine == "sqlite" and info.schema_version >= 2
    assert info.library_version == spr.version()
    assert len(info.store_id) == 36 and info.store_id.count("-") == 4
    assert store.spinners() == []
    store.record("web", state())
    store.record("api", state())
    assert store.spinners() == ["api", "web"]
    store.close()
    with spr.Store(db_path, key=KEY) as again:
        assert again.info().store_id == info.store_id  # made once, kept

"""fork() and multiprocessing: children open their own Store, even while the
parent's threads are inside calls; an inherited Store is refused."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import List

import pytest

import spinner_rollback as spr
from conftest import KEY, make_state

FORKS = 50
THREADS = 4
BUSY_MS = 30000
DEADLINE_S = 90  # a child still running then is hung


def _child_records(inherited: spr.Store, path: str, n: int) -> None:
    """Runs in a forked child: exit code 0 when all is as documented."""
    try:
        inherited.versions("shop")
    except spr.InvalidError as e:
        if "cannot be used in this one" not in str(e):
            raise SystemExit(f"child {n}: wrong message: {e}")
    else:
        raise SystemExit(f"child {n}: the inherited Store was not refused")
    with spr.Store(path, key=KEY, busy_timeout_ms=BUSY_MS) as mine:
        r = mine.record(f"child-{n}", make_state(instances=n + 1))
        if r.outcome != "created":
            raise SystemExit(f"child {n}: {r.outcome}")
    inherited.close()  # safe: the parent's connection is not touched


def test_fork_while_threads_record_and_commit(db_path: Path) -> None:
    path = str(db_path)
    store = spr.Store(path, key=KEY, busy_timeout_ms=BUSY_MS)
    first = store.record("shop", make_state(history_limit=100000)).version.number
    stop = threading.Event()
    errors: List[BaseException] = []
    writes = [0] * THREADS

    def worker(t: int) -> None:
        k = 0
        try:
            while not stop.is_set():
                k += 1
                r = store.record("shop", make_state(instances=1 + (t * 2500 + k) % 10000, history_limit=100000))
                writes[t] += r.created
                if k % 4 == 0:
                    try:
                        store.commit(store.plan_rollback("shop", first))
                        writes[t] += 1
                    except (spr.ConflictError, spr.IdenticalError):
                        pass  # another thread moved the current version
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    ctx = multiprocessing.get_context("fork")
    procs = []
    for n in range(FORKS):
        time.sleep((n % 7) / 1000)  # fork at varied instants
        p = ctx.Process(target=_child_records, args=(store, path, n))
        p.start()
        procs.append(p)
    deadline = time.monotonic() + DEADLINE_S
    hung = []
    for n, p in enumerate(procs):
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()
            hung.append(n)
    stop.set()
    for t in threads:
        t.join()
    assert hung == []
    assert [p.exitcode for p in procs] == [0] * FORKS
    assert errors == []
    total = sum(writes)
    assert total > 0
    vs = store.versions("shop")
    numbers = [v.number for v in vs]
    assert numbers == list(range(1 + total, 0, -1))  # gap-free, nothing lost
    assert sum(v.current for v in vs) == 1
    for n in range(FORKS):
        assert [v.number for v in store.versions(f"child-{n}")] == [1]
    store.close()


def _record_in_new_store(path: str, spinner: str) -> int:
    with spr.Store(path, key=KEY, busy_timeout_ms=BUSY_MS) as s:
        return s.record(spinner, make_state()).version.number


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_any_start_method(db_path: Path, method: str) -> None:
    with spr.Store(db_path, key=KEY) as store:
        store.record("shop", make_state())
        ctx = multiprocessing.get_context(method)
        with ctx.Pool(3) as pool:
            got = pool.starmap(_record_in_new_store, [(str(db_path), f"{method}-{i}") for i in range(6)])
        assert got == [1] * 6
        assert sorted(store.spinners()) == sorted(["shop"] + [f"{method}-{i}" for i in range(6)])

"""One Store shared by threads: gap-free numbering; close waits for calls in flight."""

from __future__ import annotations

import threading

import spinner_rollback as spr
from conftest import KEY, make_state

THREADS = 8
PER_THREAD = 10


def test_eight_threads_record_gap_free(store):
    barrier = threading.Barrier(THREADS)
    created = []
    errors = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        barrier.wait()
        for i in range(PER_THREAD):
            try:
                r = store.record(
                    "shop",
                    make_state(instances=1 + t * PER_THREAD + i),  # every state distinct
                    author=f"thread-{t}",
                    request_id=f"t{t}-{i}",
                )
                with lock:
                    created.append(r.version.number)
            except Exception as e:  # pragma: no cover - reported below
                with lock:
                    errors.append(e)

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    n = THREADS * PER_THREAD
    assert sorted(created) == list(range(1, n + 1))
    vs = store.versions("shop")
    numbers = [v.number for v in vs]
    assert numbers == sorted(numbers, reverse=True)
    assert numbers[0] == n and len(set(numbers)) == len(numbers)
    assert numbers == list(range(n, n - len(numbers), -1))  # contiguous (retention keeps 21)
    assert sum(v.current for v in vs) == 1
    assert store.spinner_info("shop").versions_created == n


def test_many_spinners_in_parallel(store):
    def worker(t: int) -> None:
        for i in range(5):
            store.record(f"svc-{t}", make_state(instances=i + 1))

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for t in range(THREADS):
        assert [v.number for v in store.versions(f"svc-{t}")] == [5, 4, 3, 2, 1]


def test_close_while_threads_use_the_store(tmp_path):
    s = spr.Store(tmp_path / "c.db", key=KEY)
    s.record("shop", make_state())
    stop = threading.Event()
    outcomes = []

    def reader() -> None:
        while not stop.is_set():
            try:
                s.versions("shop")
                s.get("shop", 1)
            except spr.StoreClosedError:
                outcomes.append("closed")
                return

    ts = [threading.Thread(target=reader) for _ in range(THREADS)]
    for t in ts:
        t.start()
    s.close()  # must wait for in-flight calls, never free the handle under them
    for t in ts:
        t.join(timeout=30)
    stop.set()
    assert outcomes == ["closed"] * THREADS


def test_several_processes_on_one_file(tmp_path):
    """Several processes append to one store file; numbering stays gap-free."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    db = tmp_path / "mp.db"
    with spr.Store(db, key=KEY):
        pass  # create the schema once
    code = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, {tests!r})
        import spinner_rollback as spr
        from conftest import make_state
        p = int(sys.argv[1])
        with spr.Store({db!r}, key={key!r}, busy_timeout_ms=30000) as s:
            for i in range(10):
                r = s.record("shop", make_state(instances=1 + p * 10 + i))
                assert r.created, r
        """
    ).format(tests=str(Path(__file__).parent), db=str(db), key=KEY)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(p)]) for p in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    with spr.Store(db, key=KEY) as s:
        info = s.spinner_info("shop")
        assert info.versions_created == 40 and info.current_version == 40
        numbers = [v.number for v in s.versions("shop")]
        assert numbers == list(range(40, 40 - len(numbers), -1))

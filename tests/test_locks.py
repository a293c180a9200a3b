"""Cross-process locks (pipeline/locks.py) and the Prefect lock manager built on them (flows/locking.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from pipeline.state.locks import FileLock, hold, lock_file, sweep_locks

# What FileLock.acquire does, without importing the pipeline (seconds of imports for a child that only holds a lock).
HOLDER = """
import fcntl, os, sys, time
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


def _holder(path: Path) -> subprocess.Popen:
    """Another process holding the lock at `path` until it is killed."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "held\n"
    return process


def test_a_lock_held_by_another_process_waits_and_a_killed_holder_frees_it_at_once(tmp_path):
    path = lock_file(tmp_path, "step-abc")
    holder = _holder(path)
    try:
        assert FileLock(path).is_locked()
        assert FileLock(path).acquire(timeout=0.2) is False
    finally:
        holder.kill()  # SIGKILL: no cleanup runs, the lock file stays
        holder.wait()
    assert path.exists()  # the file of a killed holder is left behind ...
    lock = FileLock(path)
    started = time.monotonic()
    assert lock.acquire(timeout=5) is True  # ... but it blocks no one
    assert time.monotonic() - started < 1
    lock.release()
    assert not path.exists()


def test_threads_of_one_process_exclude_each_other(tmp_path):
    inside, overlaps = [], []

    def work() -> None:
        with hold(tmp_path, "render-key"):
            inside.append(1)
            overlaps.append(len(inside))
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [1, 1, 1, 1]


def test_a_slow_wait_is_said_once(tmp_path, caplog):
    path = lock_file(tmp_path, "youtube-main-abc")
    holder = _holder(path)
    threading.Timer(1.2, holder.kill).start()
    with (
        caplog.at_level("INFO", logger="shorts"),
        hold(tmp_path, "youtube-main-abc", waiting="waiting for the other upload"),
    ):
        pass
    holder.wait()
    assert [r.message for r in caplog.records] == ["  waiting for the other upload"]


def test_lock_names_are_safe_file_names(tmp_path):
    odd = lock_file(tmp_path, "../../etc/passwd")
    assert odd.parent == tmp_path / "locks" and "/" not in odd.name and odd.name.endswith(".lock")
    assert lock_file(tmp_path, "a/b") != lock_file(tmp_path, "a-b")


def test_sweeping_removes_only_lock_files_nobody_holds(tmp_path):
    free, taken = lock_file(tmp_path, "free"), lock_file(tmp_path, "taken")
    lock = FileLock(taken)
    lock.acquire()
    free.touch()  # as a killed holder leaves it
    try:
        assert sweep_locks(free.parent) == [free]
        assert taken.exists() and lock.held
    finally:
        lock.release()


def test_the_prefect_lock_manager_holds_per_holder_and_tolerates_a_second_release(tmp_path, monkeypatch):
    from flows.locking import FlockLockManager

    monkeypatch.setenv("SHORTS_HOME", str(tmp_path))
    manager = FlockLockManager()
    assert manager.acquire_lock("k1", "txn-a") and manager.acquire_lock("k1", "txn-a")  # re-entrant for its holder
    assert manager.is_locked("k1") and manager.is_lock_holder("k1", "txn-a")
    assert not manager.is_lock_holder("k1", "txn-b")
    assert manager.acquire_lock("k1", "txn-b", acquire_timeout=0.1) is False
    assert manager.wait_for_lock("k1", timeout=0.1) is False
    manager.release_lock("k1", "txn-b")  # not its lock: nothing happens
    assert manager.is_locked("k1")
    manager.release_lock("k1", "txn-a")
    manager.release_lock("k1", "txn-a")  # Prefect may release twice
    assert not manager.is_locked("k1") and manager.wait_for_lock("k1", timeout=0)
    assert manager.acquire_lock("k1", "txn-b", acquire_timeout=0.1)
    manager.release_lock("k1", "txn-b")
    assert list((tmp_path / "locks").iterdir()) == []


def test_the_step_cache_policy_is_serializable_with_the_flock_manager():
    from prefect.transactions import IsolationLevel

    from flows.locking import FlockLockManager
    from flows.tasks import CACHE, clip_task, render_task, script_task

    assert IsolationLevel(CACHE.isolation_level) is IsolationLevel.SERIALIZABLE
    assert isinstance(CACHE.lock_manager, FlockLockManager)
    assert {t.cache_policy.isolation_level for t in (script_task, clip_task, render_task)} == {"SERIALIZABLE"}


def test_a_new_ledger_opened_by_many_threads_at_once_is_made_once(tmp_path):
    from pipeline.state.ledger import Ledger

    errors = []

    def open_it() -> None:
        try:
            Ledger(tmp_path / "ledger.sqlite")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    for attempt in range(5):  # a race: without the lock, one of a few rounds failed with "database is locked"
        tmp_path = tmp_path / str(attempt)
        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []

"""Cross-process locks: one file per name under SHORTS_HOME/locks, held with `fcntl.flock`.

Why flock and not a lock file that says "taken" (Prefect's FileSystemLockManager): the kernel drops a flock when
the process holding it ends, however it ends (SIGKILL, the OOM killer, a crash), so a dead run can never leave a
lock behind that blocks the next one. A flock belongs to an open file description, so two threads of one process
exclude each other too, as each opens the file itself. Local file systems only: flock over NFS is not reliable.
Machines that share a Postgres ledger use AdvisoryLock, which dies with its holder's database session in the same way.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from pipeline.state.home import Home

log = logging.getLogger("shorts")

POLL_SECONDS = 0.05
SAY_WAITING_AFTER = 1.0  # seconds: a wait longer than this is worth a line in the log


def lock_file(home: Path, name: str) -> Path:
    """The lock file for `name` under `home`; any text makes a safe file name."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-")[:80]
    if safe != name:  # keep distinct names distinct after cleaning
        safe = f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
    return Home(home).locks / f"{safe}.lock"


class FileLock:
    """An exclusive lock on one path, for one holder at a time across threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float | None = None, waiting: str | None = None) -> bool:
        """Take the lock, waiting at most `timeout` seconds (None: as long as it takes); say `waiting` once if slow."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this holder")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _sweep_once(self.path.parent)
        started, said = time.monotonic(), False
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                waited = time.monotonic() - started
                if timeout is not None and waited >= timeout:
                    return False
                if waiting and not said and waited >= SAY_WAITING_AFTER:
                    log.info("  %s", waiting)
                    said = True
                time.sleep(POLL_SECONDS)
                continue
            # The holder before us removes the file as it lets go; a lock on a file no longer at `path` is no lock.
            if _same_file(fd, self.path):
                self._fd = fd
                return True
            os.close(fd)

    def release(self) -> None:
        """Let go, removing the file so that locks do not pile up (the next holder makes it again)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # while still held, so no one else can hold this file
        finally:
            os.close(fd)

    def is_locked(self) -> bool:
        """Whether anyone (this holder included) holds the lock now."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # closing drops the lock we may have just taken
        return False


@contextmanager
def hold(home: Path, name: str, waiting: str | None = None) -> Iterator[None]:
    """Hold the lock `name` under `home` for the block; another process or thread asking for it waits."""
    with holding(FileLock(lock_file(home, name)), waiting):
        yield


@contextmanager
def holding(lock: FileLock | AdvisoryLock, waiting: str | None = None) -> Iterator[None]:
    """Hold `lock` for the block, waiting as long as it takes (saying `waiting` once if slow)."""
    lock.acquire(waiting=waiting)
    try:
        yield
    finally:
        lock.release()


def sweep_locks(directory: Path) -> list[Path]:
    """Remove the lock files nobody holds: those of runs that were killed while holding them (a lock of a killed run
    never blocks anyone, but its file would stay). Safe while others take locks: see FileLock.acquire."""
    removed = []
    for path in directory.glob("*.lock"):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _same_file(fd, path):
                path.unlink(missing_ok=True)
                removed.append(path)
        except OSError:
            pass  # held: in use
        finally:
            os.close(fd)
    return removed


_swept: set[Path] = set()
_swept_lock = threading.Lock()


def _sweep_once(directory: Path) -> None:
    """Sweep each lock directory once per process, the first time a lock in it is taken."""
    with _swept_lock:
        if directory in _swept:
            return
        _swept.add(directory)
    sweep_locks(directory)


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def postgres_driver() -> ModuleType:
    """psycopg, which only a shared database needs, or ConfigError saying how to install it."""
    try:
        import psycopg
    except ImportError as exc:
        from pipeline.errors import ConfigError

        raise ConfigError(
            "SHORTS_DATABASE_URL names a Postgres server, which needs psycopg; install it with "
            '`pip install -e ".[scale]"`.'
        ) from exc
    return psycopg


def lock_number(name: str) -> int:
    """A signed 64-bit number for a lock name, as Postgres advisory locks take."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class AdvisoryLock:
    """A Postgres session-level advisory lock, for holders on any machine that share the database.

    It lives as long as its connection: when the holder dies (SIGKILL, a lost machine), the server ends the session
    and the lock with it, as the kernel does with a flock. Same methods as FileLock.
    """

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self.number = lock_number(name)
        self._conn = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def _connect(self) -> Any:  # a psycopg Connection: the driver is optional (the scale extra), its types too
        psycopg = postgres_driver()

        # Keepalives: a holder's machine that vanishes without closing its socket is noticed within about a minute.
        return psycopg.connect(
            self.url, autocommit=True, keepalives=1, keepalives_idle=20, keepalives_interval=5, keepalives_count=4
        )

    def acquire(self, timeout: float | None = None, waiting: str | None = None) -> bool:
        """Take the lock, waiting at most `timeout` seconds (None: as long as it takes); say `waiting` once if slow."""
        if self._conn is not None:
            raise RuntimeError(f"the advisory lock {self.name!r} is already held by this holder")
        conn = self._connect()
        started, said = time.monotonic(), False
        try:
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (self.number,)).fetchone()[0]:
                waited = time.monotonic() - started
                if timeout is not None and waited >= timeout:
                    conn.close()
                    return False
                if waiting and not said and waited >= SAY_WAITING_AFTER:
                    log.info("  %s", waiting)
                    said = True
                time.sleep(POLL_SECONDS * 2)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return True

    def release(self) -> None:
        """Let go: closing the session drops the lock."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def is_locked(self) -> bool:
        """Whether anyone (this holder included) holds the lock now."""
        if self._conn is not None:
            return True
        with self._connect() as conn:  # try it: a lock we could take was free (we drop it again as we close)
            return not conn.execute("SELECT pg_try_advisory_lock(%s)", (self.number,)).fetchone()[0]

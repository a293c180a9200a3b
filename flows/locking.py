"""Prefect's lock manager protocol on top of `pipeline.state.locks`: flock files under SHORTS_HOME/locks, or Postgres
advisory locks when the ledger is shared (SHORTS_DATABASE_URL), so that the rule holds across machines.

With `isolation_level="SERIALIZABLE"` on a task's cache policy, Prefect takes the lock of the task's cache key
before it looks for a cached result and lets go once the result is written. So when two runs reach the same step
with the same inputs, one does it and the other waits, then finds the result and reuses it (state Cached): no step,
paid or not, is done twice at once, and both runs go on with the same script, frames and clips.

Why not Prefect's own FileSystemLockManager: its lock is a file that says who holds it until it is deleted, so a
run killed while holding one (SIGKILL, OOM, power) leaves a lock that blocks every later run forever (it has no
expiry unless a hold timeout is given, and any timeout is a guess at how long a Runway task may take). A flock is
dropped by the kernel when its process ends, so a crashed run never blocks the rerun; `hold_timeout` is therefore
not needed and ignored. An advisory lock lives as long as its holder's database session, so it has the same property
across machines: a dead worker's session ends, and its locks with it.
"""

from __future__ import annotations

import threading
import time

from prefect.locking.protocol import LockManager

from pipeline import AdvisoryLock, Database, FileLock, Settings

WAITING = "waiting for another run that is doing this same step, to reuse what it makes"

# Held locks of this process by cache key: (holder, lock). Module state, so the manager itself stays stateless and
# survives the copies Prefect makes of cache policies.
_HELD: dict[str, tuple[str, FileLock | AdvisoryLock]] = {}
_HELD_LOCK = threading.Lock()


class FlockLockManager(LockManager):
    """Locks on cache keys that several processes (on this machine, or on all, with a shared ledger) share, and that
    die with their holder."""

    def _lock(self, key: str) -> FileLock | AdvisoryLock:
        settings = Settings()
        url = settings.database_url.get_secret_value() if settings.database_url else None
        return Database(settings.paths.ledger, url).lock(f"step-{key}")

    def acquire_lock(
        self, key: str, holder: str, acquire_timeout: float | None = None, hold_timeout: float | None = None
    ) -> bool:
        with _HELD_LOCK:
            if key in _HELD and _HELD[key][0] == holder:
                return True
        lock = self._lock(key)
        if not lock.acquire(acquire_timeout, waiting=WAITING):
            return False
        with _HELD_LOCK:
            _HELD[key] = (holder, lock)
        return True

    async def aacquire_lock(
        self, key: str, holder: str, acquire_timeout: float | None = None, hold_timeout: float | None = None
    ) -> bool:
        return self.acquire_lock(key, holder, acquire_timeout, hold_timeout)

    def release_lock(self, key: str, holder: str) -> None:
        # Prefect may release twice (commit, then the transaction's exit): only the holder's first release counts.
        with _HELD_LOCK:
            if key not in _HELD or _HELD[key][0] != holder:
                return
            _, lock = _HELD.pop(key)
        lock.release()

    def is_locked(self, key: str) -> bool:
        with _HELD_LOCK:
            if key in _HELD:
                return True
        return self._lock(key).is_locked()

    def is_lock_holder(self, key: str, holder: str) -> bool:
        with _HELD_LOCK:
            return key in _HELD and _HELD[key][0] == holder

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_locked(key):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    async def await_for_lock(self, key: str, timeout: float | None = None) -> bool:
        return self.wait_for_lock(key, timeout)

"""Paid remote jobs (a clip, a first frame, Runway's speech): one at a time per key across runs, a bounded number in
flight per vendor and model."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from pipeline.state.ledger import Ledger

_SLOTS: dict[tuple[str, ...], threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def one_job_at_a_time(ledger: Ledger, provider: str, key: str, label: str) -> AbstractContextManager[None]:
    """Hold the paid job `key` for its whole life (submit, wait, download) in every thread and process (and machine,
    with a shared ledger) that uses `ledger`: a second job with the same key (another run, or a scene with the same
    inputs) waits, then finds the first one's task in the ledger and reuses it instead of paying again. The lock (a
    flock, or a Postgres advisory lock) dies with a killed run."""
    return ledger.hold(f"{provider}-job-{key}",
                       waiting=f"{label}: waiting for the same {provider} task, which another run or scene is making")


def slot(key: tuple[str, ...], size: Callable[[], int]) -> threading.BoundedSemaphore:
    """The semaphore that limits tasks in flight for `key` (vendor, server, model); `size` is asked once."""
    with _SLOTS_LOCK:
        if key not in _SLOTS:
            _SLOTS[key] = threading.BoundedSemaphore(size())
        return _SLOTS[key]

"""The remote tasks this process waits on, so Ctrl-C (or the exit hook) stops them: cancelled while the vendor has
not started them, else left to finish (they are billed) and collected by the next run."""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("shorts.remote")


def pause(stop: threading.Event, seconds: float) -> bool:
    """Wait about `seconds` (jitter only lengthens it, so a vendor's minimum holds); True if `stop` was set."""
    return stop.wait(seconds * (1 + 0.2 * random.random()))


@dataclass
class Flight:
    """A remote task this process is waiting on. `cancel(reason)` cancels it only if the vendor has not started it
    (so nothing is billed yet) and says whether it did; a started task is left to finish for the next run."""

    task_id: str
    vendor: str
    label: str  # e.g. "scene 3 clip"
    cancel: Callable[[str], bool]
    stop: threading.Event = field(default_factory=threading.Event)
    settled: threading.Event = field(default_factory=threading.Event)  # set once `cancel` has answered
    cancelled: bool = False

    def wait_settled(self) -> bool:
        """Whether the task was cancelled, once the thread stopping it knows (else False: left running)."""
        self.settled.wait(30)
        return self.cancelled


_FLIGHTS: dict[str, Flight] = {}
_FLIGHTS_LOCK = threading.Lock()
_atexit_registered = False


def stop_flights(flights: list[Flight], reason: str) -> None:
    """Stop waiting on `flights`, cancelling those not started yet; say which were left running and why."""
    left = []
    for flight in flights:
        if flight.stop.is_set():  # already stopped (Ctrl-C, then the exit hook)
            continue
        flight.stop.set()  # first, so a poll that sees the cancellation knows it was ours
        try:
            flight.cancelled = flight.cancel(reason)
        finally:
            flight.settled.set()
        if not flight.cancelled:
            left.append(f"{flight.vendor} task {flight.task_id} ({flight.label})")
    if left:
        log.warning(
            "Left running, as they may already be billed: %s; the next run of the same command collects "
            "them without a new charge.",
            ", ".join(left),
        )


def cancel_in_flight(reason: str = "the run was interrupted") -> list[str]:
    """Stop waiting on every remote task of this process (call it on Ctrl-C): tasks the vendor has not started are
    cancelled, started ones are left to finish and stay in the ledger for the next run; returns their ids."""
    with _FLIGHTS_LOCK:
        flights = list(_FLIGHTS.values())
    stop_flights(flights, reason)
    return [flight.task_id for flight in flights]


def track(flight: Flight) -> None:
    """Register a task being waited on, until `untrack`."""
    global _atexit_registered
    with _FLIGHTS_LOCK:
        _FLIGHTS[flight.task_id] = flight
        if not _atexit_registered:
            # Runs at interpreter exit before worker threads are joined, so a Ctrl-C that ends the process
            # stops the tasks its threads still wait on instead of hanging until they finish.
            register = getattr(threading, "_register_atexit", None)
            if register:
                with contextlib.suppress(RuntimeError):
                    register(cancel_in_flight)
            _atexit_registered = True


def untrack(task_id: str) -> None:
    with _FLIGHTS_LOCK:
        _FLIGHTS.pop(task_id, None)

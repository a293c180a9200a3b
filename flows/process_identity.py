"""A process named by its pid *and* its start time, so a pid the system has since given to another process is never
mistaken for ours (and never signalled)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TypedDict


class Identity(TypedDict):
    pid: int
    started: str


def _start_time(pid: int) -> str | None:
    """When the process started (clock ticks since boot on Linux, `ps`'s lstart elsewhere); None if it is gone or a
    zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        stat = None
    if stat is not None:
        # The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        return None if fields[0] in ("Z", "X") else fields[19]
    try:
        answer = subprocess.run(["ps", "-o", "stat=,lstart=", "-p", str(pid)], capture_output=True, text=True,
                                timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    state, _, started = answer.stdout.strip().partition(" ")
    return None if not started or state.startswith("Z") else started.strip()


def identify(pid: int) -> Identity | None:
    """The identity of a running process, to record."""
    started = _start_time(pid)
    return Identity(pid=pid, started=started) if started else None


def same_process(identity: object) -> bool:
    """Whether a recorded identity still names a live process: the same pid, started at the same time."""
    if not isinstance(identity, dict) or not isinstance(identity.get("pid"), int) or not identity.get("started"):
        return False
    return _start_time(identity["pid"]) == identity["started"]

"""A process named by its pid, its start time and its command line, so a pid the system has since given to another
process (after a reboot, or once pids wrap around) is never mistaken for ours, and never signalled."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, TypedDict, TypeGuard


class Identity(TypedDict):
    pid: int
    started: str
    command: str


def _describe(pid: int) -> tuple[str, str] | None:
    """(start time, command line) of a live process: clock ticks since boot and /proc's cmdline on Linux, `ps`'s
    lstart and args elsewhere; None if it is gone or a zombie."""
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except FileNotFoundError:
        return None
    except OSError:
        stat = None
    if stat is not None:
        # The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        return None if fields[0] in ("Z", "X") else (fields[19], command)
    try:
        answer = subprocess.run(
            ["ps", "-o", "stat=,lstart=,args=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    state, *rest = answer.stdout.split(None, 6)  # lstart is five words: Mon Dec  7 04:23:28 2026
    if not rest or state.startswith("Z") or len(rest) < 6:
        return None
    return " ".join(rest[:5]), rest[5].strip()


def identify(pid: int) -> Identity | None:
    """The identity of a running process, to record."""
    found = _describe(pid)
    return Identity(pid=pid, started=found[0], command=found[1]) if found else None


def same_process(identity: object) -> TypeGuard[dict[str, Any]]:
    """Whether a recorded identity still names a live process: the same pid, started at the same time, running the
    same command."""
    if not isinstance(identity, dict) or not isinstance(identity.get("pid"), int) or not identity.get("started"):
        return False
    found = _describe(identity["pid"])
    return found is not None and found == (identity["started"], identity.get("command", found[1]))

"""A `shorts` subprocess whose stderr is read line by line as it runs, so a test can act at a step boundary or in
the middle of a step (kill it, release a fake) instead of sleeping for a fixed time."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

SHORTS = str(Path(sys.executable).parent / "shorts")


def make(*args: str) -> subprocess.CompletedProcess:
    """`shorts make ARGS --json` run to its end, which must be a success."""
    result = subprocess.run(
        [SHORTS, "make", *args, "--json"], capture_output=True, text=True, timeout=600, env=os.environ
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


class ShortsProcess:
    """`shorts ARGS` in its own process group, with stdout collected and stderr lines watched."""

    def __init__(self, *args: str, env: dict[str, str], cwd: Path | None = None) -> None:
        self.args = args
        # Its own session, so that whatever it starts (ffmpeg) can be ended by group id with it.
        self.process = subprocess.Popen(
            [SHORTS, *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.stdout = ""
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read_stderr, daemon=True),
            threading.Thread(target=self._read_stdout, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _read_stdout(self) -> None:
        self.stdout = self.process.stdout.read()

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def matching(self, pattern: str) -> list[str]:
        with self._changed:
            return [line for line in self.lines if re.search(pattern, line)]

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 240) -> list[str]:
        """Block until `count` stderr lines match `pattern`; fail with the output if the process ends first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [line for line in self.lines if re.search(pattern, line)]
                if len(found) >= count:
                    return found
                if self.process.poll() is not None and not self._readers[0].is_alive():
                    raise AssertionError(
                        f"`shorts {' '.join(self.args)}` ended ({self.process.returncode}) before "
                        f"{count} line(s) matching {pattern!r}:\n{self.stderr[-4000:]}"
                    )
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"no {count} line(s) matching {pattern!r} after {timeout:.0f} s:\n{self.stderr[-4000:]}"
                    )
                self._changed.wait(0.2)

    def kill(self) -> None:
        """SIGKILL the run, as the OOM killer or a power cut would, then end anything it left running."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)  # reaped, so its PID counts as dead for the pipeline's stale-file sweep
        self._end_group()
        for reader in self._readers:
            reader.join(10)

    def finish(self, timeout: float = 300) -> int:
        """Wait for the run to end by itself; returns its exit code."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"`shorts {' '.join(self.args)}` still running after {timeout:.0f} s:\n{self.stderr[-4000:]}"
            ) from None
        for reader in self._readers:
            reader.join(10)
        self._end_group()
        return self.process.returncode

    def _end_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

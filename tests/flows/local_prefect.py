"""A real `prefect server start` on 127.0.0.1 for tests, and small process helpers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

TEST_ENV_PREFIXES = ("SHORTS_", "PREFECT_API", "PREFECT_UI", "OPENAI_", "RUNWAY", "RUNWARE_", "YOUTUBE_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**changes: str) -> dict[str, str]:
    """The environment without vendor keys, SHORTS_ settings or a Prefect server, plus `changes`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(TEST_ENV_PREFIXES)}
    env.update(changes)
    return env


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a process we started, by its PID, waiting for it; kill it if it will not go."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def alive(pid: int) -> bool:
    """Whether a process lives: a zombie (ended, not yet reaped by its parent) does not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until(check: Callable[[], object], timeout: float, what: str, log: Path | None = None):
    """Poll `check` until it returns something truthy; fail with the log's tail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}\n{tail}")


def healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    """`prefect server start` on a free port with its own PREFECT_HOME; yields the API URL."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    log = home / "server.log"
    env = clean_env(
        PREFECT_HOME=str(home), PREFECT_API_URL=api, PREFECT_UI_API_URL=api, PREFECT_SERVER_ANALYTICS_ENABLED="false"
    )
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: server.poll() is not None or healthy(api), 240, "the Prefect server", log)
        assert server.poll() is None, log.read_text()[-3000:]
        yield api
    finally:
        stop(server)

"""One background Prefect server per SHORTS_HOME, started by the first command that needs it and reused after.

A temporary server per run costs 7-11 s of every `shorts make` (import, migrate, start). This one stays up until
`shorts server stop`, or until it has been idle (no command used it, no flow run active) for SHORTS_SERVER_IDLE_MINUTES.
Its pid and port sit in SHORTS_HOME/prefect-server/server.json; a file lock keeps two commands from starting two.
A PREFECT_API_URL the user set always wins, and then nothing is started.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pipeline import Settings, ShortsError

HOST = "127.0.0.1"
ACTIVE_STATES = ["PENDING", "RUNNING", "PAUSED", "CANCELLING"]
SLOW_SERVER_SECONDS = 30
log = logging.getLogger("shorts")


def server_dir(settings: Settings) -> Path:
    return settings.paths.background_server


def running_server(settings: Settings) -> dict | None:
    """The state of this SHORTS_HOME's server if it answers, else None."""
    try:
        state = json.loads((server_dir(settings) / "server.json").read_text())
    except (OSError, ValueError):
        return None
    return state if _healthy(state["api_url"]) else None


def ensure_server(settings: Settings) -> str:
    """The Prefect API to use, set in the environment for Prefect to read at import: the user's, else ours (started
    here if none runs yet)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    home = server_dir(settings)
    home.mkdir(parents=True, exist_ok=True)
    with (home / "start.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second command waits here, then finds the first one's server
        state = running_server(settings) or _slow_server(settings) or _start(settings)
    (home / "server.json").touch()  # a use: the idle clock starts again
    os.environ["PREFECT_API_URL"] = state["api_url"]
    return state["api_url"]


def stop_server(settings: Settings) -> int | None:
    """Stop this SHORTS_HOME's server; returns the pid it had, or None if none ran."""
    state = running_server(settings)
    if state is None:
        return None
    os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    return state["pid"]


def _slow_server(settings: Settings) -> dict | None:
    """The recorded server when its watchdog still lives but /health did not answer in time (a loaded machine, a
    busy SQLite): waited for, up to SLOW_SERVER_SECONDS, because starting another would remove its state file, which
    its watchdog takes as the order to stop, under the runs using it. None if nothing lives there."""
    try:
        pid = json.loads((server_dir(settings) / "server.json").read_text())["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    deadline = time.monotonic() + SLOW_SERVER_SECONDS
    while _alive(pid) and time.monotonic() < deadline:
        if state := running_server(settings):
            return state
        time.sleep(0.5)
    return None  # gone, or not ours (a stale file whose pid was reused): start one


def _start(settings: Settings) -> dict:
    home = server_dir(settings)
    log_file = home / "server.log"
    (home / "server.json").unlink(missing_ok=True)
    log.info("Starting a local Prefect server for %s (its first start sets up a database, about 15-30 s; later "
             "commands reuse it; `shorts server stop` ends it; log: %s)…", settings.home_dir, log_file)
    with log_file.open("ab") as out:
        # Its own session, so a Ctrl-C in this terminal stops the run but not the server the next run reuses.
        watchdog = subprocess.Popen(
            [sys.executable, "-m", "flows.local_server", str(home), str(_free_port()),
             str(settings.server_idle_minutes * 60)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    started = said = time.monotonic()
    while (state := running_server(settings)) is None:
        if watchdog.poll() is not None:
            raise ShortsError(f"The local Prefect server stopped while starting; see {log_file}.")
        if time.monotonic() - started > settings.prefect_startup_timeout:
            os.kill(watchdog.pid, signal.SIGTERM)
            raise ShortsError(f"The local Prefect server did not answer within {settings.prefect_startup_timeout} s;"
                              f" see {log_file}, or raise SHORTS_PREFECT_STARTUP_TIMEOUT.")
        if time.monotonic() - said >= 10:
            said = time.monotonic()
            log.info("  still waiting for the Prefect server to set up (%.0f s)…", said - started)
        time.sleep(0.3)
    return state


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # our own child that has exited but is not yet reaped counts as gone
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


def _active_runs(api_url: str) -> int:
    try:
        answer = httpx.post(f"{api_url}/flow_runs/count", timeout=5,
                            json={"flow_runs": {"state": {"type": {"any_": ACTIVE_STATES}}}})
        return int(answer.json())
    except (httpx.HTTPError, ValueError):
        return 1  # unsure: keep serving


def watch(home: Path, port: int, idle_seconds: float) -> None:
    """Run `prefect server start` and stop it on SIGTERM, or once idle for `idle_seconds`."""
    api_url = f"http://{HOST}:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": api_url, "PREFECT_UI_API_URL": api_url,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)],
                              env=env, stdin=subprocess.DEVNULL)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    state_file = home / "server.json"
    written = False
    last_busy = time.monotonic()
    try:
        while not stopping and server.poll() is None:
            time.sleep(1)
            if not written and _healthy(api_url):  # written only once it answers, so a reader never waits on it
                state_file.write_text(json.dumps({"pid": os.getpid(), "port": port, "api_url": api_url}))
                written = True
            if not written:
                continue
            try:
                used = time.time() - state_file.stat().st_mtime
            except OSError:
                break  # removed: someone wants it gone
            if used < idle_seconds or _active_runs(api_url):
                last_busy = time.monotonic()
            elif time.monotonic() - last_busy >= idle_seconds:
                print(f"idle for {idle_seconds:.0f} s; stopping", flush=True)
                break
    finally:
        if written:
            state_file.unlink(missing_ok=True)
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    watch(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))

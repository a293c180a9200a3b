"""One background Prefect server per SHORTS_HOME, started by the first command that needs it and reused after.

A temporary server per run costs 7-11 s of every `shorts make` (import, migrate, start). This one stays up until
`shorts server stop`, or until it has been idle (no command used it, no flow run active) for SHORTS_SERVER_IDLE_MINUTES.
A watchdog process (`python -m flows.local_server`) runs it and holds SHORTS_HOME/prefect-server/server.lock for as
long as either lives, so only one starts per SHORTS_HOME, also after a Ctrl-C during the first start. Its state file,
server.json, names both processes by pid, start time and command line, so a pid reused by an unrelated process is
never trusted or signalled. The server asks for the login in SHORTS_HOME/prefect-login (flows.server_access), and starts with no vendor
keys in its environment: flow runs happen in the command's own process. A PREFECT_API_URL the user set always wins,
and then nothing is started.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from flows.process_identity import identify, same_process
from flows.server_access import HOST, api_client, client_env, login, server_env
from pipeline import Settings, ShortsError, private_home

ACTIVE_STATES = ["PENDING", "RUNNING", "PAUSED", "CANCELLING"]
STOP_SECONDS = 30
log = logging.getLogger("shorts")


def server_dir(settings: Settings) -> Path:
    return settings.paths.background_server


def recorded(settings: Settings) -> dict | None:
    """What server.json says, if it says anything readable. A record of an older shorts (a bare pid) names its
    watchdog only if that pid runs this module for this SHORTS_HOME now."""
    try:
        state = json.loads((server_dir(settings) / "server.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("api_url"), str):
        return None
    if isinstance(state.get("pid"), int) and "watchdog" not in state:
        found = identify(state["pid"])
        ours = found and f"-m flows.local_server {server_dir(settings)} " in found["command"]
        state = {**state, "watchdog": found if ours else None, "server": None, "legacy": True}
    return state


def running_server(settings: Settings) -> dict | None:
    """The state of this SHORTS_HOME's server if it and its watchdog are the processes recorded (not reused pids)
    and it answers; without its watchdog it is about to stop, so it is not one to use."""
    state = recorded(settings)
    if state is None or not same_process(state.get("server")) or not same_process(state.get("watchdog")):
        return None
    return state if _healthy(state["api_url"]) else None


def starting(settings: Settings) -> bool:
    """Whether a watchdog or its server holds this SHORTS_HOME's server lock (starting, running or stopping)."""
    lock = server_dir(settings) / "server.lock"
    try:
        with lock.open("a") as held:
            try:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(held, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def ensure_server(settings: Settings) -> str:
    """The Prefect API to use, set in the environment (with its login) for Prefect to read at import: the user's,
    else ours (started here if none runs yet)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    home = server_dir(settings)
    private_home(settings.home_dir)
    home.mkdir(mode=0o700, exist_ok=True)
    with _held(home / "start.lock"):  # a second command waits here, then finds the first one's server
        if (old := recorded(settings)) and old.get("legacy"):
            stop_server(settings)  # an older shorts' server, on this database, holding no lock: not to run beside ours
        state = running_server(settings) or _wait_for_starting(settings) or _start(settings)
    with contextlib.suppress(OSError):  # stopped this very moment: the run's first call says so
        os.utime(home / "server.json")  # a use: the idle clock starts again
    os.environ.update(client_env(settings), PREFECT_API_URL=state["api_url"])
    return state["api_url"]


def stop_server(settings: Settings) -> int | None:
    """Stop this SHORTS_HOME's server, signalling only the processes recorded (checked by start time); returns the
    pid it had, or None if none ran."""
    state = recorded(settings)
    if state is None:
        return None
    watchdog, server = state.get("watchdog"), state.get("server")
    # The watchdog stops its server; a server whose watchdog was killed is stopped directly.
    target = watchdog if same_process(watchdog) else server if same_process(server) else None
    if target is None:
        _forget(settings, state)  # both gone, or their pids reused by other processes: nothing of ours to stop
        return None
    with contextlib.suppress(ProcessLookupError):  # it ended this very moment
        os.kill(target["pid"], signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while (same_process(watchdog) or same_process(server)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if same_process(server):  # it did not stop in time: the recorded process, so this kill is safe
        os.kill(server["pid"], signal.SIGKILL)
    _forget(settings, state)
    return (server if _well_formed(server) else target)["pid"]


def _well_formed(identity: object) -> bool:
    """Whether `identity` is a well-formed record (whatever the process does now)."""
    return isinstance(identity, dict) and isinstance(identity.get("pid"), int)


def _forget(settings: Settings, state: dict) -> None:
    """Remove server.json if it still describes `state` (a newer server may have replaced it)."""
    if recorded(settings) == state or state.get("legacy"):
        (server_dir(settings) / "server.json").unlink(missing_ok=True)


def setting_up(state: dict | None) -> bool:
    """Whether the recorded server's watchdog lives and its server does not answer yet."""
    return bool(state) and state.get("ready") is False and same_process(state.get("watchdog"))


def orphaned(state: dict | None) -> bool:
    """Whether the recorded server runs without its watchdog (which would stop it when idle)."""
    return bool(state) and same_process(state.get("server")) and not same_process(state.get("watchdog"))


@contextmanager
def _held(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _wait_for_starting(settings: Settings) -> dict | None:
    """The server a live watchdog is starting (a Ctrl-C'd first command's) or that answers slowly (a loaded machine,
    a busy SQLite), waited for: starting a second would migrate one database twice. None if no watchdog lives."""
    deadline = time.monotonic() + settings.prefect_startup_timeout
    said = time.monotonic()
    while starting(settings) and time.monotonic() < deadline:
        if state := running_server(settings):
            return state
        if time.monotonic() - said >= 10:
            said = time.monotonic()
            log.info("  waiting for the Prefect server another command is starting…")
        time.sleep(0.5)
    if starting(settings):
        raise ShortsError(
            f"The local Prefect server did not answer within {settings.prefect_startup_timeout} s; "
            f"see {server_dir(settings) / 'server.log'}, or run `shorts server stop`."
        )
    return None


def _start(settings: Settings) -> dict:
    home = server_dir(settings)
    log_file = home / "server.log"
    login(settings)  # made now, so the watchdog and every later command read the same one
    log.info(
        "Starting a local Prefect server for %s (its first start sets up a database, about 15-30 s; later "
        "commands reuse it; `shorts server stop` ends it; log: %s)…",
        settings.home_dir,
        log_file,
    )
    port = _free_port()
    out = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        # Its own session, so a Ctrl-C in this terminal stops the run but not the server the next run reuses.
        watchdog = subprocess.Popen(
            [sys.executable, "-m", "flows.local_server", str(home), str(port), str(settings.server_idle_minutes * 60)],
            env=server_env(settings, port, PREFECT_HOME=str(home)),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        os.close(out)
    started = said = time.monotonic()
    while (state := running_server(settings)) is None:
        if watchdog.poll() is not None:
            raise ShortsError(f"The local Prefect server stopped while starting; see {log_file}.")
        if time.monotonic() - started > settings.prefect_startup_timeout:
            watchdog.terminate()
            raise ShortsError(
                f"The local Prefect server did not answer within {settings.prefect_startup_timeout} s;"
                f" see {log_file}, or raise SHORTS_PREFECT_STARTUP_TIMEOUT."
            )
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


def _active_runs(client: httpx.Client) -> int:
    try:
        answer = client.post("flow_runs/count", json={"flow_runs": {"state": {"type": {"any_": ACTIVE_STATES}}}})
        answer.raise_for_status()
        return int(answer.json())
    except (httpx.HTTPError, ValueError, TypeError):
        return 1  # unsure: keep serving


def _write(path: Path, state: dict) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(json.dumps(state))


def watch(home: Path, port: int, idle_seconds: float) -> None:
    """Run the guarded Prefect server and stop it on SIGTERM, once idle for `idle_seconds`, or when it stops."""
    lock = (home / "server.lock").open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("another server for this SHORTS_HOME is starting or running; not starting a second", flush=True)
        return
    api_url = f"http://{HOST}:{port}/api"
    # The server holds the lock too (pass_fds), so it stays taken until both are gone: no second server can start
    # on this database while a killed watchdog's server is still stopping.
    server = subprocess.Popen(
        [sys.executable, "-m", "flows.guarded_server", str(port)], stdin=subprocess.DEVNULL, pass_fds=(lock.fileno(),)
    )
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    state_file = home / "server.json"
    # Recorded at once, so `status` and `stop` know it while it sets up; `ready` once it answers.
    state = {
        "api_url": api_url,
        "port": port,
        "watchdog": identify(os.getpid()),
        "server": identify(server.pid),
        "ready": False,
    }
    _write(state_file, state)
    last_busy = time.monotonic()
    client = api_client(api_url, os.environ["PREFECT_SERVER_API_AUTH_STRING"])
    try:
        while not stopping and server.poll() is None:
            time.sleep(1)
            if not state["ready"]:
                if not _healthy(api_url):
                    continue
                state = {**state, "ready": True}
                _write(state_file, state)
            try:
                used = time.time() - state_file.stat().st_mtime
            except OSError:
                break  # removed: someone wants it gone
            if used < idle_seconds or _active_runs(client):
                last_busy = time.monotonic()
            elif time.monotonic() - last_busy >= idle_seconds:
                print(f"idle for {idle_seconds:.0f} s; stopping", flush=True)
                break
    finally:
        client.close()
        try:
            if json.loads(state_file.read_text()) == state:
                state_file.unlink()
        except (OSError, ValueError):
            pass
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    watch(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))

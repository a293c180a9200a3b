"""The Prefect servers we start, each running `flows.guarded_server` with one start, one wait until it answers and one
stop: the background server of `shorts make`, and `shorts serve`'s.

The background server: one per SHORTS_HOME, started by the first command that needs it and reused after. A temporary
server per run costs 7-11 s of every `shorts make` (import, migrate, start). This one stays up until
`shorts server stop`, or until it has been idle (no command used it, no flow run active) for SHORTS_SERVER_IDLE_MINUTES.
A watchdog process (`python -m flows.prefect_server`) runs it and holds SHORTS_HOME/prefect-server/server.lock for as
long as either lives, so only one starts per SHORTS_HOME, also after a Ctrl-C during the first start. Its state file,
server.json, names both processes by pid, start time and command line, so a pid reused by an unrelated process is
never trusted or signalled. A PREFECT_API_URL the user set always wins, and then nothing is started.

`shorts serve`'s server: on SHORTS_PREFECT_PORT, started as a child process when none is configured and stopped again,
by its PID, when serving stops.

Both ask for the login in SHORTS_HOME/prefect-login and answer only their own host and origins (flows.server_access),
and start with no vendor keys in their environment: flow runs happen in the command's own process (or its children).
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeGuard, TypeVar

import httpx

from flows.process_identity import identify, same_process
from flows.server_access import HOST, answers_to, api_client, client_env, login, server_env
from pipeline import ConfigError, Settings, ShortsError, private_home

ACTIVE_STATES = ["PENDING", "RUNNING", "PAUSED", "CANCELLING"]
STOP_SECONDS = 30  # for a recorded server to stop once signalled
STOP_GRACE_SECONDS = 20  # for a server we started to stop before it is killed
log = logging.getLogger("shorts")
T = TypeVar("T")


def _launch(command: list[str], env: dict[str, str], log_file: Path) -> subprocess.Popen:
    """Start a server (or the watchdog that runs one) writing to `log_file` (0600), in a session of its own: a Ctrl-C
    in the terminal then reaches only us, so `shorts make` stops its run but not the server the next run reuses, and
    `shorts serve` pauses its deployments (which needs the server) before it stops the server."""
    out = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    finally:
        os.close(out)


def _wait_until_up(
    up: Callable[[], T | None], starting: Callable[[], bool], timeout: float, late: str, waiting: str
) -> T | None:
    """What `up()` finds once the server answers, asked while `starting()` holds: None if the start ends first, a
    ShortsError saying `late` after `timeout` s. Says `waiting` ({seconds}: the time waited) every 10 s meanwhile."""
    started = said = time.monotonic()
    while (found := up()) is None:
        if not starting():
            return None
        if time.monotonic() - started > timeout:
            raise ShortsError(late)
        if time.monotonic() - said >= 10:
            said = time.monotonic()
            log.info(waiting.format(seconds=said - started))
        time.sleep(0.3)
    return found


def _healthy(api_url: str) -> bool:
    """Whether a Prefect API answers its health check."""
    try:
        return httpx.get(f"{api_url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(server: subprocess.Popen) -> None:
    """Stop a server we started (our child, so its pid is still its own): SIGTERM, and SIGKILL if it will not go."""
    if server.poll() is not None:
        return
    log.info("Stopping the Prefect server (pid %d)…", server.pid)
    server.terminate()
    try:
        server.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _guarded_server(port: int, public_url: str | None = None) -> list[str]:
    return [sys.executable, "-m", "flows.guarded_server", str(port), public_url or ""]


def recorded(settings: Settings) -> dict | None:
    """What server.json says, if it says anything readable. A record of an older shorts (a bare pid) names its
    watchdog only if that pid runs that shorts' watchdog (flows.local_server) for this SHORTS_HOME now."""
    try:
        state = json.loads((settings.paths.background_server / "server.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("api_url"), str):
        return None
    if isinstance(state.get("pid"), int) and "watchdog" not in state:
        found = identify(state["pid"])
        ours = found and f"-m flows.local_server {settings.paths.background_server} " in found["command"]
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
    lock = settings.paths.background_server / "server.lock"
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
    home = settings.paths.background_server
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


def _well_formed(identity: object) -> TypeGuard[dict[str, Any]]:
    """Whether `identity` is a well-formed record (whatever the process does now)."""
    return isinstance(identity, dict) and isinstance(identity.get("pid"), int)


def _forget(settings: Settings, state: dict) -> None:
    """Remove server.json if it still describes `state` (a newer server may have replaced it)."""
    if recorded(settings) == state or state.get("legacy"):
        (settings.paths.background_server / "server.json").unlink(missing_ok=True)


def setting_up(state: dict | None) -> TypeGuard[dict[str, Any]]:
    """Whether the recorded server's watchdog lives and its server does not answer yet."""
    return state is not None and state.get("ready") is False and same_process(state.get("watchdog"))


def orphaned(state: dict | None) -> TypeGuard[dict[str, Any]]:
    """Whether the recorded server runs without its watchdog (which would stop it when idle)."""
    return state is not None and same_process(state.get("server")) and not same_process(state.get("watchdog"))


@contextmanager
def _held(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _wait_for_starting(settings: Settings) -> dict | None:
    """The server a live watchdog is starting (a Ctrl-C'd first command's) or that answers slowly (a loaded machine,
    a busy SQLite), waited for: starting a second would migrate one database twice. None if no watchdog lives."""
    return _wait_until_up(
        lambda: running_server(settings),
        lambda: starting(settings),
        settings.prefect_startup_timeout,
        f"The local Prefect server did not answer within {settings.prefect_startup_timeout} s; "
        f"see {settings.paths.background_server / 'server.log'}, or run `shorts server stop`.",
        "  waiting for the Prefect server another command is starting…",
    )


def _start(settings: Settings) -> dict:
    home = settings.paths.background_server
    log_file = home / "server.log"
    login(settings)  # made now, so the watchdog and every later command read the same one
    log.info(
        "Starting a local Prefect server for %s (its first start sets up a database, about 15-30 s; later "
        "commands reuse it; `shorts server stop` ends it; log: %s)…",
        settings.home_dir,
        log_file,
    )
    port = _free_port()
    watchdog = _launch(
        [sys.executable, "-m", "flows.prefect_server", str(home), str(port), str(settings.server_idle_minutes * 60)],
        server_env(settings, port, PREFECT_HOME=str(home)),
        log_file,
    )
    try:
        state = _wait_until_up(
            lambda: running_server(settings),
            lambda: watchdog.poll() is None,
            settings.prefect_startup_timeout,
            f"The local Prefect server did not answer within {settings.prefect_startup_timeout} s;"
            f" see {log_file}, or raise SHORTS_PREFECT_STARTUP_TIMEOUT.",
            "  still waiting for the Prefect server to set up ({seconds:.0f} s)…",
        )
    except ShortsError:
        watchdog.terminate()
        raise
    if state is None:
        raise ShortsError(f"The local Prefect server stopped while starting; see {log_file}.")
    return state


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


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
    server = subprocess.Popen(_guarded_server(port), stdin=subprocess.DEVNULL, pass_fds=(lock.fileno(),))
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
        _stop(server)


@contextmanager
def serve_server(settings: Settings) -> Iterator[str]:
    """`shorts serve`'s API URL: the configured one, else a server of ours on SHORTS_PREFECT_PORT (an earlier
    `shorts serve`'s that still answers, or one started here and stopped on exit)."""
    from prefect.settings import get_current_settings  # `shorts serve` has imported Prefect, with our settings

    configured = get_current_settings().api.url
    if configured:
        _wait_until_up(
            lambda: configured if _healthy(configured) else None,
            lambda: True,
            15,
            f"The Prefect server at {configured} (PREFECT_API_URL) does not answer; "
            "start it, or unset PREFECT_API_URL to let `shorts serve` start one.",
            "  still waiting for the Prefect server ({seconds:.0f} s)…",
        )
        yield configured
        return
    port = settings.prefect_port
    api_url = f"http://{HOST}:{port}/api"
    if _is_open(port):
        _check_ours(api_url, port, settings)
        log.info("A Prefect server already answers on %s; using it.", api_url)
        with _use_api(api_url, settings):
            yield api_url
        return
    with _child_server(api_url, port, settings), _use_api(api_url, settings):
        yield api_url


def _check_ours(api_url: str, port: int, settings: Settings) -> None:
    """Refuse the server found on `shorts serve`'s port unless an earlier `shorts serve` of this SHORTS_HOME started
    it: ours takes our login; anyone else's is not ours to use."""
    if not _healthy(api_url):
        raise ConfigError(
            f"Port {port} is in use by something other than a Prefect server; set SHORTS_PREFECT_PORT to a free port."
        )
    if answers_to(api_url, login(settings)) != "ours":
        raise ConfigError(
            f"Port {port} has a Prefect server that `shorts serve` did not start for this "
            "SHORTS_HOME; set SHORTS_PREFECT_PORT to a free port, or set PREFECT_API_URL to use "
            "that server on purpose."
        )


@contextmanager
def _child_server(api_url: str, port: int, settings: Settings) -> Iterator[None]:
    """A server started on `port` for as long as the block runs, once it answers."""
    log_file = settings.paths.prefect_server_log
    private_home(settings.home_dir)
    public = settings.server_public_url
    child = _launch(_guarded_server(port, public), server_env(settings, port, public), log_file)
    try:
        log.info(
            "Starting the Prefect server on %s:%d (pid %d; its first start sets up a database and can take a "
            "minute; log: %s)…",
            HOST,
            port,
            child.pid,
            log_file,
        )
        up = _wait_until_up(
            lambda: api_url if _healthy(api_url) else None,
            lambda: child.poll() is None,
            settings.prefect_startup_timeout,
            f"The Prefect server did not answer within {settings.prefect_startup_timeout} s; see {log_file}, "
            "or raise SHORTS_PREFECT_STARTUP_TIMEOUT.",
            "  still waiting for the Prefect server ({seconds:.0f} s)…",
        )
        if up is None:
            raise ShortsError(
                f"The Prefect server stopped while starting (exit code {child.returncode}): "
                f"{_last_line(log_file)}; see {log_file}."
            )
        yield
    finally:
        _stop(child)


@contextmanager
def _use_api(api_url: str, settings: Settings) -> Iterator[None]:
    # Prefect read its settings at import; the environment is for the flow-run subprocesses serve starts.
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    auth = client_env(settings)
    os.environ.update(auth, PREFECT_API_URL=api_url)
    with temporary_settings(
        updates={PREFECT_API_URL: api_url, PREFECT_API_AUTH_STRING: auth["PREFECT_API_AUTH_STRING"]}
    ):
        yield


def _is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


def _last_line(log_file: Path) -> str:
    try:
        lines = [line for line in log_file.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1].strip()[:200] if lines else "no output"


if __name__ == "__main__":
    watch(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))

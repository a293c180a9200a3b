"""`shorts serve`: the `daily` (scheduled) and `make-short` (a form in the UI) deployments, served from here.

Schedules and the UI need a real Prefect server. When none is configured (PREFECT_API_URL), one is started as a
child process on 127.0.0.1 and stopped again, by its PID, when serving stops. That server asks for this SHORTS_HOME's
login and answers only its own host and origins (flows.server_access); it gets no vendor keys, since the flow runs
are this process's children.
"""

from __future__ import annotations

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
from types import FrameType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from flows.prefect_env import configure_prefect
from flows.server_access import answers_to, client_env, login, server_env

configure_prefect()  # before `import prefect`, which reads its settings at import

from prefect import serve  # noqa: E402
from prefect.deployments.runner import EntrypointType, RunnerDeployment  # noqa: E402
from prefect.schedules import Cron  # noqa: E402
from prefect.settings import (  # noqa: E402
    PREFECT_API_AUTH_STRING,
    PREFECT_API_URL,
    get_current_settings,
    temporary_settings,
)

from flows.daily import daily_shorts  # noqa: E402
from flows.make_short import make_short  # noqa: E402
from pipeline import ConfigError, Settings, ShortsError, private_home  # noqa: E402

log = logging.getLogger("shorts")
HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 20


def schedule_timezone(settings: Settings) -> str:
    """SHORTS_TIMEZONE, else the machine's IANA zone, else UTC."""
    name = settings.timezone
    if not name:
        try:
            import tzlocal

            name = tzlocal.get_localzone_name()
        except Exception:  # no zone configured on this machine (or a bare container): UTC is the honest answer
            name = None
    name = name or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"SHORTS_TIMEZONE={name!r} is not an IANA time zone; use a name like Europe/Berlin.") from exc
    return name


def daily_schedule(settings: Settings) -> Cron:
    """The daily deployment's schedule: SHORTS_DAILY_CRON in the schedule's time zone."""
    try:
        return Cron(settings.daily_cron, timezone=schedule_timezone(settings))
    except ValueError as exc:
        raise ConfigError(
            f"SHORTS_DAILY_CRON={settings.daily_cron!r} is not a cron expression; "
            "write it like '0 9 * * *' (minute hour day month weekday)."
        ) from exc


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """The two served deployments. Module entrypoints, so runs load the installed package from any folder."""
    daily = daily_shorts.to_deployment(
        name="daily",
        schedules=[daily_schedule(settings)],
        concurrency_limit=1,
        entrypoint_type=EntrypointType.MODULE_PATH,
        tags=["shorts"],
        description="The next queued topics' Shorts, on a schedule (SHORTS_DAILY_CRON, SHORTS_TIMEZONE).",
    )
    one = make_short.to_deployment(
        name="make-short",
        entrypoint_type=EntrypointType.MODULE_PATH,
        tags=["shorts"],
        description="One Short about a topic: choose Custom run and fill in the form.",
    )
    return [daily, one]


def serve_deployments(settings: Settings) -> None:
    """Serve both deployments until Ctrl-C (or SIGTERM), with a Prefect server of our own if none is configured."""
    served = deployments(settings)  # a bad schedule fails before any server starts
    previous = signal.signal(signal.SIGTERM, _interrupt)
    ours = not get_current_settings().api.url
    try:
        with prefect_server(settings) as api_url:
            ui = api_url.removesuffix("/api")
            print(
                f"Prefect UI: {ui}  (daily runs at {settings.daily_cron!r} {schedule_timezone(settings)}; "
                "start a Short from Deployments > make-short > Run > Custom run)",
                flush=True,
            )
            if ours:
                print("Its login is the password `shorts server status` shows.", flush=True)
            serve(*served, print_starting_message=False)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops serving the way Ctrl-C does, so the server child is stopped too


@contextmanager
def prefect_server(settings: Settings) -> Iterator[str]:
    """The API URL to use: the configured one, or a server started here (and stopped on exit)."""
    configured = get_current_settings().api.url
    if configured:
        _wait_healthy(
            configured,
            15,
            None,
            f"The Prefect server at {configured} (PREFECT_API_URL) does not answer; "
            "start it, or unset PREFECT_API_URL to let `shorts serve` start one.",
        )
        yield configured
        return
    port = settings.prefect_port
    api_url = f"http://{HOST}:{port}/api"
    if _is_open(port):
        if not _healthy(api_url):
            raise ConfigError(
                f"Port {port} is in use by something other than a Prefect server; "
                "set SHORTS_PREFECT_PORT to a free port."
            )
        # Ours (an earlier `shorts serve` of this SHORTS_HOME) takes our login; anyone else's is not ours to use.
        if answers_to(api_url, login(settings)) != "ours":
            raise ConfigError(
                f"Port {port} has a Prefect server that `shorts serve` did not start for this "
                "SHORTS_HOME; set SHORTS_PREFECT_PORT to a free port, or set PREFECT_API_URL to use "
                "that server on purpose."
            )
        log.info("A Prefect server already answers on %s; using it.", api_url)
        with _use_api(api_url, settings):
            yield api_url
        return
    child, log_file = _start_server(settings, port)
    try:
        log.info(
            "Starting the Prefect server on %s:%d (pid %d; its first start sets up a database and can take a "
            "minute; log: %s)…",
            HOST,
            port,
            child.pid,
            log_file,
        )
        _wait_healthy(
            api_url,
            settings.prefect_startup_timeout,
            child,
            f"The Prefect server did not answer within {settings.prefect_startup_timeout} s; see {log_file}, "
            "or raise SHORTS_PREFECT_STARTUP_TIMEOUT.",
            log_file,
        )
        with _use_api(api_url, settings):
            yield api_url
    finally:
        _stop(child)


def _start_server(settings: Settings, port: int) -> tuple[subprocess.Popen, Path]:
    log_file = settings.paths.prefect_server_log
    private_home(settings.home_dir)
    out = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        # A session of its own, so a Ctrl-C in the terminal reaches only us: we pause the deployments first
        # (which needs the server), then stop the server.
        child = subprocess.Popen(
            [sys.executable, "-m", "flows.guarded_server", str(port), settings.server_public_url or ""],
            env=server_env(settings, port, settings.server_public_url),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        os.close(out)
    return child, log_file


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    log.info("Stopping the Prefect server (pid %d)…", child.pid)
    child.terminate()
    try:
        child.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


@contextmanager
def _use_api(api_url: str, settings: Settings) -> Iterator[None]:
    # Prefect read its settings at import; the environment is for the flow-run subprocesses serve starts.
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


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_healthy(
    api_url: str, timeout: float, child: subprocess.Popen | None, message: str, log_file: Path | None = None
) -> None:
    started = time.monotonic()
    said = started
    while not _healthy(api_url):
        if child is not None and child.poll() is not None:
            raise ShortsError(
                f"The Prefect server stopped while starting (exit code {child.returncode}): "
                f"{_last_line(log_file)}; see {log_file}."
            )
        if time.monotonic() - started > timeout:
            raise ShortsError(message)
        if time.monotonic() - said >= 15:
            said = time.monotonic()
            log.info("  still waiting for the Prefect server (%.0f s)…", said - started)
        time.sleep(0.5)


def _last_line(log_file: Path | None) -> str:
    try:
        lines = [line for line in log_file.read_text(errors="replace").splitlines() if line.strip()]
    except (OSError, AttributeError):
        return "no log"
    return lines[-1].strip()[:200] if lines else "no output"

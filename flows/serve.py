"""`shorts serve`: the `daily` (scheduled) and `make-short` (a form in the UI) deployments, served from here.

Schedules and the UI need a real Prefect server. When none is configured (PREFECT_API_URL), one is started as a
child process on 127.0.0.1 and stopped again when serving stops (flows.prefect_server).
"""

from __future__ import annotations

import signal
from types import FrameType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows.prefect_env import configure_prefect
from flows.prefect_server import serve_server

configure_prefect()  # before `import prefect`, which reads its settings at import

from prefect import serve  # noqa: E402
from prefect.deployments.runner import EntrypointType, RunnerDeployment  # noqa: E402
from prefect.schedules import Cron, Schedule  # noqa: E402
from prefect.settings import get_current_settings  # noqa: E402

from flows.daily import daily_shorts  # noqa: E402
from flows.make_short import make_short  # noqa: E402
from pipeline import ConfigError, Settings  # noqa: E402


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


def daily_schedule(settings: Settings) -> Schedule:
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
    # Called outside an event loop, so Prefect's to_deployment runs its sync variant, not the coroutine.
    assert isinstance(daily, RunnerDeployment) and isinstance(one, RunnerDeployment)
    return [daily, one]


def serve_deployments(settings: Settings) -> None:
    """Serve both deployments until Ctrl-C (or SIGTERM), with a Prefect server of our own if none is configured."""
    served = deployments(settings)  # a bad schedule fails before any server starts
    previous = signal.signal(signal.SIGTERM, _interrupt)
    ours = not get_current_settings().api.url
    try:
        with serve_server(settings) as api_url:
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

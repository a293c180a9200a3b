"""`shorts topics`, `shorts daily` and `shorts serve`. Prefect is imported inside the commands, after
configure_prefect, so `shorts topics` and `--help` stay fast."""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer
from pydantic import ValidationError

from pipeline import (
    ConfigError, Settings, ShortRequest, ShortsError, add_topics, check_upload_ready, nothing_to_make, topic_statuses,
    queue_name,
)

log = logging.getLogger("shorts")
topics_app = typer.Typer(no_args_is_help=True, help="The queue of topics the daily runs make, top to bottom.")


def _settings() -> Settings:
    from flows.cli import _explain, _fail  # the error boundary lives in flows.cli

    try:
        return Settings()
    except ValidationError as exc:
        _fail(_explain(exc), code=2)


@topics_app.command("add")
def topics_add(
    topics: Annotated[list[str], typer.Argument(help="Topics to queue, one per argument.")],
    again: Annotated[bool, typer.Option(help="Queue a topic already made, to make it once more.")] = False,
) -> None:
    """Append topics to the queue (SHORTS_HOME/topics.txt); a topic already queued or made is skipped."""
    from flows.cli import _fail

    settings = _settings()
    try:
        outcome = add_topics(settings, topics, again=again)
    except ShortsError as exc:
        _fail(str(exc), code=2)
    for topic in outcome["added"]:
        typer.echo(f"queued: {topic}")
    for topic in outcome["requeued"]:
        typer.echo(f"queued again: {topic}")
    for topic in outcome["skipped"]:
        typer.echo(f"skipped (already queued or made; --again to make it again): {topic}")
    typer.echo(f"Queue: {queue_name(settings)}")


@topics_app.command("list")
def topics_list() -> None:
    """Show the queue in order, and which topics were made, failed, or wait."""
    from flows.cli import _fail

    settings = _settings()
    try:
        statuses = topic_statuses(settings)
    except ShortsError as exc:
        _fail(str(exc))
    path = queue_name(settings)
    if not statuses:
        typer.echo(f"The queue is empty ({path}); add topics with `shorts topics add \"...\"`.")
        return
    for status in statuses:
        if status.state == "made":
            note = f"made    {status.updated_at:%Y-%m-%d}  {status.link or ''}".rstrip()
        elif status.state == "failed":
            note = f"failed  {status.failures}x, queued again: {status.detail or ''}".rstrip()
        else:
            note = "queued"
        typer.echo(f"{status.topic}\t{note}")
    waiting = sum(s.state != "made" for s in statuses)
    typer.echo(f"{waiting} of {len(statuses)} waiting; queue: {path}")


def daily(
    count: Annotated[Optional[int], typer.Option(help="Topics to make (default: SHORTS_DAILY_COUNT).")] = None,
    seconds: Annotated[int, typer.Option(help="Target length of each Short, 5-180 seconds.")] = 30,
    upload: Annotated[Optional[bool], typer.Option(
        "--upload/--no-upload", help="Upload to YouTube (default: SHORTS_DAILY_UPLOAD, else the outbox).")] = None,
    verbose: Annotated[bool, typer.Option(help="Also show Prefect's own logs.")] = False,
) -> None:
    """Run the daily flow once, now, here: make the next queued topics' Shorts."""
    from flows.cli import _explain, _fail, _log_to_stderr

    _log_to_stderr()
    settings = _settings()
    if count is not None and not 1 <= count <= 50:
        _fail(f"--count must be between 1 and 50 (got {count}).", code=2)
    try:
        ShortRequest(topic="seconds check", seconds=seconds)
        dry = not settings.niche and all(s.state == "made" for s in topic_statuses(settings))
        if settings.daily_upload if upload is None else upload:
            check_upload_ready(settings)  # a missing token or a bad schedule fails now, as for `shorts make`
    except ValidationError as exc:
        _fail(_explain(exc), code=2)
    except ShortsError as exc:
        _fail(str(exc), code=2)
    if dry:
        _fail(str(nothing_to_make(settings)))  # say so before Prefect takes its time to start

    from flows.prefect_env import configure_prefect

    configure_prefect(settings, quiet=not verbose)
    log.info("Starting Prefect (its first local start sets up a database and can take a minute)…")
    from flows.daily import daily_shorts

    try:
        rows = daily_shorts(count=count, seconds=seconds, upload=upload)
    except KeyboardInterrupt:
        _fail("Interrupted; topics not finished stay queued.", code=130)
    except ShortsError as exc:
        _fail(str(exc))
    except Exception as exc:  # Prefect itself failing: one line, as `shorts make` does
        first_line = (str(exc).strip().splitlines() or [""])[0]
        _fail(f"Prefect failed to run the flow ({type(exc).__name__}: {first_line}); set SHORTS_DEBUG=1 for details.")
    log.info("Done: %d Short(s) made.", len(rows))


def serve() -> None:
    """Serve the `daily` (scheduled) and `make-short` (UI form) deployments until Ctrl-C.

    Starts a Prefect server on 127.0.0.1 (SHORTS_PREFECT_PORT) unless PREFECT_API_URL names one.
    """
    from flows.cli import _fail, _log_to_stderr

    _log_to_stderr()
    settings = _settings()

    from flows.prefect_env import configure_prefect

    configure_prefect(settings)
    from flows.serve import serve_deployments

    try:
        serve_deployments(settings)
    except KeyboardInterrupt:
        pass
    except ShortsError as exc:
        _fail(str(exc), code=2 if isinstance(exc, ConfigError) else 1)
    log.info("Stopped serving.")

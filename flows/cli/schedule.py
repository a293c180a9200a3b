"""`shorts topics`, `shorts daily` and `shorts serve`. Prefect is imported inside the commands, after
configure_prefect, so `shorts topics` and `--help` stay fast."""

from __future__ import annotations

import contextlib
import logging
from typing import Annotated

import typer

from flows.cli.errors import fail, log_to_stderr, one_line_errors
from pipeline import (
    Settings,
    ShortRequest,
    add_topics,
    check_upload_ready,
    nothing_to_make,
    queue_name,
    topic_statuses,
)

log = logging.getLogger("shorts")
topics_app = typer.Typer(no_args_is_help=True, help="The queue of topics the daily runs make, top to bottom.")


@topics_app.command("add")
def topics_add(
    topics: Annotated[list[str], typer.Argument(help="Topics to queue, one per argument.")],
    again: Annotated[bool, typer.Option(help="Queue a topic already made, to make it once more.")] = False,
) -> None:
    """Append topics to the queue (SHORTS_HOME/topics.txt); a topic already queued or made is skipped."""
    with one_line_errors(code=2):
        settings = Settings()
        outcome = add_topics(settings, topics, again=again)
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
    with one_line_errors(code=1):
        settings = Settings()
        statuses = topic_statuses(settings)
    path = queue_name(settings)
    if not statuses:
        typer.echo(f'The queue is empty ({path}); add topics with `shorts topics add "..."`.')
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
    count: Annotated[int | None, typer.Option(help="Topics to make (default: SHORTS_DAILY_COUNT).")] = None,
    seconds: Annotated[int, typer.Option(help="Target length of each Short, 5-180 seconds.")] = 30,
    upload: Annotated[
        bool | None,
        typer.Option("--upload/--no-upload", help="Upload to YouTube (default: SHORTS_DAILY_UPLOAD, else the outbox)."),
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Also show Prefect's own logs.")] = False,
) -> None:
    """Run the daily flow once, now, here: make the next queued topics' Shorts."""
    log_to_stderr()
    if count is not None and not 1 <= count <= 50:
        fail(f"--count must be between 1 and 50 (got {count}).", code=2)
    with one_line_errors(code=2):
        settings = Settings()
        ShortRequest(topic="seconds check", seconds=seconds)
        dry = not settings.niche and all(s.state == "made" for s in topic_statuses(settings))
        if settings.daily_upload if upload is None else upload:
            check_upload_ready(settings)  # a missing token or a bad schedule fails now, as for `shorts make`
    if dry:
        fail(str(nothing_to_make(settings)))  # say so before Prefect takes its time to start

    from flows.prefect_env import configure_prefect
    from flows.prefect_server import ensure_server

    with one_line_errors():
        ensure_server(settings)  # the same background server as `shorts make`, before Prefect's import
    configure_prefect(settings, quiet=not verbose)
    from flows.daily import daily_shorts

    with one_line_errors(interrupted="Interrupted; topics not finished stay queued.", prefect=True):
        rows = daily_shorts(count=count, seconds=seconds, upload=upload)
    log.info("Done: %d Short(s) made.", len(rows))


def serve() -> None:
    """Serve the `daily` (scheduled) and `make-short` (UI form) deployments until Ctrl-C.

    Starts a Prefect server on 127.0.0.1 (SHORTS_PREFECT_PORT) unless PREFECT_API_URL names one.
    """
    log_to_stderr()
    with one_line_errors(code=2):
        settings = Settings()

    from flows.prefect_env import configure_prefect

    configure_prefect(settings)
    from flows.serve import serve_deployments

    with one_line_errors(code=1, config_code=2), contextlib.suppress(KeyboardInterrupt):
        serve_deployments(settings)
    log.info("Stopped serving.")

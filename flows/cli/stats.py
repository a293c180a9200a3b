"""`shorts stats`: what each uploaded Short did on YouTube, labelled as YouTube's, with our own scores beside it;
`shorts stats import FILE.csv` adds a YouTube Studio export's "Viewed vs swiped away"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from flows.cli.errors import one_line_errors
from pipeline import Settings, channel_stats, import_studio_csv, text_table

# The retention curves (100 points each) stay out of --json; retention at 3 s and at the end are in.
CURVES: dict[str, Any] = {"rows": {"__all__": {"analytics": {"curve"}, "snapshots": {"__all__": {"curve"}}}}}
stats_app = typer.Typer(help="What each Short this tool uploaded did on YouTube, and what the channel learns.")


@stats_app.callback(invoke_without_command=True)
def stats(
    ctx: typer.Context,
    channel: Annotated[
        str | None,
        typer.Option(
            help="YouTube channel, as named by `shorts auth youtube` (default: SHORTS_YOUTUBE_CHANNEL or main)."
        ),
    ] = None,
    fetch: Annotated[
        bool,
        typer.Option("--fetch/--no-fetch", help="Ask YouTube for fresh numbers first (else show the stored ones)."),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout, nothing else.")] = False,
) -> None:
    """Show each uploaded Short's YouTube numbers, our scores, and the learnings the daily runs use."""
    if ctx.invoked_subcommand:
        return
    with one_line_errors(code=1, config_code=2):
        report = channel_stats(Settings(), channel, fetch=fetch)
    for note in report.notes:
        typer.echo(note, err=True)
    if as_json:
        typer.echo(
            json.dumps(
                report.model_dump(mode="json", exclude=CURVES)
                | {"learnings": {**report.learnings.model_dump(), "note": report.learnings.note}}
            )
        )
    elif not report.rows:
        typer.echo("No Short has been uploaded to YouTube by this tool yet; `shorts make TOPIC --upload` makes one.")
    else:
        typer.echo(text_table(report))


@stats_app.command("import")
def stats_import(
    file: Annotated[
        Path,
        typer.Argument(
            help='A CSV exported from YouTube Studio (Advanced mode) with the Shorts metric "Viewed vs swiped away".'
        ),
    ],
    channel: Annotated[str | None, typer.Option(help="YouTube channel (default: SHORTS_YOUTUBE_CHANNEL).")] = None,
) -> None:
    """Add a YouTube Studio export's viewed-vs-swiped numbers to `shorts stats`, matched by video id."""
    with one_line_errors(code=2):
        matched, skipped = import_studio_csv(Settings(), file, channel)
    typer.echo(
        f"Imported Studio numbers for {matched} Short(s)"
        + (f"; {skipped} row(s) of videos this tool did not upload were skipped." if skipped else ".")
    )

"""`shorts voices`: the voices each narration provider offers, and their languages."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.errors import one_line_errors
from pipeline import Settings, list_voices


def voices(
    provider: Annotated[
        str | None, typer.Option(help="Only this voice provider (elevenlabs, openai, runway, edge, offline).")
    ] = None,
) -> None:
    """List the voices each provider offers; pick one with `shorts make --voice P --voice-name NAME`."""
    with one_line_errors(code=2):
        listings = list_voices(Settings(), provider)
    for listing in listings:
        if listing.problem:
            typer.echo(f"{listing.provider}: {listing.problem}")
            continue
        typer.echo(f"{listing.provider} ({len(listing.voices)} voices; --voice {listing.provider} --voice-name NAME):")
        for voice in listing.voices:
            typer.echo(f"  {voice.name} ({voice.language})" + (f"  {voice.note}" if voice.note else ""))

"""`shorts voices`: the voices each narration provider offers, and their languages."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline import Settings, ShortsError
from pipeline.voice_list import list_voices


def voices(
    provider: Annotated[Optional[str], typer.Option(help="Only this voice provider (elevenlabs, openai, edge, "
                                                         "offline).")] = None,
) -> None:
    """List the voices each provider offers; pick one with `shorts make --voice P --voice-name NAME`."""
    try:
        listings = list_voices(Settings(), provider)
    except ShortsError as exc:
        typer.echo(f"shorts: {exc}", err=True)
        raise typer.Exit(2)
    for listing in listings:
        if listing.problem:
            typer.echo(f"{listing.provider}: {listing.problem}")
            continue
        typer.echo(f"{listing.provider} ({len(listing.voices)} voices; --voice {listing.provider} --voice-name NAME):")
        for voice in listing.voices:
            typer.echo(f"  {voice.name} ({voice.language})" + (f"  {voice.note}" if voice.note else ""))

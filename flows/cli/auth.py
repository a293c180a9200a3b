"""`shorts auth ...`: authorise shorts to act for an account."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.cli.errors import log_to_stderr, one_line_errors
from pipeline import Settings, authorize_youtube

auth_app = typer.Typer(no_args_is_help=True, help="Authorise shorts to upload for you.")


@auth_app.command("youtube")
def youtube(
    client_secrets: Annotated[Path, typer.Option(
        "--client-secrets", help="The OAuth client JSON of a Desktop app, from the Google Cloud console.")],
    channel: Annotated[Optional[str], typer.Option(
        help="A name for this channel's token (default: SHORTS_YOUTUBE_CHANNEL or main).")] = None,
    port: Annotated[int, typer.Option(help="Local port for Google's answer (0: any free one).")] = 0,
    browser: Annotated[bool, typer.Option(
        "--browser/--no-browser", help="Open the sign-in page (--no-browser: print its address only).")] = True,
) -> None:
    """Sign in to Google once and store a token that lets shorts upload to one YouTube channel."""
    log_to_stderr()
    with one_line_errors(code=2, interrupted="Interrupted; no token was stored."):
        settings = Settings()
        name = channel or settings.youtube_channel
        path = authorize_youtube(client_secrets, settings.home_dir, name, port=port, open_browser=browser)
    typer.echo(f"Channel {name!r} is authorised (token in {path}); upload with: shorts make \"TOPIC\" --upload"
               + ("" if name == settings.youtube_channel else f" --channel {name}"))

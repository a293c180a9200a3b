"""`shorts auth ...`: authorise shorts to act for an account."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.errors import fail, log_to_stderr, one_line_errors
from pipeline import Settings, authorize_platform, authorize_youtube

auth_app = typer.Typer(no_args_is_help=True, help="Authorise shorts to upload for you.")


@auth_app.command("youtube")
def youtube(
    client_secrets: Annotated[
        Path,
        typer.Option("--client-secrets", help="The OAuth client JSON of a Desktop app, from the Google Cloud console."),
    ],
    channel: Annotated[
        str | None, typer.Option(help="A name for this channel's token (default: SHORTS_YOUTUBE_CHANNEL or main).")
    ] = None,
    port: Annotated[int, typer.Option(help="Local port for Google's answer (0: any free one).")] = 0,
    browser: Annotated[
        bool,
        typer.Option("--browser/--no-browser", help="Open the sign-in page (--no-browser: print its address only)."),
    ] = True,
) -> None:
    """Sign in to Google once and store a token that lets shorts upload to one YouTube channel."""
    log_to_stderr()
    with one_line_errors(code=2, interrupted="Interrupted; no token was stored."):
        settings = Settings()
        name = channel or settings.youtube_channel
        path = authorize_youtube(client_secrets, settings.home_dir, name, port=port, open_browser=browser)
    typer.echo(
        f'Channel {name!r} is authorised (token in {path}); upload with: shorts make "TOPIC" --upload'
        + ("" if name == settings.youtube_channel else f" --channel {name}")
    )


@auth_app.command("instagram")
def instagram(
    user_id: Annotated[str, typer.Option("--user-id", help="The Instagram professional account's id.")],
) -> None:
    """Store an Instagram token pasted from Meta's App Dashboard (Graph API Explorer or a system user), after a
    free check; read from the terminal without echo, or from stdin."""
    _store("instagram", account=user_id)


@auth_app.command("facebook")
def facebook(
    page_id: Annotated[str, typer.Option("--page-id", help="The Facebook Page's id.")],
) -> None:
    """Store a Facebook Page token (pages_manage_posts) pasted from Meta's App Dashboard, after a free check."""
    _store("facebook", account=page_id)


@auth_app.command("tiktok")
def tiktok(
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh/--no-refresh",
            help="Also ask for the refresh token, so shorts can renew the access token (with "
            "TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET).",
        ),
    ] = True,
) -> None:
    """Store a TikTok user token (video.upload, and video.publish for direct posts), after a free check."""
    _store("tiktok", refresh=refresh)


def _store(platform: str, account: str | None = None, refresh: bool = False) -> None:
    log_to_stderr()
    with one_line_errors(code=2, interrupted="Interrupted; no token was stored."):
        settings = Settings()
        token = _read_secret(f"Paste the {platform.capitalize()} access token")
        refresh_token = _read_secret("Paste the refresh token (empty: none)", required=False) if refresh else None
        path, line = authorize_platform(platform, settings, token, account=account, refresh_token=refresh_token)
    typer.echo(f'{line}\nStored in {path} (readable by you only); post with: shorts make "TOPIC" --post {platform}')


def _read_secret(prompt: str, required: bool = True) -> str:
    """A secret from the terminal without echo, or a line of stdin when piped; never echoed back."""
    value = getpass.getpass(f"{prompt}: ", stream=sys.stderr) if sys.stdin.isatty() else sys.stdin.readline()
    value = value.strip()
    if required and not value:
        fail("No token was given; nothing was stored.", code=2)
    return value

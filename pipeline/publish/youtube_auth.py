"""YouTube authorisation: the installed-app OAuth flow, and one private token file per channel name."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError, ProviderError
from pipeline.state.home import Home, make_private
from pipeline.state.store import sweep_stale_parts, temp_tag

log = logging.getLogger("shorts")

if TYPE_CHECKING:
    import httplib2
    from google.oauth2.credentials import Credentials

UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"  # videos.insert (and thumbnails.set)
READONLY_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"  # videos.list: the processing status
ANALYTICS_SCOPE = "https://www.googleapis.com/auth/yt-analytics.readonly"  # `shorts stats`: YouTube Analytics
SCOPES = (UPLOAD_SCOPE, READONLY_SCOPE, ANALYTICS_SCOPE)
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


def auth_command(channel: str) -> str:
    return f"shorts auth youtube --client-secrets FILE --channel {channel}"


def token_path(home: Path, channel: str) -> Path:
    """Where the token of `channel` lives: HOME/youtube/<channel>.json."""
    if not CHANNEL_NAME.match(channel):
        raise ConfigError(f"The channel name {channel!r} is not allowed; use 1-40 letters, digits, - or _.")
    return Home(home).youtube_tokens / f"{channel}.json"


def has_youtube_token(home: Path, channel: str) -> bool:
    """Whether `channel` has been authorised on this machine (without checking the token still works)."""
    return token_path(home, channel).is_file()


def authorize_youtube(
    client_secrets: Path,
    home: Path,
    channel: str,
    *,
    port: int = 0,
    open_browser: bool = True,
    timeout_seconds: int = 300,
) -> Path:
    """Run Google's sign-in in a browser and store the channel's token (mode 0600); returns its path."""
    from google_auth_oauthlib.flow import InstalledAppFlow, WSGITimeoutError
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error

    path = token_path(home, channel)
    if not client_secrets.is_file():
        raise ConfigError(
            f"No OAuth client file at {client_secrets}; download it from the Google Cloud console "
            "(APIs & Services > Credentials > your Desktop app client > Download JSON)."
        )
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets), scopes=list(SCOPES))
    except (ValueError, KeyError) as exc:
        raise ConfigError(
            f"{client_secrets} is not an OAuth client file for a Desktop app; create one of type "
            "'Desktop app' in the Google Cloud console and download its JSON."
        ) from exc
    try:
        credentials = flow.run_local_server(
            host="127.0.0.1",
            port=port,
            open_browser=open_browser,
            timeout_seconds=timeout_seconds,
            prompt="consent",  # so Google sends a refresh token again on a re-authorisation
            authorization_prompt_message="Open this address in a browser to let shorts upload to the channel:\n{url}",
            success_message="shorts is authorised; you can close this tab.",
        )
    except WSGITimeoutError as exc:
        raise ConfigError(
            f"Nobody finished the sign-in within {timeout_seconds} s; run `{auth_command(channel)}` again."
        ) from exc
    except OAuth2Error as exc:
        raise ConfigError(
            f"Google refused the sign-in ({exc.error}); run `{auth_command(channel)}` again and "
            "allow the access it asks for."
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"Could not listen on 127.0.0.1:{port} for Google's answer ({exc.strerror}); choose another --port."
        ) from exc
    if not credentials.refresh_token:
        raise ConfigError(f"Google sent no refresh token; run `{auth_command(channel)}` again.")
    granted = set(credentials.granted_scopes or credentials.scopes or ())
    if UPLOAD_SCOPE not in granted:
        raise ConfigError(f"The upload permission was not granted; run `{auth_command(channel)}` again and tick it.")
    save_token(credentials, path)
    return path


def load_youtube_credentials(home: Path, channel: str, http: httplib2.Http | None = None) -> Credentials:
    """The channel's stored credentials, refreshed (and stored again) when the access token has expired."""
    # Google's libraries load here, not at the top: every `shorts` process imports this module, few upload.
    import httplib2
    from google.auth.exceptions import RefreshError, TransportError
    from google.oauth2.credentials import Credentials
    from google_auth_httplib2 import Request

    path = token_path(home, channel)
    if not path.is_file():
        raise ConfigError(f"No YouTube token for channel {channel!r}; run `{auth_command(channel)}` first.")
    for secret in (path.parent, path):  # a token copied in (scaling out) may be readable by others: fixed first
        if make_private(secret):
            log.warning("  %s was readable by others; it is now readable by its owner only", secret)
    try:
        credentials = Credentials.from_authorized_user_info(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, OSError) as exc:
        raise ConfigError(
            f"The YouTube token of channel {channel!r} cannot be read; run `{auth_command(channel)}` again."
        ) from exc
    if not credentials.has_scopes([UPLOAD_SCOPE]):
        raise ConfigError(
            f"The YouTube token of channel {channel!r} does not allow uploads; run `{auth_command(channel)}` again."
        )
    if not credentials.valid:
        try:
            credentials.refresh(Request(http or httplib2.Http(timeout=60)))
        except RefreshError as exc:
            raise revoked(channel) from exc
        except TransportError as exc:
            raise ProviderError(
                "Could not reach Google to refresh the YouTube token; check the connection and rerun.", retry_safe=True
            ) from exc
        save_token(credentials, path)
    return credentials


def revoked(channel: str) -> ConfigError:
    """The error for a token Google no longer accepts (revoked, expired after 7 days in Testing, or unused)."""
    return ConfigError(
        f"The YouTube token of channel {channel!r} was revoked or has expired; run `{auth_command(channel)}` again."
    )


def save_token(credentials: Credentials, path: Path) -> None:
    """Write the token readable by its owner only: created 0600, never widened, swapped in whole."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    sweep_stale_parts(path)  # what a writer killed before its rename left
    tmp = path.with_name(f".{path.stem}.{temp_tag()}.part{path.suffix}")
    # The mode is set when the file is created, so there is no moment at which others could read it.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(credentials.to_json())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

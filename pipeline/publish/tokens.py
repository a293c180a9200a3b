"""The stored tokens of Instagram, Facebook and TikTok: one private JSON file per platform, HOME/<platform>/token.json.

Written like the YouTube token: created 0600 under a temporary name, then swapped in whole, so a reader never sees
half a token and nobody else can read it at any moment. A token given in the environment is never written here;
a TikTok token refreshed by the tool is (TikTok rotates the refresh token, and the old one stops working).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, remember_secrets
from pipeline.state.home import make_private
from pipeline.state.store import sweep_stale_parts, temp_tag

log = logging.getLogger("shorts")
SECRET_FIELDS = ("access_token", "refresh_token")


def token_file(home: Path, platform: str) -> Path:
    return home / platform / "token.json"


def load_token(home: Path, platform: str) -> dict[str, Any] | None:
    """The stored token of `platform` (its secrets remembered for redaction), or None when there is none."""
    path = token_file(home, platform)
    if not path.is_file():
        return None
    for secret in (path.parent, path):  # a token copied in by hand may be readable by others: fixed first
        make_private(secret)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"The stored {platform} token ({path}) cannot be read; run `shorts auth {platform}` again."
        ) from exc
    if not isinstance(stored, dict):
        raise ConfigError(f"The stored {platform} token ({path}) is not a token; run `shorts auth {platform}` again.")
    remember_secrets(*(str(stored[name]) for name in SECRET_FIELDS if stored.get(name)))
    return stored


def save_token(home: Path, platform: str, token: dict[str, Any]) -> Path:
    """Store `token` for `platform`, readable by its owner only, swapped in whole; returns its path."""
    remember_secrets(*(str(token[name]) for name in SECRET_FIELDS if token.get(name)))
    path = token_file(home, platform)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    sweep_stale_parts(path)  # what a writer killed before its rename left
    tmp = path.with_name(f".{path.stem}.{temp_tag()}.part{path.suffix}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private from the first moment
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(token, file)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path

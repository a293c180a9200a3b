"""TikTok's Content Posting API over httpx: JSON calls whose errors come as `{"error": {"code": ...}}` (often with
HTTP 200), the chunked upload, and the user token, refreshed once when it has expired.

TikTok rotates the refresh token on every refresh and the old one stops working, so the new pair is stored at once
(HOME/tiktok/token.json, 0600, swapped in whole), under a lock that every run of this ledger shares.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import ConfigError, ProviderError
from pipeline.publish.tokens import load_token, save_token
from pipeline.settings import Settings
from pipeline.state.ledger import open_ledger

log = logging.getLogger("shorts")

PLATFORM = "tiktok"
MIN_CHUNK, MAX_CHUNK = 5 * 1024 * 1024, 64 * 1024 * 1024  # the Media Transfer Guide's bounds; the last may be bigger
CHUNK_SIZE = 10 * 1024 * 1024
TRIES = 4
EXPIRY_MARGIN = 120  # seconds: a token this close to its end is refreshed before use
NEW_TOKEN = "run `shorts auth tiktok` (or set TIKTOK_ACCESS_TOKEN)"
# TikTok's error codes, in one sentence each; the ones not here keep TikTok's own message.
EXPLAINED = {
    "scope_not_authorized": (
        "The TikTok token lacks a permission this needs (video.upload for drafts, "
        f"video.publish for direct posts); {NEW_TOKEN} with it"
    ),
    "rate_limit_exceeded": "TikTok allows 6 uploads a minute per account and that was passed; rerun in a minute",
    "spam_risk_too_many_posts": "TikTok's daily post limit for this account is reached; rerun tomorrow",
    "spam_risk_too_many_pending_share": (
        "The TikTok inbox holds too many unfinished drafts; finish or delete some in the app, then rerun"
    ),
    "spam_risk_user_banned_from_posting": "TikTok does not let this account post at the moment",
    "unaudited_client_can_only_post_to_private_accounts": (
        "This TikTok app is not audited, so it may post directly only to a private account; use "
        "SHORTS_TIKTOK_MODE=inbox (a draft you finish in the app), or make the account private"
    ),
    "reached_active_user_cap": "This TikTok app has reached its daily cap of users who may post; rerun tomorrow",
    "privacy_level_option_mismatch": "SHORTS_TIKTOK_PRIVACY is not one of this account's privacy options",
    "url_ownership_unverified": "TikTok has not verified the domain of the video's URL",
}


class TikTokError(ProviderError):
    """An answer whose error code is not "ok"; `code` is TikTok's."""

    def __init__(self, message: str, *, code: str, transient: bool = False) -> None:
        super().__init__(message)
        self.code, self.transient = code, transient


class TikTokClient:
    """One user's calls to TikTok's API at `base_url`."""

    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        token: dict[str, Any] | None = None,
    ) -> None:
        self.settings, self.sleep = settings, sleep
        self.root = settings.tiktok_api_url.rstrip("/")
        self._own = http is None
        self.http = http or httpx.Client(timeout=httpx.Timeout(300.0, connect=10.0))
        self._token = token or current_token(settings)
        self._refreshed = False

    def close(self) -> None:
        if self._own:
            self.http.close()

    def call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST `body` to `path`; the answer's `data`. An expired token is refreshed once, and the call sent again."""
        if _expired(self._token) and not self._refreshed:
            self._refresh()
        try:
            return self._send(path, body)
        except TikTokError as exc:
            if exc.code != "access_token_invalid" or self._refreshed:
                raise
        self._refresh()
        return self._send(path, body)

    def _send(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        response = self.http.post(
            f"{self.root}{path}",
            json=body or {},
            headers={
                "Authorization": f"Bearer {self._token['access_token']}",
                "Content-Type": "application/json; charset=UTF-8",
            },
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        error = answer.get("error") if isinstance(answer, dict) else None
        code = str((error or {}).get("code") or ("ok" if response.is_success else f"http_{response.status_code}"))
        if code == "ok" and response.is_success:
            return answer.get("data") or {}
        if code == "access_token_invalid":
            raise TikTokError(f"TikTok refused the token (access_token_invalid); {NEW_TOKEN}", code=code)
        message = EXPLAINED.get(code) or (
            f"TikTok refused the request ({code}: {str((error or {}).get('message') or '')[:200].rstrip('.')})"
        )
        raise TikTokError(message, code=code, transient=response.status_code >= 500)

    def _refresh(self) -> None:
        """Swap the access token for a new one, once a run; the rotated refresh token is stored at once."""
        self._refreshed = True
        key = self.settings.tiktok_client_key
        secret = self.settings.tiktok_client_secret
        with open_ledger(self.settings).hold("tiktok-token-refresh"):
            latest = current_token(self.settings)
            if latest.get("access_token") != self._token.get("access_token") and not _expired(latest):
                self._token = latest  # another run refreshed it a moment ago
                return
            if not (key and secret and latest.get("refresh_token")):
                raise ConfigError(
                    "The TikTok access token has expired and cannot be refreshed: set "
                    "TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET and TIKTOK_REFRESH_TOKEN, or run "
                    "`shorts auth tiktok`."
                )
            log.info("  refreshing the TikTok access token")
            response = self.http.post(
                f"{self.root}/v2/oauth/token/",
                data={
                    "client_key": key,
                    "client_secret": secret.get_secret_value(),
                    "grant_type": "refresh_token",
                    "refresh_token": latest["refresh_token"],
                },
            )
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            if not response.is_success or not answer.get("access_token"):
                raise ConfigError(
                    f"TikTok refused to refresh the token ({answer.get('error') or response.status_code}); {NEW_TOKEN}."
                )
            self._token = {
                "access_token": answer["access_token"],
                "refresh_token": answer.get("refresh_token") or latest["refresh_token"],
                "expires_at": time.time() + float(answer.get("expires_in") or 0),
                "open_id": answer.get("open_id"),
                "scope": answer.get("scope"),
            }
            save_token(self.settings.home_dir, PLATFORM, self._token)

    def upload(self, url: str, video: Path, chunk_size: int) -> None:
        """PUT the file to `url` in chunks of `chunk_size` (the last takes the rest), in order, each retried."""
        size = video.stat().st_size
        count = chunk_count(size, chunk_size)
        with video.open("rb") as file:
            for index in range(count):
                start = index * chunk_size
                end = size - 1 if index == count - 1 else start + chunk_size - 1
                file.seek(start)
                self._put(url, file.read(end - start + 1), f"bytes {start}-{end}/{size}")

    def _put(self, url: str, chunk: bytes, span: str) -> None:
        for attempt in range(1, TRIES + 1):
            try:
                response = self.http.put(
                    url, content=chunk, headers={"Content-Type": "video/mp4", "Content-Range": span}
                )
            except httpx.TransportError as exc:
                if attempt == TRIES:
                    raise
                why = type(exc).__name__
            else:
                if response.status_code in (200, 201, 206):
                    return
                if response.status_code < 500 and response.status_code != 429:
                    raise TikTokError(f"TikTok refused the upload (HTTP {response.status_code})", code="upload")
                if attempt == TRIES:
                    raise TikTokError(
                        f"TikTok's upload failed (HTTP {response.status_code})", code="upload", transient=True
                    )
                why = f"HTTP {response.status_code}"
            delay = min(30.0, 2.0**attempt) * random.random()
            log.warning(
                "  TikTok upload of %s failed (%s); try %d of %d in %.1f s", span, why, attempt + 1, TRIES, delay
            )
            self.sleep(delay)


def chunk_count(size: int, chunk_size: int) -> int:
    """How many chunks TikTok expects: one under MIN_CHUNK, else whole chunks with the rest in the last."""
    return 1 if size <= chunk_size else size // chunk_size


def chunking(size: int, chunk_size: int = CHUNK_SIZE) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) for a file of `size` bytes, as the init call declares them."""
    chunk_size = max(MIN_CHUNK, min(chunk_size, MAX_CHUNK))
    if size <= chunk_size:  # under 5 MB it must be one chunk; up to a chunk's size it may be
        return size, 1
    return chunk_size, chunk_count(size, chunk_size)


def current_token(settings: Settings) -> dict[str, Any]:
    """The stored token (written by a refresh or `shorts auth tiktok`), else the environment's."""
    stored = load_token(settings.home_dir, PLATFORM)
    if stored and stored.get("access_token"):
        return stored
    if settings.tiktok_access_token:
        refresh = settings.tiktok_refresh_token.get_secret_value() if settings.tiktok_refresh_token else None
        return {
            "access_token": settings.tiktok_access_token.get_secret_value(),
            "refresh_token": refresh,
            "expires_at": None,
        }
    raise ConfigError(
        "No TikTok account is set up: set TIKTOK_ACCESS_TOKEN (with TIKTOK_REFRESH_TOKEN, "
        "TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET to refresh it), or run `shorts auth tiktok`."
    )


def _expired(token: dict[str, Any]) -> bool:
    expires_at = token.get("expires_at")
    return isinstance(expires_at, (int, float)) and time.time() > expires_at - EXPIRY_MARGIN

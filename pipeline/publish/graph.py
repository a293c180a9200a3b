"""Meta's Graph API over httpx, for Instagram and Facebook: calls, the `{"error": {...}}` envelope made ours, and the
resumable upload of a local file to the rupload host (whose errors come as `{"debug_info": {...}}`).

The token travels in the Authorization header, never in a URL, so no log line or exception can carry it.
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

log = logging.getLogger("shorts")

TRIES = 4  # for calls safe to repeat: reads, and the upload (sent again from offset 0 to the same container)
RATE_LIMIT_CODES = frozenset({4, 9, 17, 32, 613})  # app, user, page and "too many calls" limits
EXPIRED_TOKEN = 190


def timeouts() -> httpx.Timeout:
    return httpx.Timeout(300.0, connect=10.0)


class GraphClient:
    """One account's calls to one Graph host (`base_url`/`version`)."""

    def __init__(
        self,
        platform: str,
        base_url: str,
        version: str,
        token: str,
        *,
        token_hint: str,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.platform, self.token_hint = platform, token_hint  # token_hint: how to get a new one, for messages
        self.root = f"{base_url.rstrip('/')}/{version}"
        self._token = token
        self._own = http is None
        self.http = http or httpx.Client(timeout=timeouts())
        self.sleep = sleep

    def close(self) -> None:
        if self._own:
            self.http.close()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """A read, tried again after a transient error or a dropped connection."""
        return self._retried(lambda: self._call("GET", path, params), f"{path} read")

    def post(self, path: str, **params: Any) -> dict[str, Any]:
        """A write, sent once: its effect (a container, a publish) must not happen twice."""
        return self._call("POST", path, params)

    def _call(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        values = {name: _form(value) for name, value in params.items() if value is not None}
        response = self.http.request(
            method,
            f"{self.root}/{path.lstrip('/')}",
            headers=self._auth("Bearer"),
            params=values if method == "GET" else None,
            data=None if method == "GET" else values,
        )
        return self._answer(response)

    def upload(self, url: str, video: Path) -> dict[str, Any]:
        """Send the whole file to a rupload URL (`uri` or `upload_url` from the answers), retried from offset 0."""
        size = video.stat().st_size

        def send() -> dict[str, Any]:
            response = self.http.post(
                url,
                content=video.read_bytes(),
                headers={
                    **self._auth("OAuth"),
                    "offset": "0",
                    "file_size": str(size),
                    "Content-Type": "application/octet-stream",
                },
            )
            return self._answer(response, upload=True)

        return self._retried(send, "upload")

    def _auth(self, scheme: str) -> dict[str, str]:
        return {"Authorization": f"{scheme} {self._token}"}

    def _answer(self, response: httpx.Response, upload: bool = False) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.is_success and isinstance(body, dict) and "error" not in body and "debug_info" not in body:
            return body
        raise self._explain(response.status_code, body if isinstance(body, dict) else {}, upload)

    def _explain(self, status: int, body: dict[str, Any], upload: bool) -> ConfigError | GraphError:
        name = self.platform.capitalize()
        if "debug_info" in body:  # the rupload host's own shape
            info = body["debug_info"] or {}
            return GraphError(
                f"{name} refused the upload (HTTP {status}, {info.get('type') or 'error'}: "
                f"{str(info.get('message') or '')[:200]})",
                transient=bool(info.get("retriable")),
            )
        error: dict[str, Any] = found if isinstance(found := body.get("error"), dict) else {}
        code = error.get("code")
        if code == EXPIRED_TOKEN or status == 401:
            return ConfigError(
                f"{name} refused the token (code {code or status}: expired or revoked); {self.token_hint}."
            )
        if code in RATE_LIMIT_CODES:
            return GraphError(
                f"{name} is limiting how often this account may post or call (code {code}); wait an hour or so"
            )
        detail = f"{code}" + (f"/{error['error_subcode']}" if error.get("error_subcode") else "")
        message = str(error.get("error_user_msg") or error.get("message") or f"HTTP {status}")[:200].rstrip(".")
        return GraphError(
            f"{name} refused the {'upload' if upload else 'request'} ({detail or status}: {message})",
            transient=bool(error.get("is_transient")) or status >= 500 or status == 429,
        )

    def _retried(self, call: Callable[[], dict[str, Any]], what: str) -> dict[str, Any]:
        for attempt in range(1, TRIES + 1):
            try:
                return call()
            except GraphError as exc:
                if not exc.transient or attempt == TRIES:
                    raise
                why = str(exc)
            except httpx.TransportError as exc:
                if attempt == TRIES:
                    raise
                why = type(exc).__name__
            delay = min(30.0, 2.0**attempt) * random.random()
            log.warning(
                "  %s %s failed (%s); try %d of %d in %.1f s", self.platform, what, why, attempt + 1, TRIES, delay
            )
            self.sleep(delay)
        raise AssertionError("unreachable")


class GraphError(ProviderError):
    """A Graph or rupload answer that is an error; `transient` when the same call may succeed later."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def _form(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)

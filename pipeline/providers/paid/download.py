"""One connection pool for every vendor call and download in this process, and downloads of paid outputs that are
checked (and fetched again from a fresh URL) before anything is recorded as done."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import httpx

from pipeline.media.probe import Unreadable

DOWNLOAD_TRIES = 3
# A read timeout may be minutes (a model at work), but a host that does not accept a connection within seconds is
# unreachable: httpx applies a single number to both, so every long timeout here keeps its connect part short.
CONNECT_TIMEOUT = 10.0
DOWNLOAD_TIMEOUT = 120.0  # seconds without a byte before a download gives up

_http: httpx.Client | None = None
_HTTP_LOCK = threading.Lock()


class HasHeaders(Protocol):
    """An HTTP response, of httpx or of httpx2 (which openai 3.x sends through): only its headers are read."""

    @property
    def headers(self) -> Mapping[str, str]: ...


def timeouts(seconds: float) -> httpx.Timeout:
    """`seconds` to wait for an answer, but at most CONNECT_TIMEOUT of them to open the connection."""
    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT, seconds))


def shared_http_client() -> httpx.Client:
    """One connection pool for every vendor call and download in this process (httpx clients are thread-safe)."""
    global _http
    with _HTTP_LOCK:
        if _http is None:
            _http = httpx.Client(
                timeout=timeouts(DOWNLOAD_TIMEOUT),
                follow_redirects=True,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            )
        return _http


def retry_after(response: HasHeaders) -> float | None:
    """The seconds a Retry-After header asks for, if it gives a number."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def fetch(http: httpx.Client, url: str, dest: Path) -> str | None:
    """Stream `url` to `dest`; return what went wrong, or None."""
    try:
        with http.stream("GET", url, timeout=timeouts(DOWNLOAD_TIMEOUT)) as response:
            if response.status_code != 200:
                return f"HTTP {response.status_code}"
            expected = response.headers.get("content-length")
            encoded = response.headers.get("content-encoding", "identity") != "identity"
            got = 0
            with dest.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    got += len(chunk)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} while downloading"
    if expected and not encoded and got != int(expected):
        return f"got {got} of {expected} bytes"
    return None if got else "an empty file"


def download_checked(
    http: httpx.Client,
    url: str | None,
    dest: Path,
    verify: Callable[[Path], None],
    fresh_url: Callable[[str], str | None],
    tries: int = DOWNLOAD_TRIES,
) -> str | None:
    """Download `url` to `dest` and `verify` it, asking `fresh_url(problem)` for another URL before each retry.

    Returns None when `dest` holds a verified file, else the last problem (the caller says what to do).
    """
    problem = "no output URL"
    for attempt in range(1, tries + 1):
        if attempt > 1:
            url = fresh_url(problem)
        failed = fetch(http, url, dest) if url else "no output URL"
        if failed is None:
            try:
                verify(dest)
                return None
            except Unreadable as exc:
                failed = str(exc)
        problem = failed
    return problem

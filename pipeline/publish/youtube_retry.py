"""Which YouTube answers are worth another try, the backoff between tries, and one call made with that policy.

It follows google-api-python-client's own `_should_retry_response`: 5xx, 429, and a 403 whose reason is a rate
limit. We keep the policy here rather than pass `num_retries` to the library, so that the upload and every other
call share it, log each try, take an injectable `sleep`, and resume a chunked upload the way youtube_upload needs.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
from collections.abc import Callable
from typing import Any

import httplib2
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest

log = logging.getLogger("shorts")

MAX_DELAY = 60.0  # seconds; the backoff doubles up to this, with full jitter
CALL_TRIES = 5  # for a call that is not the upload: a list or a thumbnail
# A 403 with one of these reasons means "slow down", not "not allowed"; quotaExceeded lasts until midnight Pacific.
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# Connection trouble worth another try: what the official sample retries, plus timeouts and resets (OSError).
TRANSPORT_ERRORS = (httplib2.HttpLib2Error, http.client.HTTPException, OSError)


def reasons(exc: HttpError) -> list[str]:
    """The `reason` of each error item in YouTube's answer (`quotaExceeded`, `rateLimitExceeded`, ...)."""
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return []
    details = [*(error.get("errors") or []), *(error.get("details") or [])]
    return [item["reason"] for item in details if isinstance(item, dict) and item.get("reason")]


def is_rate_limit(exc: HttpError) -> bool:
    """A 403 that asks us to slow down, which backoff does (the client library retries these too)."""
    return exc.status_code == 403 and not RATE_LIMIT_REASONS.isdisjoint(reasons(exc))


def retryable(exc: HttpError) -> bool:
    """Whether the same request may succeed later: 5xx, 429 or a rate-limit 403; any other 4xx fails again."""
    return exc.status_code >= 500 or exc.status_code == 429 or is_rate_limit(exc)


def backoff(failures: int, jitter: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the `failures`-th failure in a row: up to 2**failures, capped, with full jitter."""
    return min(MAX_DELAY, 2.0**failures) * jitter()


def describe(error: Exception) -> str:
    """A short name for a failure, for a log line: never the request's URI, which can carry a session id."""
    if isinstance(error, HttpError):
        found = reasons(error)
        return f"HTTP {error.status_code}{' ' + found[0] if found else ''}"
    return type(error).__name__


def execute(
    request: HttpRequest,
    what: str,
    *,
    tries: int = CALL_TRIES,
    sleep: Callable[[float], None],
    jitter: Callable[[], float] = random.random,
) -> dict[str, Any]:
    """`request.execute()`, tried again after a retryable answer or a dropped connection; the last error is raised.

    Only for calls that are safe to repeat (reads, and setting a thumbnail, which replaces the one before).
    """
    failures = 0
    while True:
        try:
            return request.execute()
        except HttpError as exc:
            if not retryable(exc):
                raise
            error: Exception = exc
        except TRANSPORT_ERRORS as exc:
            error = exc
        failures += 1
        if failures >= tries:
            raise error
        delay = backoff(failures, jitter)
        log.warning(
            "  YouTube %s failed (%s); try %d of %d in %.1f s", what, describe(error), failures + 1, tries, delay
        )
        sleep(delay)

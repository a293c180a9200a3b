"""One `videos.insert`: a resumable session sent chunk by chunk, retried with backoff, resumable across runs."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httplib2
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build_from_document  # type: ignore[attr-defined]  # missing from its stubs
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest, MediaFileUpload

from pipeline.errors import ConfigError, ProviderError, ShortsError
from pipeline.publish.youtube_retry import TRANSPORT_ERRORS, backoff, describe, execute, reasons, retryable

if TYPE_CHECKING:
    from googleapiclient._apis.youtube.v3 import Video, YouTubeResource  # the stubs' types (no runtime module)

log = logging.getLogger("shorts")

MAX_TRIES = 10  # in a row without progress, as in YouTube's own upload sample
CHUNK_SIZE = 8 * 1024 * 1024  # a multiple of 256 KiB, as the resumable protocol asks; a resume point per chunk


def shorts_url(video_id: str) -> str:
    return f"https://youtube.com/shorts/{video_id}"


def youtube_client(
    credentials: Credentials, http: httplib2.Http | None = None, api_url: str | None = None
) -> YouTubeResource:
    """A YouTube Data API client that signs each request, from the discovery document the package ships.

    `api_url` points it at a YouTube-compatible server (a local fake); uploads follow it too, which the
    client's `api_endpoint` option would not do.
    """
    document = json.loads(get_static_doc("youtube", "v3"))
    if api_url:
        document["rootUrl"] = api_url.rstrip("/") + "/"
    http = http or httplib2.Http(timeout=120)
    if hasattr(http, "redirect_codes"):
        # YouTube answers 308 (Resume Incomplete) to every chunk but the last and to a resumed session's status
        # query; httplib2 takes 308 for a redirect, finds no Location and fails. googleapiclient's build_http()
        # drops it the same way.
        http.redirect_codes = http.redirect_codes - {308}
    authorized = AuthorizedHttp(credentials, http=http)
    return build_from_document(document, http=authorized)


def upload_video(
    youtube: YouTubeResource,
    video: Path,
    body: Video,
    *,
    session_uri: str | None = None,
    on_session: Callable[[str | None], None] = lambda uri: None,
    chunksize: int = CHUNK_SIZE,
    max_tries: int = MAX_TRIES,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> dict[str, Any]:
    """Upload `video` with `body` as its snippet and status; returns the Video resource YouTube made.

    `session_uri` resumes an earlier, interrupted upload; `on_session` hears of a new session (or, with None,
    of an expired one) before a single byte of the video is sent, so a caller can record it first.
    """
    media = MediaFileUpload(str(video), mimetype="video/mp4", chunksize=chunksize, resumable=True)
    try:
        request = youtube.videos().insert(part="snippet,status", body=body, media_body=media)
        if session_uri:
            _resume(request, session_uri)
        http = _SessionWatch(request, on_session)
        failures, response = 0, None
        while response is None:
            try:
                # No num_retries: the policy is ours, below. (The stubs want an httplib2.Http; the library only
                # calls its request().)
                status, response = request.next_chunk(http=http)  # type: ignore[arg-type]
            except HttpError as exc:
                if exc.status_code in (404, 410) and request.resumable_uri:
                    log.warning("  the YouTube upload session has expired; starting a new one")
                    _restart(request)
                    on_session(None)
                elif not retryable(exc):
                    raise _explain(exc) from exc
                error: Exception = exc
            except TRANSPORT_ERRORS as exc:
                error = exc
            else:
                failures = 0
                if status:
                    log.info("  uploaded %d%%", int(status.progress() * 100))
                continue
            failures += 1
            if failures >= max_tries:
                raise ProviderError(
                    f"The YouTube upload failed {failures} times in a row ({describe(error)}); "
                    "rerun later and it resumes where it stopped."
                ) from error
            delay = backoff(failures, jitter)
            # A rate-limit 403 on a chunk is retried like a 5xx: the library marks the request in error, so the
            # next try first asks the session how much it holds; the session, and so the video, stays the same one.
            log.warning(
                "  upload interrupted (%s); try %d of %d in %.1f s", describe(error), failures + 1, max_tries, delay
            )
            sleep(delay)
        return response
    finally:
        media.stream().close()


def processing_status(
    youtube: YouTubeResource,
    video_id: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> str | None:
    """YouTube's processing status of an uploaded video (`processing`, `succeeded`, ...), if it is known yet."""
    answer = execute(
        youtube.videos().list(part="status,processingDetails", id=video_id), "status check", sleep=sleep, jitter=jitter
    )
    found = answer.get("items") or []
    if not found:
        return None
    return found[0].get("processingDetails", {}).get("processingStatus") or found[0].get("status", {}).get(
        "uploadStatus"
    )


class _SessionWatch:
    """The request's transport, reporting the session YouTube opens before any chunk is sent on it."""

    def __init__(self, request: HttpRequest, on_session: Callable[[str | None], None]) -> None:
        self._http, self._start_uri, self._on_session = request.http, request.uri, on_session

    def request(self, uri: str, method: str = "GET", *args: Any, **kwargs: Any) -> tuple[Any, bytes]:
        response, content = self._http.request(uri, method, *args, **kwargs)
        if uri == self._start_uri and method == "POST" and response.status == 200 and "location" in response:
            self._on_session(response["location"])
        return response, content


def _resume(request: HttpRequest, session_uri: str) -> None:
    # The library's own recovery path: in an error state, next_chunk first asks the session how much it holds
    # (an empty PUT with `Content-Range: bytes */size`) and then sends the rest; or it gets the finished video.
    request.resumable_uri = session_uri
    request._in_error_state = True  # type: ignore[attr-defined]  # a private attribute the stubs leave out


def _restart(request: HttpRequest) -> None:
    request.resumable_uri = None
    request.resumable_progress = 0
    request._in_error_state = False  # type: ignore[attr-defined]  # a private attribute the stubs leave out


def _explain(exc: HttpError) -> ShortsError:
    """One sentence for a refused upload; never the request's URI, which can carry the session's id."""
    found = reasons(exc)
    code = f"{exc.status_code} {found[0] if found else ''}".strip()
    if "quotaExceeded" in found:
        return ProviderError(
            "YouTube's daily upload quota for this Google Cloud project is used up; the Short is "
            "kept, so rerun the same command after midnight Pacific time to upload it."
        )
    if "uploadLimitExceeded" in found:
        return ProviderError(
            "This YouTube channel has reached its upload limit for now; the Short is kept, so "
            "rerun the same command in a few hours to upload it."
        )
    if exc.status_code == 401:
        return ConfigError(
            "YouTube refused the channel's token (401); run `shorts auth youtube --client-secrets "
            "FILE --channel NAME` again."
        )
    detail = f": {exc.reason[:200].rstrip('.')}" if exc.reason else ""
    return ProviderError(
        f"YouTube refused the upload ({code}){detail}; nothing was published, fix the cause and rerun."
    )

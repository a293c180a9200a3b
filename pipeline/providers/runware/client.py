"""Runware over plain REST: one POST of a task array per call, Runware's errors made ours, and its video models.

The REST API is one URL: every call is `POST <base URL>` with a JSON array of task objects, answered with
`{"data": [...]}` or `{"errors": [...]}`. An async task is acknowledged at once and then polled with a
`getResponse` task naming the same client-made `taskUUID`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from pipeline.errors import ConfigError, ProviderError, ShortsError
from pipeline.models import Scene
from pipeline.providers.inputs import covering_duration, required_key
from pipeline.providers.paid.download import retry_after, shared_http_client, timeouts
from pipeline.providers.paid.send import Unmade
from pipeline.settings import RunwareSettings, Settings

PROVIDER = "runware"
# Runware's codes for a task it does not have (any more): failed, cancelled, expired, or never made.
GONE_CODES = ("taskFailedOrNotFound", "taskCancelled")
_NOT_FOUND = re.compile(r"not.?found|unknown.?task|does not exist|no such task", re.IGNORECASE)


@dataclass(frozen=True)
class VideoModel:
    """What we rely on about one image-to-video model (from its page at runware.ai/docs/models)."""

    title: str
    durations: tuple[int, ...]
    size: tuple[int, int]  # its 9:16 output; a first frame of that shape sets it
    send_size: bool  # its schema requires width and height even with a first frame (most reject them)
    usd_per_second: float  # for estimates; each task reports what it really cost
    prompt_limit: int


# Keep in step with Settings.runware_video_model; each id is in runware-sdk 1.8.0's model list (2026-10-12), which
# no longer has klingai:5@3 (KlingAI 2.1 Master).
VIDEO_MODELS: dict[str, VideoModel] = {
    # Runware lists no price we rely on; the bound is Kling's own list price for 2.5 Turbo Pro ($0.35 per 5 s).
    "klingai:6@1": VideoModel("Kling 2.5 Turbo Pro", (5, 10), (1080, 1920), False, 0.07, 2500),
    # Runway's own price is 12 credits ($0.12) a second; Runware lists none we rely on, so the bound is higher.
    "runway:1@2": VideoModel("Runway Gen-4.5", (5, 8, 10), (720, 1280), True, 0.15, 1000),
}


def video_model(model: str) -> VideoModel:
    """What we rely on about `model`; a ValueError for one this pipeline does not know."""
    if model not in VIDEO_MODELS:
        raise ValueError(f"{model} is not a Runware image-to-video model this pipeline knows")
    return VIDEO_MODELS[model]


def clip_duration(model: str, seconds: float) -> int:
    """The shortest duration the model allows that covers `seconds`."""
    return covering_duration(VIDEO_MODELS[model].durations, seconds)


def clip_usd(model: str, seconds: float) -> float:
    """At most what one clip of a scene this long costs, in dollars."""
    return round(VIDEO_MODELS[model].usd_per_second * clip_duration(model, seconds), 4)


def estimate_clip_usd(scene: Scene, settings: Settings) -> float:
    """At most what this scene's clip costs with the configured model, in dollars."""
    return clip_usd(settings.runware_video_model, scene.seconds)


class RunwareAPIError(Exception):
    """A Runware answer that is not data: an HTTP error, an `errors` list, or no answer at all."""

    def __init__(
        self,
        status: int | None,
        errors: list[dict[str, Any]],
        *,
        transport: str | None = None,
        sent: bool = True,
        wait: float | None = None,
    ) -> None:
        self.status = status
        self.errors = errors
        self.transport = transport  # the httpx exception's name when there was no answer
        self.sent = sent  # False when the connection never opened, so Runware cannot have seen the request
        self.wait = wait  # Retry-After, in seconds
        super().__init__(self.what)

    @property
    def first(self) -> dict[str, Any]:
        return self.errors[0] if self.errors else {}

    @property
    def what(self) -> str:
        return f"HTTP {self.status}" if self.status else (self.transport or "no answer")

    @property
    def ambiguous(self) -> bool:
        """Whether Runware may have taken the request although we got no answer we can trust."""
        if self.status is None:
            return self.sent
        return self.status >= 500 or self.status == 408

    @property
    def gone(self) -> bool:
        """Whether Runware says it has no task by the UUID asked about: it failed, was cancelled or expired, or was
        never made (only the caller knows which, from whether Runware ever confirmed it)."""
        return any(_is_gone(e) for e in self.errors)

    def reason(self) -> str:
        """Runware's own words: the parameter and the message, when it gives them."""
        error = self.first
        text = str(error.get("message") or error.get("code") or self.what)
        if error.get("parameter"):
            text = f"{error['parameter']}: {text}"
        return text[:300].rstrip(".")


class RunwareClient:
    """Sends one task at a time to Runware's REST endpoint and returns the `data` items of the answer."""

    def __init__(
        self, api_key: str, base_url: str, http_client: httpx.Client | None = None, timeout: float = 60.0
    ) -> None:
        self.base_url = base_url
        self.host = httpx.URL(base_url).host or base_url
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self.http = http_client or shared_http_client()
        self.timeout = timeouts(timeout)

    def run(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        """POST `[task]`; the answer's data items, or RunwareAPIError."""
        try:
            response = self.http.post(self.base_url, json=[task], headers=self._headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
            raise RunwareAPIError(None, [], transport=type(exc).__name__, sent=not never_sent) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        if response.status_code >= 400 or errors or not isinstance(body.get("data"), list):
            # A 200 with errors is a refusal; a 200 with neither data nor errors is no answer we can trust.
            status = response.status_code if response.status_code >= 400 else 400 if errors else 502
            raise RunwareAPIError(status, errors, wait=retry_after(response))
        return [item for item in body["data"] if isinstance(item, dict)]


def nothing_made(exc: Exception) -> Unmade | None:
    """Whether a submission's failure proves Runware's queue took nothing: a 429, with the pause it asks for."""
    if isinstance(exc, RunwareAPIError) and exc.status == 429:
        return Unmade(exc.wait)
    return None


def _is_gone(error: dict[str, Any]) -> bool:
    code = str(error.get("code") or "")
    if code in GONE_CODES or code.startswith("task") and code.endswith(("NotFound", "Expired")):
        return True
    return not code and bool(_NOT_FOUND.search(str(error.get("message") or "")))


def client_options(settings: RunwareSettings, flag: str) -> dict[str, Any]:
    """The key and URL every Runware provider takes, read from settings."""
    key = required_key(settings, "runware_api_key", flag, "an API key from my.runware.ai")
    return dict(api_key=key, base_url=settings.runware_base_url)


def runware_error(exc: RunwareAPIError, doing: str, host: str = "Runware") -> ShortsError:
    """Runware's refusal as ours: one sentence naming what to do, never the key."""
    status = exc.status
    if status == 401:
        return ConfigError(
            f"Runware refused the API key while {doing} (401); check RUNWARE_API_KEY and that the key "
            f"was made for {host}."
        )
    if status == 402:
        return ProviderError(
            f"Runware refused {doing} because the account is out of credit (402: {exc.reason()}); "
            "add funds at my.runware.ai and rerun, or use --video offline."
        )
    if status == 403:
        return ConfigError(
            f"Runware denied access while {doing} (403: {exc.reason()}); check the key's permissions and model access."
        )
    if status == 404 and not exc.errors:
        return ConfigError(
            f"Runware at {host} has no such endpoint (404 while {doing}); check that RUNWARE_BASE_URL "
            "is the URL tasks are POSTed to (https://api.runware.ai/v1)."
        )
    if status == 429:
        when = f"after {exc.wait:g} seconds" if exc.wait else "in a few minutes"
        return ProviderError(
            f"Runware's queue was full while {doing} (429); retry {when} or use --video offline.", retry_safe=True
        )
    if status is None and not exc.sent:
        return ProviderError(
            f"Could not reach Runware at {host} while {doing} ({exc.transport}); check the network "
            "and RUNWARE_BASE_URL, then rerun (nothing was lost).",
            retry_safe=True,
        )
    if status is not None and 400 <= status < 500:
        return ProviderError(f"Runware rejected {doing}: {exc.reason()}.")
    return ProviderError(
        f"Runware failed while {doing} ({exc.what}); rerun the same command to resume without a new charge.",
        retry_safe=True,
    )

"""What the Runway providers share: models and prices, the client, prompt and image inputs, and Runway's errors
made ours.

The `runwayml` SDK (~0.2 s to import) is imported inside the functions that call it: every `shorts` process imports
this module (for the registry's prices and `shorts doctor`), and most never call Runway.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel

from pipeline.errors import ConfigError, ProviderError, ShortsError
from pipeline.models import Scene
from pipeline.providers.base import Finding, keyed_findings
from pipeline.providers.inputs import covering_duration, cut_text, data_uri, required_key
from pipeline.providers.paid.download import retry_after, shared_http_client, timeouts
from pipeline.providers.paid.send import Unmade
from pipeline.settings import RunwaySettings, Settings
from pipeline.speech_text import spoken_text

if TYPE_CHECKING:
    import runwayml

PROVIDER = "runway"
RATIO = "720:1280"
RATIO_SIZE = (720, 1280)
PROMPT_LIMIT = 1000  # UTF-16 code units, as Runway counts them
DATA_URI_LIMIT = 5 * 1024 * 1024

# The image-to-video models that accept 720:1280, with the durations each allows.
DURATIONS: dict[str, tuple[int, ...]] = {
    "gen4_turbo": tuple(range(2, 11)),
    "gen4.5": tuple(range(2, 11)),
    "veo3.1": (4, 6, 8),
    "veo3.1_fast": (4, 6, 8),
}
# The models that make sound unless told not to; the render drops clip audio, and without it they cost less.
SILENT_ON_REQUEST = ("veo3.1", "veo3.1_fast")
# Upper bounds for estimates (veo's without audio, as it is asked for); tasks report what they cost.
CREDITS_PER_SECOND: dict[str, float] = {"gen4_turbo": 5, "gen4.5": 12, "veo3.1": 20, "veo3.1_fast": 10}
CREDITS_PER_IMAGE: dict[str, float] = {"gen4_image": 5}  # at 720p; 1080p costs 8
SPEECH_CHARACTERS = 50  # speech is priced per this many characters (the price is a setting)


def clip_duration(model: str, seconds: float) -> int:
    """The shortest duration the model allows that covers `seconds`."""
    return covering_duration(DURATIONS[model], seconds)


def clip_credits(model: str, seconds: float) -> float:
    """At most what one clip of a scene this long costs."""
    return CREDITS_PER_SECOND[model] * clip_duration(model, seconds)


def estimate_clip_credits(scene: Scene, settings: Settings) -> float:
    """At most what this scene's clip costs with the configured model."""
    return clip_credits(settings.runway_video_model, scene.seconds)


def estimate_image_credits(scene: Scene, settings: Settings) -> float:
    """At most what this scene's first frame costs."""
    return CREDITS_PER_IMAGE[settings.runway_image_model]


def voice_credits(text: str, credits_per_50_characters: float) -> float:
    """At most what speaking `text` costs: every 50 characters begun, at the configured price."""
    return math.ceil(max(1, len(text)) / SPEECH_CHARACTERS) * credits_per_50_characters


def estimate_voice_credits(scene: Scene, settings: Settings) -> float:
    """At most what this scene's narration costs with --voice runway."""
    # The voice is given the text as said ("$5" -> "five dollars"), which can be longer than the text as written.
    spoken, _ = spoken_text(scene.narration, "en")
    return voice_credits(max(scene.narration, spoken, key=len), settings.runway_voice_credits_per_50_characters)


def client_options(settings: RunwaySettings, flag: str) -> dict[str, Any]:
    """The key and base URL every Runway provider takes, read from settings."""
    secret = required_key(settings, "runwayml_api_secret", flag, "a key beginning key_ from dev.runwayml.com")
    return dict(api_key=secret, base_url=settings.runwayml_base_url)


def make_client(api_key: str, base_url: str | None, http_client: httpx.Client | None = None) -> runwayml.RunwayML:
    """A Runway client; its own retries are kept for reads, and turned off for creates (see `_create`)."""
    import runwayml

    return runwayml.RunwayML(
        api_key=api_key,
        base_url=base_url or None,
        http_client=http_client or shared_http_client(),
        timeout=timeouts(60.0),
        max_retries=2,
    )


def cut_prompt(text: str, limit: int = PROMPT_LIMIT) -> str:
    """`text` shortened to Runway's prompt limit, on a word boundary when there is one."""
    return cut_text(text, limit)


def image_uri(client: runwayml.RunwayML, path: Path, limit: int = DATA_URI_LIMIT) -> str:
    """A data URI of the image when it fits Runway's limit, else a runway:// URI of an ephemeral upload."""
    import runwayml

    uri = data_uri(path)
    if len(uri) <= limit:
        return uri
    try:
        return client.uploads.create_ephemeral(file=path).uri
    except httpx.HTTPError as exc:  # the SDK lets the storage POST's own errors through as they are
        problem = type(exc).__name__
    except runwayml.APIStatusError as exc:
        if not exc.message.startswith("Upload failed"):  # Runway's API itself, not its storage
            raise
        problem = f"HTTP {exc.status_code}"
    raise ProviderError(
        f"Uploading {path.name} to Runway's storage failed ({problem}); rerun the same command (nothing was paid for).",
        retry_safe=True,
    )


def ambiguous(exc: Exception) -> bool:
    """Whether Runway may have acted on the request although we got no answer we can trust."""
    import runwayml

    if isinstance(exc, runwayml.APIStatusError):
        return exc.status_code >= 500 or exc.status_code in (408, 409)
    if isinstance(exc, runwayml.APIConnectionError):
        return not isinstance(exc.__cause__, (httpx.ConnectError, httpx.ConnectTimeout))
    return isinstance(exc, runwayml.APIResponseValidationError)


def nothing_made(exc: Exception) -> Unmade | None:
    """Whether a create's failure proves Runway made no task: a 429 that says when to ask again (without one, it is
    the model's daily limit), or a connection that never opened."""
    import runwayml

    if isinstance(exc, runwayml.RateLimitError):
        wait = retry_after(exc.response)
        return None if wait is None else Unmade(wait)
    if isinstance(exc, runwayml.APIConnectionError) and not ambiguous(exc):
        return Unmade()
    return None


def _reason(exc: runwayml.APIStatusError) -> str:
    """Runway's own words for a rejected request: the field and why, when it says."""
    body = exc.body if isinstance(exc.body, dict) else {}
    listed = body.get("issues")
    issues = listed if isinstance(listed, list) else []
    parts = [
        f"{'.'.join(map(str, i.get('path', []))) or 'request'}: {i.get('message', '?')}"
        for i in issues
        if isinstance(i, dict)
    ]
    text = "; ".join(parts) or str(body.get("error") or exc.message)
    return text[:300].rstrip(".")


def runway_error(exc: runwayml.APIError, doing: str, *, created: bool | None) -> ShortsError:
    """Runway's exception as ours: one sentence, no secret; `created` says whether a task may already exist."""
    import runwayml

    host = exc.request.url.host if getattr(exc, "request", None) else "Runway"
    if isinstance(exc, runwayml.AuthenticationError):
        return ConfigError(
            f"Runway refused the API key while {doing} (401); check RUNWAYML_API_SECRET (keys begin "
            f"key_) and that the key was made for {host}."
        )
    if isinstance(exc, runwayml.RateLimitError) and created is None:
        wait = retry_after(exc.response)
        when = f"after {math.ceil(wait / 60)} minutes" if wait else "in a few hours"
        return ProviderError(
            f"Runway refused new tasks while {doing} (429: the model's daily generation limit, "
            f"counted over 24 hours, is reached); retry {when} or use the offline provider.",
            retry_safe=True,
        )
    if created is None and ambiguous(exc):
        what = f"HTTP {exc.status_code}" if isinstance(exc, runwayml.APIStatusError) else type(exc).__name__
        return ProviderError(
            f"Runway did not confirm {doing} ({what}), so a task may have been created and "
            "billed; check the tasks on dev.runwayml.com before rerunning.",
            retry_safe=False,
        )
    if isinstance(exc, runwayml.APIConnectionError):
        return ProviderError(
            f"Could not reach Runway at {host} while {doing} ({type(exc).__name__}); check the "
            "network and RUNWAYML_BASE_URL, then rerun (nothing was lost).",
            retry_safe=True,
        )
    if isinstance(exc, runwayml.APIStatusError) and exc.status_code in (400, 422):
        return ProviderError(f"Runway rejected the request while {doing}: {_reason(exc)}.")
    if isinstance(exc, runwayml.NotFoundError):
        return ConfigError(
            f"Runway at {host} has no such endpoint (404 while {doing}); check that RUNWAYML_BASE_URL "
            "is the server's root, without /v1."
        )
    if isinstance(exc, runwayml.PermissionDeniedError):
        return ConfigError(
            f"Runway denied access while {doing} (403: {_reason(exc)}); check the key's "
            "organization, credits and model access."
        )
    status = f"HTTP {exc.status_code}" if isinstance(exc, runwayml.APIStatusError) else type(exc).__name__
    return ProviderError(
        f"Runway failed while {doing} ({status}); rerun the same command to resume without a new charge.",
        retry_safe=True,
    )


def tier_concurrency(client: runwayml.RunwayML, model: str, fallback: int = 2) -> int:
    """How many tasks of `model` the key's tier runs at once (a free read), else `fallback`."""
    import runwayml

    try:
        limits = client.organization.retrieve().tier.models.get(model)
    except runwayml.APIError:
        return fallback
    return (limits.max_concurrent_generations if limits else None) or fallback


class RunwayAccount(BaseModel):
    """What `shorts doctor` shows: the balance and, per model, the tier's limits and today's use."""

    credit_balance: int
    max_monthly_credit_spend: int
    max_concurrent: dict[str, int | None]
    max_daily: dict[str, int | None]
    used_today: dict[str, int]


def describe_runway(settings: Settings) -> list[Finding]:
    """Doctor's lines: whether the key is accepted, the balance, and each model's limits and use today."""

    def lines() -> list[str]:
        account = runway_account(settings)
        limits = sorted(account.max_concurrent.items())
        return [
            f"Runway: key accepted; {account.credit_balance} credits, monthly spend cap "
            f"{account.max_monthly_credit_spend}",
            *(
                f"  {model}: {limit} at once, {account.used_today.get(model, 0)} of {account.max_daily.get(model)} today"
                for model, limit in limits
            ),
        ]

    return keyed_findings(settings, "runwayml_api_secret", "Runway", lines)


def runway_account(settings: Settings, http_client: httpx.Client | None = None) -> RunwayAccount:
    """The key's organization, read with a free call: it checks the key without spending a credit."""
    import runwayml

    client = make_client(**client_options(settings, "Checking Runway"), http_client=http_client)
    try:
        org = client.organization.retrieve()
    except runwayml.APIError as exc:
        raise runway_error(exc, "reading the account", created=False) from exc
    return RunwayAccount(
        credit_balance=org.credit_balance,
        max_monthly_credit_spend=org.tier.max_monthly_credit_spend,
        max_concurrent={m: v.max_concurrent_generations for m, v in org.tier.models.items()},
        max_daily={m: v.max_daily_generations for m, v in org.tier.models.items()},
        used_today={m: v.daily_generations for m, v in org.usage.models.items()},
    )

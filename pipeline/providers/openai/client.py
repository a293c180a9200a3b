"""The OpenAI client the openai providers share, and the one place its exceptions become ours."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import httpx
import openai

from pipeline.errors import ConfigError, ProviderError, ShortsError
from pipeline.providers.paid.download import CONNECT_TIMEOUT, retry_after
from pipeline.providers.paid.send import PAID_TRIES, Unmade, send_paid
from pipeline.settings import OpenAISettings, Settings, default, key_variable

try:  # openai 3.x sends through httpx2, whose errors are no subclasses of httpx's; openai 1.x has no httpx2
    import httpx2

    _HTTPX2_NEVER_CONNECTED: tuple[type[Exception], ...] = (httpx2.ConnectError, httpx2.ConnectTimeout)
except ImportError:
    _HTTPX2_NEVER_CONNECTED = ()
# The transport errors raised before a byte of the request was sent: refused, unresolved, no connection in time. An
# injected httpx.Client (and openai 1.x) raises httpx's; openai 3.x's own transport raises httpx2's.
NEVER_CONNECTED: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, *_HTTPX2_NEVER_CONNECTED)

# Servers such as Ollama or vLLM ignore the key, but the SDK refuses to start without one.
NO_KEY_PLACEHOLDER = "no-key-needed"
_KEYLIKE = re.compile(r"\b(sk|rk|sess)-[A-Za-z0-9_\-*]{6,}")
T = TypeVar("T")


def make_client(
    api_key: str | None,
    base_url: str | None = None,
    http_client: httpx.Client | None = None,
    timeout: float = 120.0,
    max_retries: int = 3,
    *,
    paid: bool = False,
) -> openai.OpenAI:
    """An OpenAI client that waits `timeout` seconds for an answer but at most CONNECT_TIMEOUT to connect.

    The SDK (openai 3.x) retries with backoff on 408, 409, 429, 5xx, `x-should-retry: true`, timeouts and connection
    errors, POSTs included, unless Retry-After asks for over 120 s; never on other 4xx. A `paid` client (images,
    speech, transcripts) gets no SDK retries at all: they resend a POST after a timeout or a 5xx with no idempotency
    key, so one slow image could be made and billed several times. Send its requests with `paid_call`, which resends
    only what provably made nothing.
    """
    # openai.Timeout is httpx2's (3.x) or httpx's (1.x) Timeout, whichever the SDK expects; a plain float would also
    # replace the SDK's short connect timeout, so an unreachable host would hang for all of `timeout`.
    limits = openai.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout))
    return openai.OpenAI(
        api_key=api_key or NO_KEY_PLACEHOLDER,
        base_url=base_url or None,
        # openai 3.x types it as httpx2's Client, yet takes an httpx.Client too (it checks for either)
        http_client=http_client,  # type: ignore[arg-type]
        timeout=limits,
        max_retries=0 if paid else max_retries,
    )


def never_connected(exc: openai.APIConnectionError) -> bool:
    """Whether the request never reached the server (refused, unresolved, or no connection in time).

    The SDK raises APIConnectionError (APITimeoutError for a timeout) `from` the transport's exception, unwrapped.
    """
    return isinstance(exc.__cause__, NEVER_CONNECTED)


def paid_call(request: Callable[[], T], tries: int = PAID_TRIES, sleep: Callable[[float], None] = time.sleep) -> T:
    """Send a billed OpenAI request through `send_paid`: sent again only after a 429 that is a rate limit (not an
    empty quota) or a connection that never opened. A timeout or a 5xx may have made the thing."""
    return send_paid(request, nothing_made, vendor="OpenAI", tries=tries, sleep=sleep)


def nothing_made(exc: Exception) -> Unmade | None:
    """Whether an OpenAI error proves the request made nothing, with the pause it asks for."""
    if isinstance(exc, openai.RateLimitError) and getattr(exc, "code", None) != "insufficient_quota":
        return Unmade(retry_after(exc.response))
    if isinstance(exc, openai.APIConnectionError) and never_connected(exc):
        return Unmade()
    return None


@dataclass(frozen=True)
class Connection:
    """Where an openai provider's server is, how long to wait for an answer and how often the SDK sends a request
    again (a script, a model list): what every openai provider takes first. `client_options` reads it from settings."""

    api_key: str | None = None
    base_url: str | None = None
    http_client: httpx.Client | None = None
    timeout: float = default("openai_timeout")
    max_retries: int = default("openai_max_retries")

    def client(self, *, paid: bool = False) -> openai.OpenAI:
        """The SDK client, by `make_client`'s rules: a `paid` one never retries on its own."""
        return make_client(self.api_key, self.base_url, self.http_client, self.timeout, self.max_retries, paid=paid)


@dataclass(frozen=True)
class MediaConnection(Connection):
    """A Connection for paid media (an image, speech, a transcript): an answer takes minutes, and `max_retries` counts
    the sends `paid_call` adds after an answer that proves nothing was made, never the SDK's. `paid_options` reads it
    from settings."""

    timeout: float = default("openai_media_timeout")
    max_retries: int = PAID_TRIES - 1

    @property
    def tries(self) -> int:
        """Sends of one billed request: the first and `max_retries` more."""
        return self.max_retries + 1


def client_options(settings: OpenAISettings, flag: str, http_client: httpx.Client | None = None) -> Connection:
    """The Connection every openai provider takes, read from settings.

    `flag` names how the user picked the provider (e.g. "--image openai"), for the error message.
    """
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not key and not settings.openai_base_url:
        raise ConfigError(
            f"{flag} needs {key_variable('openai_api_key')} (or OPENAI_BASE_URL for a compatible server); "
            "set it, or pick the offline provider."
        )
    return Connection(key, settings.openai_base_url, http_client, settings.openai_timeout, settings.openai_max_retries)


def paid_options(settings: OpenAISettings, flag: str, http_client: httpx.Client | None = None) -> MediaConnection:
    """`client_options` for a paid request (an image, speech): its timeout is minutes, and it has no blind retries."""
    free = client_options(settings, flag, http_client)
    return MediaConnection(free.api_key, free.base_url, http_client, timeout=settings.openai_media_timeout)


def vendor_error(
    exc: openai.OpenAIError,
    doing: str,
    *,
    model: str | None = None,
    paid: bool = False,
    server: str = "OpenAI",
    address: str = "OPENAI_BASE_URL",
) -> ShortsError:
    """Translate an SDK error into ours: one sentence, no secret, `retry_safe` only where a retry can help (for a
    `paid` request, only where nothing can have been made). `server` and `address` name the compatible server the
    SDK was pointed at (an Ollama, say) and the setting that says where it is."""
    on = f" ({model})" if model else ""
    if isinstance(exc, openai.AuthenticationError):
        # OpenAI's 401 text echoes part of the key, so it is never repeated.
        return ConfigError(f"The {server} server rejected the API key while {doing}{on}; check OPENAI_API_KEY.")
    maybe_made = (
        isinstance(exc, openai.APIConnectionError)
        and not never_connected(exc)
        or isinstance(exc, openai.APIStatusError)
        and exc.status_code >= 500
    )
    if paid and maybe_made:
        what = f"HTTP {exc.status_code}" if isinstance(exc, openai.APIStatusError) else type(exc).__name__
        return ProviderError(
            f"The {server} server gave no usable answer while {doing}{on} ({what}), so it may have "
            "been made and billed; rerun when a second charge is acceptable, or use another provider.",
            maybe_billed=True,
        )
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return ProviderError(
            f"Could not reach the {server} server while {doing}{on} ({type(exc).__name__}); "
            f"check {address} and the network, then rerun.",
            retry_safe=True,
        )
    if not isinstance(exc, openai.APIStatusError):
        return ProviderError(f"The {server} server gave an unexpected answer while {doing}{on}: {scrub(str(exc))}.")
    status, detail = exc.status_code, scrub(_message(exc))
    if status == 429 and getattr(exc, "code", None) == "insufficient_quota":
        return ConfigError(f"The OpenAI account is out of quota ({doing}{on}); add credit or use another provider.")
    if status == 429 or status >= 500:
        return ProviderError(
            f"The {server} server is busy or failing ({status}) while {doing}{on}: {detail}; rerun in a minute.",
            retry_safe=True,
        )
    if status in (403, 404):
        return ConfigError(
            f"The {server} server answered {status} while {doing}{on}: {detail}; check the model setting and {address}."
        )
    return ProviderError(f"The {server} server rejected the request ({status}) while {doing}{on}: {detail}.")


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        body = body.get("error", body)
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    return exc.message


def scrub(text: str, limit: int = 240) -> str:
    """Server text made fit for an error message: one line, key-like strings redacted, cut short."""
    text = _KEYLIKE.sub("[redacted]", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The settings that name an OpenAI model, for `shorts doctor`'s shutdown check.
MODEL_SETTINGS = (
    "openai_script_model",
    "openai_image_model",
    "openai_voice_model",
    "openai_transcribe_model",
    "openai_moderation_model",
)


def model_shutdowns(settings: Settings, http_client: httpx.Client | None = None) -> dict[str, str | None]:
    """Each configured OpenAI model's setting -> its announced shutdown date (None: none announced, or "" when the
    server does not list it), from the free GET /v1/models."""
    client = client_options(settings, "Checking OpenAI", http_client).client()
    try:
        listed = {model.id: getattr(model, "shutdown_date", None) for model in client.models.list()}
    except openai.OpenAIError as exc:
        raise vendor_error(exc, "listing the models") from exc
    named = {name: getattr(settings, name) for name in MODEL_SETTINGS if getattr(settings, name, None)}
    return {name: listed.get(model, "") for name, model in named.items()}


def check_model(client: openai.OpenAI, model: str, setting: str, instead: str) -> None:
    """Refuse, before anything is paid for, a model the server no longer serves: the free GET /v1/models/{id} answers
    404, or gives a shutdown date that has come. `instead` names what to use, for the message."""
    try:
        found = client.models.retrieve(model)
    except openai.NotFoundError as exc:
        if _listed(client, model) is not False:  # a compatible server without the route: nothing to learn here
            return
        raise ConfigError(
            f"OpenAI no longer serves {model} ({setting}); set {setting} to a model it serves, or use {instead}."
        ) from exc
    except openai.OpenAIError as exc:
        raise vendor_error(exc, f"checking the model {model}") from exc
    ends = getattr(found, "shutdown_date", None)
    if isinstance(ends, str) and ends[:10] <= date.today().isoformat():
        raise ConfigError(
            f"OpenAI shut {model} down on {ends[:10]} ({setting}); set {setting} to a model it serves, "
            f"or use {instead}."
        )


def _listed(client: openai.OpenAI, model: str) -> bool | None:
    """Whether GET /v1/models lists `model`; None when the server has no such list."""
    try:
        return any(listed.id == model for listed in client.models.list())
    except openai.OpenAIError:
        return None

"""The OpenAI client the openai providers share, and the one place its exceptions become ours."""

from __future__ import annotations

import re
from typing import Any

import httpx
import openai

from pipeline.errors import ConfigError, ProviderError, ShortsError
from pipeline.settings import Settings

# Servers such as Ollama or vLLM ignore the key, but the SDK refuses to start without one.
NO_KEY_PLACEHOLDER = "no-key-needed"
_KEYLIKE = re.compile(r"\b(sk|rk|sess)-[A-Za-z0-9_\-*]{6,}")


def make_client(
    api_key: str | None,
    base_url: str | None = None,
    http_client: httpx.Client | None = None,
    timeout: float = 120.0,
    max_retries: int = 3,
) -> openai.OpenAI:
    """An OpenAI client; the SDK retries 429, 5xx and timeouts with backoff, never other 4xx."""
    return openai.OpenAI(api_key=api_key or NO_KEY_PLACEHOLDER, base_url=base_url or None, http_client=http_client,
                         timeout=timeout, max_retries=max_retries)


def client_options(settings: Settings, flag: str) -> dict[str, Any]:
    """Constructor arguments every openai provider takes, read from settings.

    `flag` names how the user picked the provider (e.g. "--image openai"), for the error message.
    """
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not key and not settings.openai_base_url:
        raise ConfigError(f"{flag} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server); "
                          "set it, or pick the offline provider.")
    return dict(api_key=key, base_url=settings.openai_base_url, timeout=settings.openai_timeout,
                max_retries=settings.openai_max_retries)


def vendor_error(exc: openai.OpenAIError, doing: str, *, model: str | None = None) -> ShortsError:
    """Translate an SDK error into ours: one sentence, no secret, `retry_safe` only where a retry can help."""
    on = f" ({model})" if model else ""
    if isinstance(exc, openai.AuthenticationError):
        # OpenAI's 401 text echoes part of the key, so it is never repeated.
        return ConfigError(f"The OpenAI server rejected the API key while {doing}{on}; check OPENAI_API_KEY.")
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return ProviderError(f"Could not reach the OpenAI server while {doing}{on} ({type(exc).__name__}); "
                             "check OPENAI_BASE_URL and the network, then rerun.", retry_safe=True)
    if not isinstance(exc, openai.APIStatusError):
        return ProviderError(f"The OpenAI server gave an unexpected answer while {doing}{on}: {scrub(str(exc))}.")
    status, detail = exc.status_code, scrub(_message(exc))
    if status == 429 and getattr(exc, "code", None) == "insufficient_quota":
        return ConfigError(f"The OpenAI account is out of quota ({doing}{on}); add credit or use another provider.")
    if status == 429 or status >= 500:
        return ProviderError(f"The OpenAI server is busy or failing ({status}) while {doing}{on}: {detail}; "
                             "rerun in a minute.", retry_safe=True)
    if status in (403, 404):
        return ConfigError(f"The OpenAI server answered {status} while {doing}{on}: {detail}; check the model "
                           "setting and OPENAI_BASE_URL.")
    return ProviderError(f"The OpenAI server rejected the request ({status}) while {doing}{on}: {detail}.")


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

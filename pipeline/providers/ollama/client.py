"""Finding a local Ollama: where OLLAMA_HOST points, whether a server answers there, and which chat model to use.

Only httpx here: `auto` probes on every keyless run, which must not pay for importing the openai SDK.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from pipeline.errors import ConfigError
from pipeline.providers.base import Finding
from pipeline.settings import OllamaSettings

DEFAULT_PORT = 11434
# /api/tags does not say what a model can do; these names and families are the embedding-only models Ollama serves.
EMBEDDING_WORDS = ("embed", "minilm", "bge-", "rerank", "paraphrase-multilingual")
EMBEDDING_FAMILIES = {"bert", "nomic-bert", "xlm-roberta", "jina-bert-v2"}
# One probe per run: choosing the providers, the CLI's early check and building the writer all ask within seconds.
REMEMBER_SECONDS = 30.0


@dataclass(frozen=True)
class OllamaServer:
    """An Ollama that answered: its root URL and its chat models, in Ollama's order (latest pulled first)."""

    url: str
    chat_models: tuple[str, ...]

    @property
    def openai_url(self) -> str:
        return f"{self.url}/v1"


def ollama_url(host: str | None) -> str:
    """Ollama's root URL from OLLAMA_HOST, read as Ollama reads it.

    "host", "host:port", ":port" and URLs all work; no scheme means http on port 11434, a scheme its own port, and
    an any-address (0.0.0.0, ::), which only makes sense for the server, means this machine.
    """
    text = (host or "").strip().rstrip("/")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest, port = "http", text, DEFAULT_PORT
    else:
        port = 443 if scheme.lower() == "https" else 80
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        port = parts.port or port
    except ValueError as exc:
        raise ConfigError(f"OLLAMA_HOST={host!r} is not a host, host:port or URL; fix or unset it.") from exc
    name = parts.hostname or "127.0.0.1"
    name = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(name, name)
    name = f"[{name}]" if ":" in name else name
    return f"{scheme.lower()}://{name}:{port}{parts.path.rstrip('/')}"


def is_chat_model(entry: dict) -> bool:
    """Whether a /api/tags entry can chat (embedding-only models cannot)."""
    name = str(entry.get("name") or entry.get("model") or "").lower()
    details = entry.get("details") or {}
    families = {str(f).lower() for f in [details.get("family"), *(details.get("families") or [])] if f}
    return bool(name) and not any(word in name for word in EMBEDDING_WORDS) and not families & EMBEDDING_FAMILIES


_seen: dict[str, tuple[float, OllamaServer | None]] = {}
_seen_lock = threading.Lock()


def find_ollama(settings: OllamaSettings) -> OllamaServer | None:
    """The Ollama answering at OLLAMA_HOST, or None when none answers within SHORTS_OLLAMA_PROBE_SECONDS."""
    url = ollama_url(settings.ollama_host)
    with _seen_lock:
        seen = _seen.get(url)
        if seen and time.monotonic() - seen[0] < REMEMBER_SECONDS:
            return seen[1]
        server = _probe(url, settings.ollama_probe_seconds)
        _seen[url] = (time.monotonic(), server)
        return server


def _probe(url: str, seconds: float) -> OllamaServer | None:
    try:
        # Over plain http no certificate is checked, and loading the CA bundle would cost a keyless run ~50 ms.
        response = httpx.get(f"{url}/api/tags", timeout=seconds, verify=not url.startswith("http://"))
        models = response.json().get("models") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):  # nothing listening, too slow, or not Ollama's JSON
        return None
    if not isinstance(models, list):
        return None
    names = [str(m.get("name") or m.get("model")) for m in models if isinstance(m, dict) and is_chat_model(m)]
    return OllamaServer(url=url, chat_models=tuple(names))


def pick_model(server: OllamaServer, wanted: str | None) -> str:
    """SHORTS_OLLAMA_MODEL when set (it must be installed), else the first chat model installed."""
    if wanted:
        installed = {*server.chat_models, *(m.removesuffix(":latest") for m in server.chat_models)}
        if wanted not in installed:
            raise ConfigError(
                f"SHORTS_OLLAMA_MODEL={wanted!r} is not installed in the Ollama at {server.url}; "
                f"run `ollama pull {wanted}`, or unset it to use the first installed model."
            )
        return wanted
    if not server.chat_models:
        raise ConfigError(
            f"The Ollama at {server.url} has no chat model installed; run `ollama pull llama3.2`, "
            "or use --script offline."
        )
    return server.chat_models[0]


def detect_ollama(settings: OllamaSettings) -> tuple[bool, str]:
    """Whether `auto` can write the script with a local Ollama, and the reason either way (for the provider line)."""
    server = find_ollama(settings)
    if server is None:
        return False, f"no Ollama answered at {ollama_url(settings.ollama_host)}"
    if not server.chat_models and not settings.ollama_model:
        return False, f"the Ollama at {server.url} has no chat model installed"
    return True, f"Ollama answered at {server.url}; model {pick_model(server, settings.ollama_model)}"


def ollama_writer_options(settings: OllamaSettings) -> tuple[str, str]:
    """How the OpenAI script writer reaches the Ollama at OLLAMA_HOST: its OpenAI-compatible URL and the model."""
    server = find_ollama(settings)
    if server is None:
        raise ConfigError(
            f"No Ollama answered at {ollama_url(settings.ollama_host)} to write the script; start it "
            "(`ollama serve`), set OLLAMA_HOST, or use --script offline."
        )
    return server.openai_url, pick_model(server, settings.ollama_model)


def describe_ollama(settings: OllamaSettings) -> list[Finding]:
    """Doctor's line: whether an Ollama answers, its chat models and the one scripts would use."""
    return [Finding(text=_ollama_line(settings))]


def _ollama_line(settings: OllamaSettings) -> str:
    try:
        server = find_ollama(settings)
        if server is None:
            return (
                f"Ollama: none answered at {ollama_url(settings.ollama_host)} (with Ollama running and a model "
                "pulled, keyless runs write their scripts with it)"
            )
        if not server.chat_models:
            return f"Ollama: answered at {server.url}, but has no chat model installed (run `ollama pull llama3.2`)"
        return (
            f"Ollama: answered at {server.url}; chat models {', '.join(server.chat_models)}; scripts would use "
            f"{pick_model(server, settings.ollama_model)}"
        )
    except ConfigError as exc:
        return f"Ollama: {exc}"

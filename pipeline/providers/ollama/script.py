"""Scripts from a local Ollama, through its OpenAI-compatible API and the OpenAI script writer."""

from __future__ import annotations

from typing import ClassVar

import httpx

from pipeline.models import ShortRequest
from pipeline.providers.base import Shared
from pipeline.providers.ollama.client import ollama_writer_options
from pipeline.providers.openai.client import Connection
from pipeline.providers.openai.script import OpenAIScriptWriter
from pipeline.settings import OllamaSettings, OpenAISettings


class OllamaWriterSettings(OllamaSettings, OpenAISettings):
    """Ollama's section, and OpenAI's: the writer is OpenAI's, with OpenAI's retries (at most one)."""


class OllamaScriptWriter(OpenAIScriptWriter):
    """The OpenAI script writer pointed at the Ollama at OLLAMA_HOST, with its model found there."""

    name: ClassVar[str] = "ollama"
    model_setting: ClassVar[str] = "SHORTS_OLLAMA_MODEL"
    server: ClassVar[str] = "Ollama"
    address: ClassVar[str] = "OLLAMA_HOST"
    section: ClassVar[type[OllamaWriterSettings]] = OllamaWriterSettings

    @classmethod
    def from_settings(
        cls, settings: OpenAISettings, shared: Shared | None = None, http_client: httpx.Client | None = None
    ) -> OllamaScriptWriter:
        if not isinstance(settings, OllamaWriterSettings):  # `configured` gives it the `section` named above
            raise TypeError(f"{cls.__name__} is configured from OllamaWriterSettings, not {type(settings).__name__}")
        # One retry (the SDK's, on 408, 409, 429, 5xx, timeouts and connection errors): a local server that timed
        # out twice will do so again.
        url, model = ollama_writer_options(settings)
        connection = Connection(
            base_url=url,
            http_client=http_client,
            timeout=settings.ollama_timeout,
            max_retries=min(1, settings.openai_max_retries),
        )
        return cls(connection, model=model)

    def check(self, request: ShortRequest) -> None:
        """Nothing more to ask: building the writer found its model in Ollama's own list."""

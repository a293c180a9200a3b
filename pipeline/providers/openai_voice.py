"""Narration from an OpenAI speech model, stored as 16-bit PCM WAV so the rest of the pipeline reads it with `wave`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import httpx
import openai

from pipeline.errors import ProviderError
from pipeline.models import Speech
from pipeline.providers.openai_client import client_options, make_client, vendor_error
from pipeline.providers.openai_words import OpenAIWordTimer
from pipeline.providers.speech_audio import write_pcm16_wav
from pipeline.settings import Settings

log = logging.getLogger("shorts")

NO_INSTRUCTIONS = ("tts-1", "tts-1-hd")  # these models reject delivery instructions


class OpenAINarrator:
    """Speaks each scene with `audio.speech`; `word_timer` (if any) times the words from a transcript."""

    name: ClassVar[str] = "openai"

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None,
                 http_client: httpx.Client | None = None, model: str = "gpt-4o-mini-tts", voice: str = "coral",
                 speed: float = 1.0, instructions: str = "", timeout: float = 120.0, max_retries: int = 3,
                 word_timer: OpenAIWordTimer | None = None) -> None:
        self.model = model
        self.voice = voice
        self.speed = speed
        self.instructions = instructions if model not in NO_INSTRUCTIONS else ""
        self.word_timer = word_timer
        self._client = make_client(api_key, base_url, http_client, timeout, max_retries)

    @classmethod
    def from_settings(cls, settings: Settings, http_client: httpx.Client | None = None) -> OpenAINarrator:
        options = client_options(settings, "--voice openai")
        timer = None
        if settings.openai_word_timings:
            timer = OpenAIWordTimer(**options, http_client=http_client, model=settings.openai_transcribe_model)
        return cls(**options, http_client=http_client, model=settings.openai_voice_model, voice=settings.openai_voice,
                   speed=settings.openai_voice_speed, instructions=settings.openai_voice_instructions,
                   word_timer=timer)

    @property
    def variant(self) -> dict[str, object]:
        """What else shapes the audio, for the asset store's key."""
        return {"voice": self.voice, "speed": self.speed, "instructions": self.instructions}

    def speak(self, text: str, voice: str | None, language: str, max_seconds: float, dest: Path) -> Speech:
        # The model reads the language from the text; the scene takes the audio's real length, even past max_seconds.
        options: dict[str, object] = {}
        if self.speed != 1.0:
            options["speed"] = self.speed
        if self.instructions:
            options["instructions"] = self.instructions
        try:
            response = self._client.audio.speech.create(model=self.model, voice=voice or self.voice, input=text,
                                                        response_format="wav", **options)
            audio = response.read()
        except openai.OpenAIError as exc:
            raise vendor_error(exc, "speaking the narration", model=self.model) from exc
        write_pcm16_wav(audio, dest, self.model)
        return Speech(voice=voice or self.voice)

"""Narration from an OpenAI speech model, stored as 16-bit PCM WAV so the rest of the pipeline reads it with `wave`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, TypedDict

import httpx
import openai

from pipeline.errors import ConfigError
from pipeline.models import ShortRequest, Speech
from pipeline.pause_timing import PauseTimer
from pipeline.providers.base import Line, Narrator, Shared, VoiceInfo, WordTimer
from pipeline.providers.openai import SPEECH_ENDS
from pipeline.providers.openai.client import (
    MediaConnection,
    check_model,
    paid_call,
    paid_options,
    vendor_error,
)
from pipeline.providers.openai.words import OpenAIWordTimer
from pipeline.providers.paid.send import billed
from pipeline.providers.speech_audio import write_pcm16_wav
from pipeline.settings import OpenAISettings, Settings, default

NO_INSTRUCTIONS = ("tts-1", "tts-1-hd")  # these models reject delivery instructions
SHUTDOWN = SPEECH_ENDS
# The built-in voices (openai 3.57 speech_create_params.py); every one speaks the language of the text.
VOICES = (
    "alloy",
    "ash",
    "ballad",
    "cedar",
    "coral",
    "echo",
    "fable",
    "marin",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
)


class SpeechOptions(TypedDict, total=False):
    """What a speech request sends only when it differs from the model's default."""

    speed: float
    instructions: str


class OpenAINarrator(Narrator):
    """Speaks each scene with `audio.speech`, until OpenAI shuts its speech models down (SHUTDOWN).

    The speech comes with no word timings: `word_timer` finds them, by default from the pauses heard in the audio
    (free); a transcript (`OpenAIWordTimer`, billed, on models shut down in 2027 too) only when asked for. Speech is
    billed once made, so a request is sent again only when the answer proves nothing was made.
    """

    name: ClassVar[str] = "openai"
    section: ClassVar[type[OpenAISettings]] = OpenAISettings
    voice: str  # always set, so a line that names none speaks with it

    def __init__(
        self,
        connection: MediaConnection,
        *,
        model: str = default("openai_voice_model"),
        voice: str = default("openai_voice"),
        speed: float = 1.0,
        instructions: str = "",
        word_timer: WordTimer | None = None,
    ) -> None:
        self.model = model
        self.voice = voice
        self.speed = speed
        self.instructions = instructions if model not in NO_INSTRUCTIONS else ""
        self.word_timer = word_timer or PauseTimer()
        self._client = connection.client(paid=True)
        self._tries = connection.tries

    @classmethod
    def from_settings(
        cls, settings: OpenAISettings, shared: Shared | None = None, http_client: httpx.Client | None = None
    ) -> OpenAINarrator:
        connection = paid_options(settings, "--voice openai", http_client)
        timer = None
        if settings.openai_word_timings:
            timer = OpenAIWordTimer(connection, model=settings.openai_transcribe_model)
        return cls(
            connection,
            model=settings.openai_voice_model,
            voice=settings.openai_voice,
            speed=settings.openai_voice_speed,
            instructions=settings.openai_voice_instructions,
            word_timer=timer,
        )

    def check(self, request: ShortRequest) -> None:
        voice = request.voice or self.voice
        if self._client.base_url.host == "api.openai.com" and voice not in VOICES:  # a compatible server has its own
            raise ConfigError(
                f"OpenAI has no voice named {voice!r}; use one of {', '.join(VOICES)} "
                "(`shorts voices --provider openai`)."
            )
        instead = "--voice elevenlabs, --voice runway or --voice offline"
        check_model(self._client, self.model, "SHORTS_OPENAI_VOICE_MODEL", instead)
        if isinstance(self.word_timer, OpenAIWordTimer):
            self.word_timer.check()

    @classmethod
    def voices(cls, settings: Settings) -> list[VoiceInfo]:
        """The built-in voices, each speaking the language of its text: known here, so listing needs no key."""
        note = f"needs OPENAI_API_KEY; shuts down {SHUTDOWN}"
        return [VoiceInfo(provider=cls.name, name=name, language="any", note=note) for name in VOICES]

    @property
    def variant(self) -> dict[str, object]:
        """What else shapes the audio, for the asset store's key."""
        return {"voice": self.voice, "speed": self.speed, "instructions": self.instructions}

    def speak(self, line: Line, dest: Path) -> Speech:
        text, voice = line.text, line.voice
        # The model reads the language from the text; the scene takes the audio's real length, even past max_seconds.
        options: SpeechOptions = {}
        if self.speed != 1.0:
            options["speed"] = self.speed
        if self.instructions:
            options["instructions"] = self.instructions
        try:
            audio = paid_call(
                lambda: self._client.audio.speech.create(
                    model=self.model, voice=voice or self.voice, input=text, response_format="wav", **options
                ).read(),
                self._tries,
            )
        except openai.NotFoundError as exc:
            if getattr(exc, "code", None) == "model_not_found":
                raise ConfigError(
                    f"OpenAI no longer serves {self.model} (its speech models shut down on {SHUTDOWN}); "
                    "use another voice: --voice elevenlabs (ELEVENLABS_API_KEY), --voice edge (free, "
                    "online) or --voice offline (free, on this machine)."
                ) from exc
            raise vendor_error(exc, "speaking the narration", model=self.model, paid=True) from exc
        except openai.OpenAIError as exc:
            raise vendor_error(exc, "speaking the narration", model=self.model, paid=True) from exc
        with billed("OpenAI", "the speech"):
            write_pcm16_wav(audio, dest, self.model)
        return Speech(voice=voice or self.voice)

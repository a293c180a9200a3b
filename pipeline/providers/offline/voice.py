"""Narration with espeak-ng when it is installed; otherwise no voice (and the run says so)."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path
from typing import ClassVar

from pipeline.errors import ProviderError
from pipeline.models import Speech

BASE_RATE = 150  # words per minute, the 2.5 words per second the scripts are paced for
MAX_RATE = 230


def wav_seconds(path: Path) -> float:
    """The duration of a WAV file."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


def espeak_binary() -> str | None:
    return shutil.which("espeak-ng")


class OfflineNarrator:
    """Speaks with espeak-ng, speeding up (within limits) so a scene's words fit its seconds."""

    name: ClassVar[str] = "offline"

    def __init__(self) -> None:
        self.binary = espeak_binary()
        self.model = "espeak-ng" if self.binary else "none"

    def speak(self, text: str, voice: str | None, language: str, max_seconds: float, dest: Path) -> Speech | None:
        if not self.binary:
            return None
        rate = BASE_RATE
        for _ in range(3):
            self._run(text, voice or language, rate, dest)
            seconds = wav_seconds(dest)
            if seconds <= max_seconds or rate >= MAX_RATE:
                break
            rate = min(MAX_RATE, int(rate * seconds / max_seconds) + 5)
        return Speech(voice=voice or language, package="espeak-ng (system)", license="GPL-3.0-or-later")

    def _run(self, text: str, voice: str, rate: int, dest: Path) -> None:
        cmd = [self.binary, "-v", voice, "-s", str(rate), "-w", str(dest), "--", text]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if result.returncode != 0 or not dest.is_file() or dest.stat().st_size <= 44:
            detail = (result.stderr or "no audio written").strip().splitlines()[-1:] or [""]
            raise ProviderError(f"espeak-ng failed with voice '{voice}' ({detail[0]}); pick a voice that `espeak-ng --voices` lists.")

"""The offline voice: Piper's Joe voice, else eSpeak NG from its wheel, else a system espeak-ng, else none."""

from __future__ import annotations

import logging
import shutil
import subprocess
import wave
from pathlib import Path
from typing import ClassVar

from pipeline.errors import ProviderError
from pipeline.models import Speech
from pipeline.providers.base import Finding, Line, Narrator, Shared, VoiceInfo
from pipeline.providers.offline.espeak import EspeakNarrator, espeak_installed
from pipeline.providers.offline.piper import PiperNarrator, piper_installed, speaks
from pipeline.settings import Settings

BASE_RATE = 150  # words per minute, the 2.5 words per second the scripts are paced for
MAX_RATE = 230
log = logging.getLogger("shorts")


def wav_seconds(path: Path) -> float:
    """The duration of a WAV file."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


def espeak_binary() -> str | None:
    return shutil.which("espeak-ng")


def offline_voices() -> list[str]:
    """The offline voices this machine has, best first (for doctor and the run's warnings)."""
    return [
        name
        for name, here in (
            ("piper (Joe, en_US)", piper_installed()),
            ("espeak (eSpeak NG from espeakng-loader)", espeak_installed()),
            ("system espeak-ng", espeak_binary() is not None),
        )
        if here
    ]


def describe_offline_voices(settings: Settings) -> list[Finding]:
    """Doctor's line: the offline voices this machine has."""
    return [
        Finding(text=f"offline voices: {', '.join(offline_voices()) or 'none installed (offline Shorts are silent)'}")
    ]


def offline_voice(voice: str | None, language: str) -> str | None:
    """Which voice `offline` speaks with here, by its registry name: piper, espeak (from the wheel or the system), or
    None when there is none."""
    if piper_installed() and speaks(voice, language):
        return "piper"
    return "espeak" if espeak_installed() or espeak_binary() else None


def natural_voice_hint(speech: Speech, language: str) -> str | None:
    """One line for a Short that eSpeak NG spoke (the offline voice for every language but English with Piper): it
    sounds robotic, and Edge's free online voices speak the language naturally."""
    if speech.model not in (EspeakNarrator.model, SystemEspeakNarrator.model):
        return None
    return (
        f"eSpeak NG speaks this Short ({language}) and sounds robotic; for a natural voice, free but online, add "
        "--voice edge (`shorts voices --provider edge` lists its voices)"
    )


class OfflineNarrator(Narrator):
    """Speaks with the best offline voice that can say the narration; None (no voice) when there is none."""

    name: ClassVar[str] = "offline"

    def __init__(self, cache: Path | None = None) -> None:
        self.piper = PiperNarrator(cache) if piper_installed() else None
        self.espeak = EspeakNarrator() if espeak_installed() else None
        self.system = SystemEspeakNarrator() if espeak_binary() else None
        # Which engine speaks depends on the language, so the model names them all, best first; each scene's Speech
        # names the one that spoke it.
        self.model = " or ".join(n.model for n in (self.piper, self.espeak, self.system) if n) or "none"

    @classmethod
    def from_settings(cls, settings: None, shared: Shared) -> OfflineNarrator:
        return cls(shared.paths.voices)

    @classmethod
    def voices(cls, settings: Settings) -> list[VoiceInfo]:
        """Piper's Joe, then the languages of the system's eSpeak NG (its `--voices` table): named, not asked of the
        engines, so listing never loads one."""
        piper = VoiceInfo(provider=cls.name, name="joe", language="en-US", note="Piper; the default offline voice")
        binary = espeak_binary()
        if not binary:
            return [
                piper,
                VoiceInfo(
                    provider=cls.name,
                    name="espeak-ng",
                    language="about 100 languages",
                    note="eSpeak NG; its languages are listed when its binary is on PATH",
                ),
            ]
        listed = subprocess.run([binary, "--voices"], capture_output=True, text=True, timeout=30).stdout
        # Columns: Pty Language Age/Gender VoiceName File [Other Languages]; -v takes the language.
        rows = [line.split() for line in listed.splitlines()[1:] if len(line.split()) >= 4]
        return [
            piper,
            *(VoiceInfo(provider=cls.name, name=row[1], language=row[1], note=f"eSpeak NG {row[3]}") for row in rows),
        ]

    def hint(self, speech: Speech, language: str) -> str | None:
        """Edge's natural voices, for a Short eSpeak NG spoke."""
        return natural_voice_hint(speech, language)

    def speak(self, line: Line, dest: Path) -> Speech | None:
        for narrator in (self.piper if speaks(line.voice, line.language) else None, self.espeak):
            if narrator is None:
                continue
            try:
                narrator.worker.start()
            except ProviderError as exc:  # a voice that cannot start here: the next one speaks instead
                log.warning("  the %s voice cannot start (%s); trying the next offline voice", narrator.name, exc)
                continue
            speech = narrator.speak(line, dest)
            return speech.model_copy(update={"model": narrator.model})
        if self.system is None:
            return None
        speech = self.system.speak(line, dest)
        return speech.model_copy(update={"model": self.system.model})


class SystemEspeakNarrator(Narrator):
    """The last fallback: an espeak-ng installed on the system, sped up (within limits) to fit the scene."""

    name: ClassVar[str] = "espeak-ng"
    model = "espeak-ng (system)"

    def __init__(self) -> None:
        self.binary = espeak_binary()

    def speak(self, line: Line, dest: Path) -> Speech:
        text, voice, language, max_seconds = line.text, line.voice, line.language, line.max_seconds
        rate = BASE_RATE
        for _ in range(3):
            self._run(text, voice or language, rate, dest)
            seconds = wav_seconds(dest)
            if seconds <= max_seconds or rate >= MAX_RATE:
                break
            rate = min(MAX_RATE, int(rate * seconds / max_seconds) + 5)
        return Speech(voice=voice or language, package="espeak-ng (system)", license="GPL-3.0-or-later")

    def _run(self, text: str, voice: str, rate: int, dest: Path) -> None:
        cmd = [str(self.binary), "-v", voice, "-s", str(rate), "-w", str(dest), "--", text]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if result.returncode != 0 or not dest.is_file() or dest.stat().st_size <= 44:
            detail = (result.stderr or "no audio written").strip().splitlines()[-1:] or [""]
            raise ProviderError(
                f"espeak-ng failed with voice '{voice}' ({detail[0]}); pick a voice that `espeak-ng --voices` lists."
            )

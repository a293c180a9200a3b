"""Narration from an OpenAI speech model, stored as 16-bit PCM WAV so the rest of the pipeline reads it with `wave`."""

from __future__ import annotations

import logging
import struct
import subprocess
import wave
from pathlib import Path
from typing import ClassVar

import httpx
import openai

from pipeline.errors import ProviderError
from pipeline.models import Speech
from pipeline.providers.openai.client import client_options, make_client, vendor_error
from pipeline.providers.openai.words import OpenAIWordTimer
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


def write_pcm16_wav(audio: bytes, dest: Path, source: str = "speech model") -> None:
    """Store speech as 16-bit PCM WAV: a streamed WAV header is mended, any other format goes through ffmpeg."""
    pcm = _pcm16_wav_parts(audio)
    if pcm is None:
        _convert_with_ffmpeg(audio, dest, source)
        return
    channels, rate, frames = pcm
    if not frames:
        raise ProviderError(f"The {source} voice returned no audio; rerun, or use --voice offline.")
    with wave.open(str(dest), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def _pcm16_wav_parts(audio: bytes) -> tuple[int, int, bytes] | None:
    """(channels, rate, sample bytes) of a 16-bit PCM WAV, or None for anything else.

    Streamed WAVs (OpenAI's among them) declare 0 or 0xFFFFFFFF as the data size; the data then runs to the end.
    """
    if len(audio) < 12 or audio[:4] != b"RIFF" or audio[8:12] != b"WAVE":
        return None
    pos, fmt = 12, None
    while pos + 8 <= len(audio):
        chunk, size = audio[pos:pos + 4], struct.unpack("<I", audio[pos + 4:pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            fmt = struct.unpack("<HHIIHH", audio[body:body + 16])
        elif chunk == b"data":
            if fmt is None or fmt[0] != 1 or fmt[5] != 16:  # not PCM, or not 16-bit
                return None
            end = len(audio) if size in (0, 0xFFFFFFFF) or body + size > len(audio) else body + size
            block = 2 * fmt[1]
            return fmt[1], fmt[2], audio[body:body + (end - body) // block * block]
        pos = body + size + (size & 1)
    return None


def _convert_with_ffmpeg(audio: bytes, dest: Path, source: str) -> None:
    import imageio_ffmpeg  # moviepy's ffmpeg, already a dependency of the render

    src = dest.with_name(dest.name + ".in")
    src.write_bytes(audio)
    try:
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-acodec", "pcm_s16le",
               "-f", "wav", str(dest)]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        src.unlink(missing_ok=True)
    if result.returncode != 0 or not dest.is_file():
        detail = (result.stderr.strip().splitlines() or ["unknown format"])[-1]
        raise ProviderError(f"The {source} voice returned audio ffmpeg cannot read ({detail[:120]}); rerun, or use "
                            "--voice offline.")

"""Speech audio as 16-bit PCM WAV, the one format the rest of the pipeline reads (with `wave`)."""

from __future__ import annotations

import struct
import subprocess
import wave
from pathlib import Path

from pipeline.errors import ProviderError


def write_pcm16_wav(audio: bytes, dest: Path, source: str = "speech model") -> None:
    """Store speech as 16-bit PCM WAV: a streamed WAV header is mended, any other format goes through ffmpeg."""
    pcm = _pcm16_wav_parts(audio)
    if pcm is None:
        _convert_with_ffmpeg(audio, dest, source)
        return
    channels, rate, frames = pcm
    write_pcm16_samples(frames, rate, dest, source, channels)


def write_pcm16_samples(frames: bytes, rate: int, dest: Path, source: str = "speech model", channels: int = 1) -> None:
    """Store raw 16-bit little-endian PCM samples (as ElevenLabs' pcm_* formats give them) as a WAV."""
    if not frames:
        raise ProviderError(f"The {source} voice returned no audio; rerun, or use --voice offline.")
    with wave.open(str(dest), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames[: len(frames) // (2 * channels) * 2 * channels])


def _pcm16_wav_parts(audio: bytes) -> tuple[int, int, bytes] | None:
    """(channels, rate, sample bytes) of a 16-bit PCM WAV, or None for anything else.

    Streamed WAVs (OpenAI's among them) declare 0 or 0xFFFFFFFF as the data size; the data then runs to the end.
    """
    if len(audio) < 12 or audio[:4] != b"RIFF" or audio[8:12] != b"WAVE":
        return None
    pos, fmt = 12, None
    while pos + 8 <= len(audio):
        chunk, size = audio[pos : pos + 4], struct.unpack("<I", audio[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            fmt = struct.unpack("<HHIIHH", audio[body : body + 16])
        elif chunk == b"data":
            if fmt is None or fmt[0] != 1 or fmt[5] != 16:  # not PCM, or not 16-bit
                return None
            end = len(audio) if size in (0, 0xFFFFFFFF) or body + size > len(audio) else body + size
            block = 2 * fmt[1]
            return fmt[1], fmt[2], audio[body : body + (end - body) // block * block]
        pos = body + size + (size & 1)
    return None


def _convert_with_ffmpeg(audio: bytes, dest: Path, source: str) -> None:
    import imageio_ffmpeg  # moviepy's ffmpeg, already a dependency of the render

    src = dest.with_name(dest.name + ".in")
    src.write_bytes(audio)
    try:
        cmd = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-i",
            str(src),
            "-acodec",
            "pcm_s16le",
            "-f",
            "wav",
            str(dest),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        src.unlink(missing_ok=True)
    if result.returncode != 0 or not dest.is_file():
        detail = (result.stderr.strip().splitlines() or ["unknown format"])[-1]
        raise ProviderError(
            f"The {source} voice returned audio ffmpeg cannot read ({detail[:120]}); rerun, or use --voice offline."
        )

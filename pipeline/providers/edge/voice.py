"""Narration from Microsoft Edge's online voices through `edge-tts`: free and keyless; word-boundary events time
the words. It is an unofficial client of a consumer service, so it is used only when asked for (--voice edge)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import aiohttp
import edge_tts
import edge_tts.communicate
import edge_tts.constants
import edge_tts.exceptions
import edge_tts.typing
import edge_tts.voices

from pipeline.alignment import align_words
from pipeline.errors import ConfigError, ProviderError
from pipeline.models import Speech
from pipeline.providers.base import Line, Narrator, Shared, VoiceInfo
from pipeline.providers.speech_audio import write_pcm16_wav
from pipeline.settings import EdgeSettings, Settings
from pipeline.timing import read_wav, speech_bounds

TICKS_PER_SECOND = 10_000_000  # Edge gives offsets and durations in 100-nanosecond ticks
TERMS = "Microsoft Edge online voices (unofficial client; service terms unclear for commercial use)"
T = TypeVar("T")
# edge-tts reads its endpoints from module constants; every scene sets the same URLs, so one lock suffices.
_URLS = threading.Lock()


class EdgeNarrator(Narrator):
    """Speaks each scene with an Edge neural voice, e.g. en-US-EmmaMultilingualNeural."""

    name: ClassVar[str] = "edge"
    model: str = "edge-tts"
    voice: str  # always set, so a line that names none speaks with it
    section: ClassVar[type[EdgeSettings]] = EdgeSettings

    def __init__(
        self,
        *,
        voice: str = edge_tts.constants.DEFAULT_VOICE,
        url: str | None = None,
        voices_url: str | None = None,
        timeout: int = 60,
    ) -> None:
        self.voice = voice
        self.url = url
        self.voices_url = voices_url
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: EdgeSettings, shared: Shared | None = None) -> EdgeNarrator:
        return cls(voice=settings.edge_voice, url=settings.edge_url, voices_url=settings.edge_voices_url)

    def speak(self, line: Line, dest: Path) -> Speech:
        # The voice carries the language (its locale); the scene takes the audio's real length.
        text, chosen = line.text, line.voice or self.voice
        try:
            communicate = edge_tts.Communicate(
                text, chosen, boundary="WordBoundary", connect_timeout=10, receive_timeout=self.timeout
            )
        except ValueError as exc:
            raise ConfigError(
                f"{chosen!r} is not an Edge voice name (like en-US-EmmaMultilingualNeural); "
                "`shorts voices --provider edge` lists them."
            ) from exc
        audio, heard = self._run(lambda: _collect(communicate), chosen)
        write_pcm16_wav(audio, dest, "Edge")
        samples, rate = read_wav(dest)
        words = align_words(text, heard, *speech_bounds(samples, rate))[0] if heard else None
        return Speech(words=words, voice=chosen, package=f"edge-tts {version('edge-tts')}", license=TERMS)

    @classmethod
    def voices(cls, settings: Settings) -> list[VoiceInfo]:
        """Every Edge voice by its ShortName, in its locale, from the service's free voice list."""
        return [
            VoiceInfo(provider=cls.name, name=v["ShortName"], language=v["Locale"], note=v.get("Gender", ""))
            for v in cls.configured(settings).voice_list()
        ]

    def voice_list(self) -> list[edge_tts.typing.Voice]:
        """Every Edge voice (ShortName, Locale, Gender, ...), from the service's voice list."""
        return self._run(edge_tts.list_voices)

    def _run(self, job: Callable[[], Coroutine[Any, Any, T]], voice: str | None = None) -> T:
        """Run an edge-tts coroutine on its own event loop, in a thread of its own (a caller may have a loop)."""
        with _URLS:
            edge_tts.communicate.WSS_URL = _with_query(self.url) or edge_tts.constants.WSS_URL
            edge_tts.voices.VOICE_LIST = _with_query(self.voices_url) or edge_tts.constants.VOICE_LIST
        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                return pool.submit(lambda: asyncio.run(job())).result()
        except edge_tts.exceptions.NoAudioReceived as exc:
            raise ConfigError(
                f"Edge spoke nothing with voice {voice or self.voice!r} (no audio came back); check the "
                "voice with `shorts voices --provider edge`."
            ) from exc
        except (TimeoutError, aiohttp.ClientError, edge_tts.exceptions.EdgeTTSException) as exc:
            raise ProviderError(
                f"Microsoft Edge's voice service failed ({type(exc).__name__}); rerun, or use "
                "another voice (--voice offline).",
                retry_safe=True,
            ) from exc


async def _collect(communicate: edge_tts.Communicate) -> tuple[bytes, list[tuple[str, float, float]]]:
    """The MP3 audio and each word Edge says it spoke, with its start and end in seconds."""
    audio, heard = bytearray(), []
    async for chunk in communicate.stream():
        if chunk["type"] == "audio":
            audio += chunk["data"]
        elif chunk["type"] == "WordBoundary":
            start = chunk["offset"] / TICKS_PER_SECOND
            heard.append((chunk["text"], start, start + chunk["duration"] / TICKS_PER_SECOND))
    return bytes(audio), heard


def _with_query(url: str | None) -> str | None:
    # edge-tts appends "&ConnectionId=..." and "&Sec-MS-GEC=...": the URL must already have a query.
    if not url:
        return None
    return url if "?" in url else url + "?"

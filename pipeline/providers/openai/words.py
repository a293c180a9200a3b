"""Word timings from an OpenAI transcription (verbose_json with word timestamps), aligned to the script."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar, Literal, TypedDict

import openai

from pipeline.alignment import align_words
from pipeline.errors import ProviderError
from pipeline.models import WordTiming
from pipeline.providers.openai.client import MediaConnection, check_model, paid_call, vendor_error
from pipeline.settings import default
from pipeline.timing import read_wav, speech_bounds

MIN_MATCHED = 0.5  # below this share of words heard as written, the transcript is not trusted for timing
PROMPT_CHARS = 800  # Whisper reads only the last ~224 tokens of a prompt


class TranscriptionOptions(TypedDict, total=False):
    """What a transcription request sends only when it is known: the audio's language (ISO 639-1)."""

    language: str


class OpenAIWordTimer:
    """Transcribes a scene's audio with word timestamps and puts the script's words on those times.

    Opt-in (SHORTS_OPENAI_WORD_TIMINGS): a transcript is billed by the minute, so it is sent like speech, never twice
    blind, and whisper-1 shuts down on 2027-02-26 (its successor gives no word timestamps).
    """

    name: ClassVar[str] = "openai"
    timing: ClassVar[Literal["transcript"]] = "transcript"

    def __init__(self, connection: MediaConnection, *, model: str = default("openai_transcribe_model")) -> None:
        self.model = model
        self._client = connection.client(paid=True)
        self._tries = connection.tries

    def check(self) -> None:
        """Refuse a transcription model OpenAI no longer serves, before anything is paid for."""
        check_model(self._client, self.model, "SHORTS_OPENAI_TRANSCRIBE_MODEL", "SHORTS_OPENAI_WORD_TIMINGS=false")

    def time_words(self, text: str, audio: Path, language: str) -> list[WordTiming]:
        """When each word of `text` is spoken in `audio` (seconds from its start), in the script's spelling."""
        options: TranscriptionOptions = {"language": language.lower()} if re.fullmatch(r"[A-Za-z]{2}", language) else {}
        try:
            # The script as prompt steers the spelling of names and numbers towards the script's.
            result = paid_call(
                lambda: self._client.audio.transcriptions.create(
                    model=self.model,
                    file=(audio.name, audio.read_bytes(), "audio/wav"),
                    response_format="verbose_json",
                    timestamp_granularities=["word"],
                    prompt=text[:PROMPT_CHARS],
                    **options,
                ),
                self._tries,
            )
        except openai.OpenAIError as exc:
            raise vendor_error(exc, "transcribing the narration", model=self.model, paid=True) from exc
        heard = [(w.word, float(w.start), float(w.end)) for w in (getattr(result, "words", None) or [])]
        if not heard:
            raise ProviderError(
                f"The {self.model} transcript has no word timestamps; set "
                "SHORTS_OPENAI_TRANSCRIBE_MODEL to a model that gives them, such as whisper-1."
            )
        samples, rate = read_wav(audio)
        start, end = speech_bounds(samples, rate)
        timings, matched = align_words(text, heard, start, end)
        if matched < MIN_MATCHED * len(timings):
            raise ProviderError(
                f"The {self.model} transcript matched only {matched} of {len(timings)} script "
                "words, too few to time captions by."
            )
        return timings

"""Narration from ElevenLabs, with the time of every character, through its official SDK (`elevenlabs`)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar, TypedDict

import httpx
from elevenlabs.client import ElevenLabs
from elevenlabs.core.api_error import ApiError

from pipeline.alignment import align_words
from pipeline.errors import ConfigError, ProviderError, ShortsError
from pipeline.models import Cost, ShortRequest, Speech
from pipeline.providers.base import Line, Narrator, Shared, VoiceInfo
from pipeline.providers.elevenlabs.budget import observed_rate, priced, request_key
from pipeline.providers.inputs import cut_text, required_key
from pipeline.providers.paid.download import retry_after
from pipeline.providers.paid.send import Unmade, billed, send_paid
from pipeline.providers.speech_audio import write_pcm16_samples
from pipeline.settings import ElevenLabsSettings, Settings, default
from pipeline.state.ledger import CHARACTERS, DONE, REJECTED, UNCONFIRMED, Ledger
from pipeline.timing import read_wav, speech_bounds

log = logging.getLogger("shorts")

RATE = 24_000
OUTPUT_FORMAT = f"pcm_{RATE}"  # raw 16-bit mono samples: served on every plan, and no decoding needed
VOICE_ID = re.compile(r"^[A-Za-z0-9]{20}$")  # ElevenLabs voice ids are 20 letters and digits
TERMS = "ElevenLabs terms (paid plans allow commercial use)"
MAX_SEED = 4_294_967_295


class Stitching(TypedDict, total=False):
    """The neighbours' text sent with a scene's (request stitching), where it has any."""

    previous_text: str
    next_text: str


class ElevenLabsNarrator(Narrator):
    """Speaks each scene with text-to-speech "with timestamps"; the characters' times become the words' times."""

    name: ClassVar[str] = "elevenlabs"
    section: ClassVar[type[ElevenLabsSettings]] = ElevenLabsSettings
    voice: str  # always set, so a line that names none speaks with it
    stitches: ClassVar[bool] = True

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        http_client: httpx.Client | None = None,
        model: str = default("elevenlabs_model"),
        voice: str = default("elevenlabs_voice"),
        timeout: float = default("elevenlabs_timeout"),
        ledger: Ledger | None = None,
        daily_cap: float = float("inf"),
        short_cap: float = float("inf"),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model = model
        self.voice = voice
        self.ledger = ledger
        self.daily_cap = daily_cap
        self.short_cap = short_cap
        self.short = ""
        self._sleep = sleep
        self._voice_ids: dict[str, str] = {}
        self._client = ElevenLabs(api_key=api_key, base_url=base_url or None, timeout=timeout, httpx_client=http_client)

    @classmethod
    def from_settings(
        cls, settings: ElevenLabsSettings, shared: Shared, http_client: httpx.Client | None = None
    ) -> ElevenLabsNarrator:
        key = required_key(
            settings, "elevenlabs_api_key", "--voice elevenlabs", "from elevenlabs.io, Developers > API keys"
        )
        return cls(
            api_key=key,
            base_url=settings.elevenlabs_base_url,
            http_client=http_client,
            model=settings.elevenlabs_model,
            voice=settings.elevenlabs_voice,
            timeout=settings.elevenlabs_timeout,
            ledger=shared.ledger(),
            daily_cap=settings.max_characters_per_day,
            short_cap=settings.max_characters_per_short,
        )

    def check(self, request: ShortRequest) -> None:
        """A voice given by name must be in the account (the free voice list), before anything is spoken."""
        self.voice_id(request.voice or self.voice)

    def speak(self, line: Line, dest: Path) -> Speech:
        # The model reads the language from the text; the scene takes the audio's real length, even past max_seconds.
        text, given = line.text, line.voice or self.voice
        voice_id = self.voice_id(given)
        # The neighbours' text carries the prosody across scene cuts (request stitching); they are not spoken.
        stitching: Stitching = {}
        if line.previous_text:
            stitching["previous_text"] = line.previous_text
        if line.next_text:
            stitching["next_text"] = line.next_text
        seed = request_seed(self.model, voice_id, text)
        with self._rate_learnt(given):
            row = self._reserve(text, given, voice_id, seed, stitching)
            try:
                response = self._send(
                    lambda: self._client.text_to_speech.with_raw_response.convert_with_timestamps(
                        voice_id,
                        text=text,
                        model_id=self.model,
                        output_format=OUTPUT_FORMAT,
                        seed=seed,
                        **stitching,
                        request_options={"max_retries": 0},
                    )
                )  # the SDK resends a POST after a 5xx or 408: never for speech
            except ShortsError as exc:
                self._settle(
                    row,
                    UNCONFIRMED if isinstance(exc, ProviderError) and not exc.retry_safe else REJECTED,
                    detail=str(exc),
                )
                raise
            with billed("ElevenLabs", "the speech"):
                characters = _billed(response.headers, text)
                self._settle(row, DONE, spent=characters, task_id=response.headers.get("request-id"))
        with billed("ElevenLabs", "the speech"):
            if characters > len(text):
                log.info(
                    "  ElevenLabs billed %d characters for %d (%.3g a character with this voice); the scenes "
                    "still to speak are priced at that rate",
                    characters,
                    len(text),
                    characters / len(text),
                )
            answer = response.data
            write_pcm16_samples(base64.b64decode(answer.audio_base_64), RATE, dest, "ElevenLabs")
            words = self._word_timings(text, answer, dest)
        return Speech(
            words=words,
            cost=Cost(characters=characters),
            voice=given,
            package=f"elevenlabs {version('elevenlabs')} ({self.model})",
            license=TERMS,
        )

    def voice_id(self, voice: str) -> str:
        """The id of a voice given by id or by name (names are looked up in the account's voice list, once)."""
        if VOICE_ID.match(voice):
            return voice
        if not self._voice_ids:
            self._voice_ids = {v.name.casefold(): v.voice_id for v in self.account_voices() if v.name}
        found = self._voice_ids.get(voice.casefold()) or next(
            (vid for name, vid in self._voice_ids.items() if name.split(" - ")[0] == voice.casefold()), None
        )
        if found is None:
            raise ConfigError(
                f"ElevenLabs has no voice named {voice!r} in this account; `shorts voices --provider "
                "elevenlabs` lists them (give a name or a voice id)."
            )
        return found

    @classmethod
    def voices(cls, settings: Settings) -> list[VoiceInfo]:
        """The account's voices by name, with the locales ElevenLabs verified each one in (else its language label,
        else "any"), from the free voice list."""
        if not settings.has_key("ELEVENLABS_API_KEY"):
            raise ConfigError("set ELEVENLABS_API_KEY to list the voices of your ElevenLabs account.")
        found = []
        for voice in cls.configured(settings).account_voices():
            locales = [lang.locale or lang.language for lang in voice.verified_languages or []]
            language = ", ".join(dict.fromkeys(locales)) or (voice.labels or {}).get("language") or "any"
            found.append(
                VoiceInfo(
                    provider=cls.name, name=voice.name or voice.voice_id, language=language, note=f"id {voice.voice_id}"
                )
            )
        return found

    def account_voices(self) -> list[Any]:
        """The account's voices (premade, cloned and added from the library), from the free GET /v1/voices."""
        try:
            return list(self._client.voices.get_all().voices)
        except (ApiError, httpx.HTTPError) as exc:
            raise _translate(exc, "listing the voices", paid=False) from exc

    def _send(self, request: Callable[[], Any]) -> Any:
        """Send the billed request through `send_paid`: again only after an answer that proves nothing was made."""
        try:
            return send_paid(request, nothing_made, vendor="ElevenLabs", sleep=self._sleep)
        except (ApiError, httpx.HTTPError) as exc:
            raise _translate(exc, "speaking the narration", paid=True) from exc

    @contextmanager
    def _rate_learnt(self, voice: str) -> Iterator[None]:
        """Speak the first request of a voice and model whose rate the ledger does not know yet alone (across
        threads and runs), so that scenes spoken at once are priced at the rate it bills, not at a guess."""
        if self.ledger is None or observed_rate(self.ledger, self.model, voice) is not None:
            yield
            return
        with self.ledger.hold(f"elevenlabs-rate-{self.model}-{voice.casefold()}"):
            if observed_rate(self.ledger, self.model, voice) is None:
                yield
                return
        yield

    def _reserve(self, text: str, voice: str, voice_id: str, seed: int, stitching: Stitching) -> int | None:
        """Record the request before it is sent, priced at the rate this voice and model billed at last, unless that
        would pass the day's or this Short's cap (one transaction, so scenes spoken at once cannot both pass)."""
        if self.ledger is None:
            return None
        digest = hashlib.sha256(json.dumps([self.model, voice_id, text, seed, stitching], sort_keys=True).encode())
        key = request_key(self.short, voice, text, digest.hexdigest()[:16])
        estimate = priced(len(text), observed_rate(self.ledger, self.model, voice))
        return self.ledger.reserve(
            key=key,
            provider=self.name,
            kind="narration",
            model=self.model,
            estimate=estimate,
            daily_cap=self.daily_cap,
            unit=CHARACTERS,
            short=self.short or None,
            short_cap=self.short_cap,
        )

    def _settle(
        self,
        row: int | None,
        status: str,
        *,
        spent: float | None = None,
        task_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        if self.ledger is None or row is None:
            return
        changes: dict[str, object] = {"status": status}
        if spent is not None:
            changes["amount_spent"] = spent
        if task_id:
            changes["task_id"] = task_id
        if detail:
            changes["detail"] = detail[:500]
        if status == REJECTED:
            changes["amount_spent"] = 0.0
        self.ledger.update(row, **changes)

    @staticmethod
    def _word_timings(text: str, answer: Any, audio: Path) -> list | None:
        """One timing per word of `text`, from the alignment of the text as sent (its characters and their times)."""
        alignment = answer.alignment or answer.normalized_alignment
        if alignment is None or not alignment.characters:
            return None
        heard, word, start, end = [], "", 0.0, 0.0
        for char, char_start, char_end in zip(
            alignment.characters,
            alignment.character_start_times_seconds,
            alignment.character_end_times_seconds,
            strict=False,
        ):
            if char.isspace():
                if word:
                    heard.append((word, start, end))
                word = ""
                continue
            if not word:
                start = char_start
            word, end = word + char, char_end
        if word:
            heard.append((word, start, end))
        samples, rate = read_wav(audio)
        return align_words(text, heard, *speech_bounds(samples, rate))[0]


def request_seed(model: str, voice_id: str, text: str) -> int:
    """The seed of a request (0..4294967295), from what it says: the same scene asked for again sounds the same."""
    return int(hashlib.sha256(f"{model}\n{voice_id}\n{text}".encode()).hexdigest(), 16) % (MAX_SEED + 1)


def nothing_made(exc: Exception) -> Unmade | None:
    """Whether an ElevenLabs failure proves nothing was made: a 429 (its "too many concurrent requests" or "system
    busy"), with the pause it asks for, or a connection that never opened."""
    if isinstance(exc, ApiError) and exc.status_code == 429:
        return Unmade(retry_after(httpx.Response(429, headers=exc.headers or {})))
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return Unmade()
    return None


def _billed(headers: Any, text: str) -> int:
    """The characters ElevenLabs billed, from its `character-cost` header (else the text's length)."""
    try:
        return int(float(headers.get("character-cost")))
    except (TypeError, ValueError):
        return len(text)


def _translate(exc: ApiError | httpx.HTTPError, doing: str, *, paid: bool) -> ShortsError:
    """One sentence for an SDK or network failure; a `paid` request that may have been made is not retry-safe."""
    if isinstance(exc, httpx.HTTPError):
        never = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        if paid and not never:
            return ProviderError(
                f"ElevenLabs gave no answer while {doing} ({type(exc).__name__}), so the speech may "
                "have been made and billed; rerun when a second charge is acceptable, or use another "
                "voice."
            )
        return ProviderError(
            f"Could not reach ElevenLabs while {doing} ({type(exc).__name__}); check "
            "ELEVENLABS_BASE_URL and the network, then rerun.",
            retry_safe=True,
        )
    status, detail = exc.status_code or 0, cut_text(_message(exc.body), 200)
    if status == 401:
        return ConfigError(
            f"ElevenLabs refused the request while {doing} ({detail or 'unauthorised'}); check "
            "ELEVENLABS_API_KEY and the account's remaining characters."
        )
    if status == 429:
        return ProviderError(f"ElevenLabs is busy (429) while {doing}: {detail}; rerun in a minute.", retry_safe=True)
    if paid and status >= 500 or status == 408:
        return ProviderError(
            f"ElevenLabs failed ({status}) while {doing}, so the speech may have been made and "
            "billed; rerun when a second charge is acceptable, or use another voice."
        )
    if status >= 500:
        return ProviderError(f"ElevenLabs failed ({status}) while {doing}; rerun in a minute.", retry_safe=True)
    if status in (400, 404, 422):
        return ConfigError(
            f"ElevenLabs rejected the request ({status}) while {doing}: {detail}; check "
            "SHORTS_ELEVENLABS_MODEL and the voice (`shorts voices --provider elevenlabs`)."
        )
    return ProviderError(f"ElevenLabs rejected the request ({status}) while {doing}: {detail}.")


def _message(body: Any) -> str:
    """The human part of an ElevenLabs error body: {"detail": {"status": ..., "message": ...}} or a string."""
    if isinstance(body, dict):
        detail = body.get("detail", body)
        if isinstance(detail, dict):
            return str(detail.get("message") or detail.get("status") or "")
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            return str(detail[0].get("msg", ""))
        return str(detail)
    return str(body or "")

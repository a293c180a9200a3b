"""Narration from Runway's text-to-speech (ElevenLabs voices billed in Runway credits), a paid task like a clip."""

from __future__ import annotations

import typing
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import runwayml

from pipeline.errors import ConfigError, ProviderError
from pipeline.media.probe import Unreadable
from pipeline.models import Cost, ShortRequest, Speech
from pipeline.pause_timing import PauseTimer
from pipeline.providers.base import Line, Narrator, Shared, VoiceInfo
from pipeline.providers.paid.jobs import Job, PaidJobs
from pipeline.providers.runway.client import PROMPT_LIMIT, voice_credits
from pipeline.providers.runway.maker import RunwayMaker, runway_jobs
from pipeline.providers.runway.tasks import RunwayVendor
from pipeline.providers.speech_audio import write_pcm16_wav
from pipeline.settings import RunwaySettings, Settings, default
from pipeline.state.store import content_key

# The models that take a language code (eleven_multilingual_v2 reads the language from the text).
LANGUAGE_CODE = ("eleven_v3", "eleven_v4")
LIMITED = ("eleven_multilingual_v2",)  # the models whose text is at most PROMPT_LIMIT UTF-16 units
TERMS = "Runway's terms (ElevenLabs voices through Runway's API)"


def preset_voices() -> tuple[str, ...]:
    """The preset voices the installed `runwayml` knows for its ElevenLabs models (the API has no free list)."""
    from runwayml.types import text_to_speech_create_params as params

    hint = typing.get_type_hints(params.ElevenMultilingualV2Voice, include_extras=True)["preset_id"]
    while typing.get_origin(hint) is not typing.Literal:  # Required[Annotated[Literal[...], alias]]
        hint = typing.get_args(hint)[0]
    return typing.get_args(hint)


class RunwayNarrator(RunwayMaker, Narrator):
    """Speaks each scene with a Runway text-to-speech task: recorded in the ledger before waiting, resumed after a
    crash, cancelled on Ctrl-C only while Runway has not started it. The audio has no word timings, so `word_timer`
    places the words on the pauses heard in it (free)."""

    flag, model_field = "--voice runway", "runway_voice_model"
    voice: str  # always set, so a line that names none speaks with it

    def __init__(
        self,
        tasks: PaidJobs[RunwayVendor],
        model: str = default("runway_voice_model"),
        voice: str = default("runway_voice"),
        credits_per_50_characters: float = default("runway_voice_credits_per_50_characters"),
    ) -> None:
        super().__init__(tasks, model)
        self.voice = voice
        self.credits_per_50_characters = credits_per_50_characters
        self.word_timer = PauseTimer()

    @classmethod
    def from_settings(
        cls, settings: RunwaySettings, shared: Shared, http_client: httpx.Client | None = None
    ) -> RunwayNarrator:
        tasks = runway_jobs(settings, shared, "--voice runway", http_client, settings.runway_voice_deadline_minutes)
        return cls(
            tasks, settings.runway_voice_model, settings.runway_voice, settings.runway_voice_credits_per_50_characters
        )

    def check(self, request: ShortRequest) -> None:
        _preset(request.voice or self.voice)  # an unknown voice name, before anything is bought

    @classmethod
    def voices(cls, settings: Settings) -> list[VoiceInfo]:
        """The preset voices, priced: Runway's API lists only voices an account made, so listing costs no call."""
        rate = settings.runway_voice_credits_per_50_characters
        note = f"needs RUNWAYML_API_SECRET, about {rate:g} credit{'' if rate == 1 else 's'} per 50 characters"
        return [
            VoiceInfo(
                provider=cls.name,
                name=name,
                language="any",
                note=f"the default; {note}" if name == settings.runway_voice else note,
            )
            for name in preset_voices()
        ]

    @property
    def variant(self) -> dict[str, object]:
        """The default voice shapes the audio of a request that names none, so it is part of the store's key."""
        return {"voice": self.voice}

    def speak(self, line: Line, dest: Path) -> Speech:
        text, voice, language = line.text, line.voice, line.language
        # The neighbours are not sent: they would change the paid task's key whenever a next scene changes.
        preset = _preset(voice or self.voice)
        if self.model in LIMITED and len(text.encode("utf-16-le")) // 2 > PROMPT_LIMIT:
            raise ConfigError(
                f"The narration is {len(text)} characters, over the {PROMPT_LIMIT} that {self.model} "
                "speaks at once; shorten it or use more scenes."
            )
        request: dict[str, Any] = dict(
            model=self.model, prompt_text=text, voice={"type": "runway-preset", "preset_id": preset}
        )
        if self.model in LANGUAGE_CODE:
            request["language_code"] = language.split("-")[0].lower()
        download = dest.with_name(dest.name + ".download")  # a `<temporary>.*` helper: swept if we are killed

        def keep(path: Path) -> None:
            # Whatever the format (MP3 is likely), ours is 16-bit PCM WAV; audio ffmpeg cannot read is fetched again.
            try:
                write_pcm16_wav(path.read_bytes(), dest, "Runway")
            except ProviderError as exc:
                raise Unreadable(str(exc)) from exc

        words = text.split()
        job = Job(
            key=content_key("runway-voice", **request),
            kind="narration",
            model=self.model,
            estimate=voice_credits(text, self.credits_per_50_characters),
            label=f'narration "{" ".join(words[:4])}{" …" if len(words) > 4 else ""}"',
            prepare=lambda: request,
            verify=keep,
            endpoint="text_to_speech",
            fix="rerun with --voice offline",
            reword="reword the scene's narration",
            deadline_setting="SHORTS_RUNWAY_VOICE_DEADLINE_MINUTES",
        )
        try:
            _, credits = self.tasks.produce(job, download)
        finally:
            download.unlink(missing_ok=True)
        return Speech(
            cost=Cost(credits=credits),
            voice=preset,
            package=f"runwayml {version('runwayml')} ({self.model})",
            license=TERMS,
        )


def _preset(voice: str) -> str:
    """The preset's name as Runway spells it ("maya" -> "Maya"); a voice it does not know fails before paying."""
    presets = preset_voices()
    found = next((p for p in presets if p.casefold() == voice.casefold()), None)
    if found is None:
        raise ConfigError(
            f"Runway has no preset voice named {voice!r}; `shorts voices --provider runway` lists them "
            f"(runwayml {runwayml.__version__})."
        )
    return found

"""The voices each narration provider offers here, with their languages, for `shorts voices` and `--voice-name`."""

from __future__ import annotations

import subprocess

from pipeline.errors import ConfigError, ShortsError
from pipeline.models import Model
from pipeline.providers import REGISTRY, build_provider
from pipeline.settings import Settings


class VoiceInfo(Model):
    """One voice: what `--voice-name` takes, and the languages it speaks ("any" for a multilingual voice)."""

    provider: str
    name: str
    language: str
    note: str = ""


class VoiceListing(Model):
    """A provider's voices, or why they cannot be listed here."""

    provider: str
    voices: list[VoiceInfo] = []
    problem: str | None = None


def list_voices(settings: Settings, provider: str | None = None) -> list[VoiceListing]:
    """Every voice provider's voices (or the one named); a provider that cannot list says why instead."""
    names = [name for name in REGISTRY["voice"] if provider in (None, name)]
    if not names:
        raise ConfigError(
            f"--provider {provider!r} is not a voice provider; use one of {', '.join(REGISTRY['voice'])}."
        )
    listings = []
    for name in names:
        lister = _LISTERS.get(name)
        if lister is None:
            listings.append(VoiceListing(provider=name, problem="its voices are not listed here yet."))
            continue
        try:
            listings.append(VoiceListing(provider=name, voices=lister(settings)))
        except ShortsError as exc:
            listings.append(VoiceListing(provider=name, problem=str(exc)))
    return listings


def _elevenlabs(settings: Settings) -> list[VoiceInfo]:
    if not settings.has_key("ELEVENLABS_API_KEY"):
        raise ConfigError("set ELEVENLABS_API_KEY to list the voices of your ElevenLabs account.")
    found = []
    for voice in build_provider("voice", "elevenlabs", settings).voices():  # the SDK only when it is used
        locales = [lang.locale or lang.language for lang in voice.verified_languages or []]
        language = ", ".join(dict.fromkeys(locales)) or (voice.labels or {}).get("language") or "any"
        found.append(
            VoiceInfo(
                provider="elevenlabs", name=voice.name or voice.voice_id, language=language, note=f"id {voice.voice_id}"
            )
        )
    return found


def _openai(settings: Settings) -> list[VoiceInfo]:
    from pipeline.providers.openai.voice import SHUTDOWN, VOICES

    note = f"needs OPENAI_API_KEY; shuts down {SHUTDOWN}"
    return [VoiceInfo(provider="openai", name=name, language="any", note=note) for name in VOICES]


def _runway(settings: Settings) -> list[VoiceInfo]:
    # Runway's API lists only voices an account made; its presets are in the SDK, so listing costs no call.
    from pipeline.providers.runway.voice import preset_voices

    rate = settings.runway_voice_credits_per_50_characters
    price = f"about {rate:g} credit{'' if rate == 1 else 's'} per 50 characters"
    note = f"needs RUNWAYML_API_SECRET, {price}"
    return [
        VoiceInfo(
            provider="runway",
            name=name,
            language="any",
            note=f"the default; {note}" if name == settings.runway_voice else note,
        )
        for name in preset_voices()
    ]


def _edge(settings: Settings) -> list[VoiceInfo]:
    from pipeline.providers.edge.voice import EdgeNarrator

    return [
        VoiceInfo(provider="edge", name=v["ShortName"], language=v["Locale"], note=v.get("Gender", ""))
        for v in EdgeNarrator.from_settings(settings).voices()
    ]


def _offline(settings: Settings) -> list[VoiceInfo]:
    # Named here rather than asked of the offline voice, so listing never loads a speech engine.
    piper = VoiceInfo(provider="offline", name="joe", language="en-US", note="Piper; the default offline voice")
    from pipeline.providers.offline.voice import espeak_binary

    binary = espeak_binary()
    if not binary:
        return [
            piper,
            VoiceInfo(
                provider="offline",
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
        *(VoiceInfo(provider="offline", name=row[1], language=row[1], note=f"eSpeak NG {row[3]}") for row in rows),
    ]


_LISTERS = {"elevenlabs": _elevenlabs, "openai": _openai, "runway": _runway, "edge": _edge, "offline": _offline}

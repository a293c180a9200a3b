"""ElevenLabs: speech with word timings from its character alignment, billed in characters."""

from __future__ import annotations

from pipeline.errors import ShortsError
from pipeline.providers.base import Finding
from pipeline.settings import Settings


def describe_elevenlabs(settings: Settings) -> list[Finding]:
    """Doctor's line: the key accepted and the voice named found, from the free voice list, and the caps."""
    if not settings.has_key("ELEVENLABS_API_KEY"):
        return [Finding(text="ElevenLabs: no ELEVENLABS_API_KEY set (a paid voice with exact word timings)")]
    from pipeline.providers.elevenlabs.voice import ElevenLabsNarrator  # the SDK only when a key is set

    try:
        narrator = ElevenLabsNarrator.configured(settings)
        count = len(narrator.account_voices())  # the free voice list proves the key
        narrator.voice_id(settings.elevenlabs_voice)  # and a voice given by name is in it
    except ShortsError as exc:
        return [Finding(text=f"ElevenLabs: {exc}", problem=True)]
    return [
        Finding(
            text=f"ElevenLabs: key accepted, {count} voices; voice {settings.elevenlabs_voice}, model "
            f"{settings.elevenlabs_model}; up to {settings.max_characters_per_short:g} characters a Short, "
            f"{settings.max_characters_per_day:g} a day"
        )
    ]

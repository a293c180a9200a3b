"""ElevenLabs: speech with word timings from its character alignment, billed in characters."""

from __future__ import annotations

from pipeline.providers.base import Finding, keyed_findings
from pipeline.settings import Settings


def describe_elevenlabs(settings: Settings) -> list[Finding]:
    """Doctor's line: the key accepted and the voice named found, from the free voice list, and the caps."""

    def lines() -> list[str]:
        from pipeline.providers.elevenlabs.voice import ElevenLabsNarrator  # the SDK only when a key is set

        narrator = ElevenLabsNarrator.configured(settings)
        count = len(narrator.account_voices())  # the free voice list proves the key
        narrator.voice_id(settings.elevenlabs_voice)  # and a voice given by name is in it
        return [
            f"ElevenLabs: key accepted, {count} voices; voice {settings.elevenlabs_voice}, model "
            f"{settings.elevenlabs_model}; up to {settings.max_characters_per_short:g} characters a Short, "
            f"{settings.max_characters_per_day:g} a day"
        ]

    unset = " (a paid voice with exact word timings)"
    return keyed_findings(settings, "elevenlabs_api_key", "ElevenLabs", lines, unset)

"""The voices each narration provider offers here, with their languages, for `shorts voices` and `--voice-name`."""

from __future__ import annotations

from pipeline.errors import ConfigError, ShortsError
from pipeline.models import Model
from pipeline.providers import REGISTRY
from pipeline.providers.base import VoiceInfo
from pipeline.settings import Settings


class VoiceListing(Model):
    """A provider's voices, or why they cannot be listed here."""

    provider: str
    voices: list[VoiceInfo] = []
    problem: str | None = None


def list_voices(settings: Settings, provider: str | None = None) -> list[VoiceListing]:
    """Every voice provider's voices (or the one named); a provider that cannot list says why instead.

    Each provider lists its own (`Narrator.voices`); its module is imported only when it is asked for.
    """
    names = [name for name in REGISTRY["voice"] if provider in (None, name)]
    if not names:
        raise ConfigError(
            f"--provider {provider!r} is not a voice provider; use one of {', '.join(REGISTRY['voice'])}."
        )
    listings = []
    for name in names:
        try:
            voices = REGISTRY["voice"][name].load().voices(settings)
        except ShortsError as exc:
            listings.append(VoiceListing(provider=name, problem=str(exc)))
            continue
        if voices is None:
            listings.append(VoiceListing(provider=name, problem="its voices are not listed here yet."))
        else:
            listings.append(VoiceListing(provider=name, voices=voices))
    return listings

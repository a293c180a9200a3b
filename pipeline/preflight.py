"""Before anything is paid for: every chosen provider is built (its key present, its settings sound) and asked,
with free calls only, whether it can make this Short (its model still served, its voice known)."""

from __future__ import annotations

from pipeline.errors import ShortsError
from pipeline.models import ProviderChoice, ShortRequest
from pipeline.providers import build_provider
from pipeline.settings import Settings


def check_providers(request: ShortRequest, choices: dict[str, ProviderChoice], settings: Settings) -> None:
    """Raise the first provider's one-sentence ConfigError, naming its step, when it cannot make the Short."""
    for step, choice in choices.items():
        try:
            build_provider(step, choice.name, settings).check(request)
        except ShortsError as exc:
            raise exc.at(step)

"""The provider registry: one dict per step, vendors first, offline last."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.errors import ConfigError
from pipeline.models import STEPS, ProviderChoice, ShortRequest
from pipeline.providers.offline_clip import OfflineClipMaker
from pipeline.providers.offline_image import OfflineImageMaker
from pipeline.providers.offline_script import OfflineScriptWriter
from pipeline.providers.offline_voice import OfflineNarrator
from pipeline.providers.openai_image import OpenAIImageMaker
from pipeline.providers.openai_script import OpenAIScriptWriter
from pipeline.providers.openai_voice import OpenAINarrator
from pipeline.settings import Settings

# step -> {name: provider class}; auto picks the first whose key is set, so offline goes last.
REGISTRY: dict[str, dict[str, type]] = {
    "script": {"openai": OpenAIScriptWriter, "offline": OfflineScriptWriter},
    "image": {"openai": OpenAIImageMaker, "offline": OfflineImageMaker},
    "video": {"offline": OfflineClipMaker},
    "voice": {"openai": OpenAINarrator, "offline": OfflineNarrator},
}

# How each provider is built from settings; offline ones need nothing.
FACTORIES: dict[tuple[str, str], Callable[[Settings], Any]] = {
    ("script", "openai"): OpenAIScriptWriter.from_settings,
    ("image", "openai"): OpenAIImageMaker.from_settings,
    ("voice", "openai"): OpenAINarrator.from_settings,
}


def choose_provider(step: str, request: ShortRequest, settings: Settings) -> ProviderChoice:
    """Pick a step's provider: the flag, else the setting, else the vendor whose key is set, else offline."""
    known = REGISTRY[step]
    flag, setting = request.provider(step), getattr(settings, f"{step}_provider")
    if flag != "auto":
        return ProviderChoice(step=step, name=flag, reason=f"chosen with --{step}")
    if setting != "auto":
        if setting not in known:
            names = ", ".join(["auto", *known])
            raise ConfigError(f"SHORTS_{step.upper()}_PROVIDER={setting!r} is not a {step} provider; use one of {names}.")
        return ProviderChoice(step=step, name=setting, reason=f"SHORTS_{step.upper()}_PROVIDER={setting}")
    for name, cls in known.items():
        if cls.needs_key and settings.has_key(cls.env_var):
            return ProviderChoice(step=step, name=name, reason=f"{cls.env_var} is set")
    vendors = [cls.env_var for cls in known.values() if cls.needs_key]
    reason = f"no {' or '.join(vendors)} set" if vendors else "the only one available"
    return ProviderChoice(step=step, name="offline", reason=reason)


def choose_providers(request: ShortRequest, settings: Settings) -> dict[str, ProviderChoice]:
    return {step: choose_provider(step, request, settings) for step in STEPS}


def build_provider(step: str, name: str, settings: Settings) -> Any:
    """An instance of the named provider, configured from settings."""
    factory = FACTORIES.get((step, name))
    return factory(settings) if factory else REGISTRY[step][name]()

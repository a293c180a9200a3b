"""The provider registry: one dict per step, vendors first, offline last."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from pipeline.errors import ConfigError
from pipeline.ledger import CREDITS, USD, Ledger
from pipeline.models import STEPS, ProviderChoice, Script, ShortRequest
from pipeline.providers.offline_clip import OfflineClipMaker
from pipeline.providers.offline_image import OfflineImageMaker
from pipeline.providers.offline_script import OfflineScriptWriter
from pipeline.providers.offline_voice import OfflineNarrator
from pipeline.providers.openai_image import OpenAIImageMaker
from pipeline.providers.openai_script import OpenAIScriptWriter
from pipeline.providers.openai_voice import OpenAINarrator
from pipeline.providers.runware_clip import RunwareClipMaker
from pipeline.providers.runway_clip import RunwayClipMaker
from pipeline.providers.runway_image import RunwayImageMaker
from pipeline.settings import Settings

# step -> {name: provider class}; auto picks the first whose key is set, so offline goes last.
REGISTRY: dict[str, dict[str, type]] = {
    "script": {"openai": OpenAIScriptWriter, "offline": OfflineScriptWriter},
    "image": {"openai": OpenAIImageMaker, "runway": RunwayImageMaker, "offline": OfflineImageMaker},
    "video": {"runway": RunwayClipMaker, "runware": RunwareClipMaker, "offline": OfflineClipMaker},
    "voice": {"openai": OpenAINarrator, "offline": OfflineNarrator},
}

# How each provider is built from settings; offline ones need nothing.
FACTORIES: dict[tuple[str, str], Callable[[Settings], Any]] = {
    ("script", "openai"): OpenAIScriptWriter.from_settings,
    ("image", "openai"): OpenAIImageMaker.from_settings,
    ("voice", "openai"): OpenAINarrator.from_settings,
    ("image", "runway"): RunwayImageMaker.from_settings,
    ("video", "runway"): RunwayClipMaker.from_settings,
    ("video", "runware"): RunwareClipMaker.from_settings,
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


def _estimate(script: Script, choices: dict[str, ProviderChoice], settings: Settings, method: str) -> float:
    total = 0.0
    for step in ("image", "video"):
        estimate = getattr(REGISTRY[step][choices[step].name], method, None)
        total += sum(estimate(scene, settings) for scene in script.scenes) if estimate else 0.0
    return total


def estimate_credits(script: Script, choices: dict[str, ProviderChoice], settings: Settings) -> float:
    """At most what the chosen providers charge in credits for the script's frames and clips (Runway)."""
    return _estimate(script, choices, settings, "estimate_credits")


def estimate_usd(script: Script, choices: dict[str, ProviderChoice], settings: Settings) -> float:
    """At most what the chosen providers charge in dollars for the script's frames and clips (Runware)."""
    return round(_estimate(script, choices, settings, "estimate_usd"), 4)


def check_budget(script: Script, choices: dict[str, ProviderChoice], settings: Settings) -> float:
    """The Short's estimated credits; refuses, before the first paid call, a Short over a per-Short or daily cap
    (in credits, and in dollars for providers that bill in dollars)."""
    estimate = estimate_credits(script, choices, settings)
    _check_caps(estimate, CREDITS, settings.max_credits_per_short, settings.max_credits_per_day, settings)
    _check_caps(estimate_usd(script, choices, settings), USD, settings.max_usd_per_short, settings.max_usd_per_day,
                settings)
    return estimate


def _check_caps(estimate: float, unit: str, per_short: float, per_day: float, settings: Settings) -> None:
    name, amount, total = ("USD", f"${estimate:.2f}", "${:.2f}") if unit == USD else \
        ("CREDITS", f"{estimate:g} credits", "{:g}")
    if estimate > per_short:
        raise ConfigError(f"This Short is estimated at up to {amount}, over SHORTS_MAX_{name}_PER_SHORT={per_short:g}; "
                          "use fewer or shorter scenes, or raise the cap.")
    if estimate:
        spent = Ledger(settings.ledger_file).spent_since(datetime.now(timezone.utc) - timedelta(days=1), unit)
        if spent + estimate > per_day:
            raise ConfigError(f"This Short (up to {amount}) would bring the last 24 hours' spend to "
                              f"{total.format(spent + estimate)}, over SHORTS_MAX_{name}_PER_DAY={per_day:g}; "
                              "raise it or wait.")

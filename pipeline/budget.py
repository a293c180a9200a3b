"""What a Short may cost before anything is bought, and the caps that refuse it before the first paid call.

Each provider prices one scene in the registry (`ProviderSpec.estimate_credits`, `_usd`, `_characters`); this module
adds those up into one `Cost` and holds it against the per-Short and daily caps of each unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pipeline.errors import ConfigError
from pipeline.models import Cost, ProviderChoice, Scene, Script
from pipeline.providers import provider_spec
from pipeline.settings import Settings
from pipeline.state.ledger import CHARACTERS, CREDITS, USD, open_ledger

# Budgets count Runway credits, and 1 credit is $0.01 (what Runway sells them for).
DOLLARS_PER_CREDIT = 0.01
BILLED_STEPS = ("image", "video", "voice")  # the steps whose providers may bill per scene


def estimate_scenes(step: str, provider: str, scenes: Sequence[Scene], settings: Settings) -> Cost:
    """At most what `provider` charges for `step` of these scenes, in every unit it bills in (zero where it says
    nothing)."""
    spec = provider_spec(step, provider)
    amounts = {}
    for unit in Cost.model_fields:
        estimate = getattr(spec, f"estimate_{unit}")
        if estimate:
            amounts[unit] = sum(estimate(scene, settings) for scene in scenes)
    return Cost(
        credits=round(amounts.get(CREDITS, 0.0), 2),
        usd=round(amounts.get(USD, 0.0), 4),
        characters=round(amounts.get(CHARACTERS, 0)),
    )


def estimate_cost(script: Script, choices: dict[str, ProviderChoice], settings: Settings) -> Cost:
    """At most what the chosen providers charge for the script's first frames, clips and speech."""
    return sum((estimate_scenes(step, choices[step].name, script.scenes, settings) for step in BILLED_STEPS), Cost())


def check_budget(script: Script, choices: dict[str, ProviderChoice], settings: Settings) -> Cost:
    """The Short's estimate; refuses, before the first paid call, a Short over a per-Short or daily cap (in credits,
    in dollars for providers that bill in dollars, in characters for a voice billed by them)."""
    estimate = estimate_cost(script, choices, settings)
    caps = {
        CREDITS: (settings.max_credits_per_short, settings.max_credits_per_day),
        USD: (settings.max_usd_per_short, settings.max_usd_per_day),
        CHARACTERS: (settings.max_characters_per_short, settings.max_characters_per_day),
    }
    for unit, (per_short, per_day) in caps.items():
        _check_caps(getattr(estimate, unit), unit, per_short, per_day, settings)
    return estimate


def in_dollars(cost: Cost) -> float:
    """Credits at their price, plus what is billed in dollars (characters are left out: no price is known)."""
    return cost.credits * DOLLARS_PER_CREDIT + cost.usd


def _check_caps(estimate: float, unit: str, per_short: float, per_day: float, settings: Settings) -> None:
    name = unit.upper()
    if estimate > per_short:
        raise ConfigError(
            f"This Short is estimated at up to {Cost.of(estimate, unit)}, over "
            f"SHORTS_MAX_{name}_PER_SHORT={per_short:g}; use fewer or shorter scenes, or raise the cap."
        )
    if estimate:
        spent = open_ledger(settings).spent_since(datetime.now(UTC) - timedelta(days=1), unit)
        if spent + estimate > per_day:
            total = f"{spent + estimate:g}" if unit == CREDITS else str(Cost.of(spent + estimate, unit))
            raise ConfigError(
                f"This Short (up to {Cost.of(estimate, unit)}) would bring the last 24 hours' spend to "
                f"{total}, over SHORTS_MAX_{name}_PER_DAY={per_day:g}; raise it or wait."
            )

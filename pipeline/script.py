"""Step 1: the script."""

from __future__ import annotations

import logging

from pipeline.errors import ProviderError, ShortsError
from pipeline.models import ProviderChoice, ScenePlan, Script, ShortRequest
from pipeline.providers import longest_clip, speaking_pace
from pipeline.providers.base import ScriptWriter
from pipeline.providers.offline.factual import write_factual
from pipeline.script_rules import plan_scenes
from pipeline.settings import Settings
from pipeline.source.models import Source

log = logging.getLogger("shorts")


def plan_script(request: ShortRequest, choices: dict[str, ProviderChoice], settings: Settings) -> ScenePlan:
    """The scenes' seconds and the pace to write them at, for the chosen voice and clip maker: more scenes than the
    request asks for when its scenes would be longer than the clip model's longest clip."""
    return plan_scenes(
        request,
        speaking_pace(request, choices["voice"].name, settings),
        settings.scene_breath,
        longest_clip(choices["video"].name, settings),
    )


def write_script(
    request: ShortRequest, writer: ScriptWriter, plan: ScenePlan | None = None, source: Source | None = None
) -> Script:
    """Have the writer produce the script and check it fits the plan (by default the request's, at reading pace).

    With a `source`, an LLM writer is given its text to keep to, and the offline writer tells the article's facts
    instead of its templates.
    """
    plan = plan or plan_scenes(request)
    try:
        script = _write(request, writer, plan, source)
    except ShortsError as exc:
        raise exc.at("script")
    if len(script.scenes) != len(plan.seconds):
        raise ProviderError(
            f"The {writer.name} script has {len(script.scenes)} scenes where {len(plan.seconds)} were asked for; "
            "rerun it.",
            step="script",
        )
    return script


def _write(request: ShortRequest, writer: ScriptWriter, plan: ScenePlan, source: Source | None) -> Script:
    if source and writer.name == "offline":
        script = write_factual(request, source, plan)
        if script:
            return script
        log.info(
            "  “%s” has too few sentences that fit this Short's scenes, so the script uses the templates", source.title
        )
    elif source and getattr(writer, "reads_source", False):
        return writer.write(request, plan, source=source)
    return writer.write(request, plan)

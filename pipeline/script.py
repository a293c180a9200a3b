"""Step 1: the script."""

from __future__ import annotations

from pipeline.errors import ProviderError, ShortsError
from pipeline.models import Script, ShortRequest
from pipeline.providers.base import ScriptWriter


def write_script(request: ShortRequest, writer: ScriptWriter) -> Script:
    """Have the writer produce the script and check it fits the request."""
    try:
        script = writer.write(request)
    except ShortsError as exc:
        raise exc.at("script")
    if len(script.scenes) != request.scene_count:
        raise ProviderError(
            f"The {writer.name} script has {len(script.scenes)} scenes where {request.scene_count} were asked for; rerun it.",
            step="script",
        )
    return script

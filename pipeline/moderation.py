"""A free check of the script's prompts with the OpenAI moderation endpoint, before any paid image or clip."""

from __future__ import annotations

import logging

import httpx

from pipeline.errors import ConfigError, ProviderError
from pipeline.models import Model, Script
from pipeline.settings import Settings

log = logging.getLogger("shorts")

CHECKED_FIELDS = {
    "narration": "narration",
    "first_frame_prompt": "first-frame prompt",
    "motion_prompt": "motion prompt",
}
BATCH = 32  # inputs per moderation request


class ModerationCheck(Model):
    """What the moderation pre-check did (for the manifest)."""

    checked: int
    model: str | None
    skipped: str | None = None


def moderate_script(script: Script, settings: Settings, *, http_client: httpx.Client | None = None) -> ModerationCheck:
    """Send every scene's narration and visual prompts to the moderation endpoint.

    A flagged text raises ConfigError naming the scene and the categories. The check is skipped (and says
    why) when SHORTS_OPENAI_MODERATION is off or no OPENAI_API_KEY is set.
    """
    if not settings.openai_moderation:
        return ModerationCheck(checked=0, model=None, skipped="SHORTS_OPENAI_MODERATION is off")
    if not settings.has_key("OPENAI_API_KEY"):
        return ModerationCheck(checked=0, model=None, skipped="no OPENAI_API_KEY")
    # Imported only for a check that runs: the openai SDK takes ~0.5 s to import, which keyless runs never need.
    import openai

    from pipeline.providers.openai.client import make_client, vendor_error

    key = settings.openai_api_key
    assert key is not None  # has_key said it is set
    model = settings.openai_moderation_model
    client = make_client(
        key.get_secret_value(),
        settings.openai_base_url,
        http_client,
        settings.openai_timeout,
        settings.openai_max_retries,
    )
    texts = [(scene.index, field, getattr(scene, field)) for scene in script.scenes for field in CHECKED_FIELDS]
    for start in range(0, len(texts), BATCH):
        batch = texts[start : start + BATCH]
        try:
            response = client.moderations.create(model=model, input=[text for _, _, text in batch])
        except openai.NotFoundError as exc:
            raise ConfigError(
                "The OpenAI server has no moderation endpoint (404); set SHORTS_OPENAI_MODERATION=false "
                "to skip the check for this server.",
                step="moderation",
            ) from exc
        except openai.OpenAIError as exc:
            raise vendor_error(exc, "checking the prompts for moderation", model=model).at("moderation") from exc
        if len(response.results) != len(batch):
            raise ProviderError(
                f"The moderation endpoint answered {len(response.results)} results for {len(batch)} texts; rerun.",
                retry_safe=True,
                step="moderation",
            )
        for (index, field, _), result in zip(batch, response.results, strict=False):
            if result.flagged:
                raise ConfigError(
                    f"OpenAI moderation flagged the {CHECKED_FIELDS[field]} "
                    f"({', '.join(_categories(result)) or 'no category given'}); change the topic, or "
                    "rerun with --fresh for a new script.",
                    step="moderation",
                    scene=index,
                )
    log.info("  moderation: %d prompts passed (%s)", len(texts), model)
    return ModerationCheck(checked=len(texts), model=model)


def _categories(result: object) -> list[str]:
    categories = getattr(result, "categories", None)
    if categories is None:
        return []
    flags = categories.model_dump(by_alias=True) if hasattr(categories, "model_dump") else dict(categories)
    return sorted(name for name, hit in flags.items() if hit is True)

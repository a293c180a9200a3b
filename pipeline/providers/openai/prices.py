"""What an OpenAI first frame costs, kept apart from the SDK so that pricing a Short imports none of it."""

from __future__ import annotations

from pipeline.errors import ConfigError
from pipeline.models import Scene
from pipeline.settings import OpenAISettings, Settings

# Dollars per image at the portrait size we ask for (pipeline.providers.openai.image.portrait_size), by model and
# quality, from OpenAI's pricing page as of December 2026 and rounded up; `auto` may pick high, so it is priced so.
# gpt-image-2 bills by output tokens: 1152x2048 is 1.5 times the pixels of 1024x1536 (about $0.07 medium and $0.19
# high there).
IMAGE_USD: dict[str, dict[str, float]] = {
    "gpt-image-2": {"low": 0.03, "medium": 0.11, "high": 0.29},
    "gpt-image-1.5": {"low": 0.013, "medium": 0.05, "high": 0.2},
    "gpt-image-1": {"low": 0.016, "medium": 0.063, "high": 0.25},
    "gpt-image-1-mini": {"low": 0.006, "medium": 0.015, "high": 0.052},
}


def image_usd(settings: OpenAISettings) -> float:
    """Dollars one first frame costs with the configured model and quality: SHORTS_OPENAI_IMAGE_USD, else the list
    price; a model with no known price is refused before anything is drawn."""
    if settings.openai_image_usd is not None:
        return settings.openai_image_usd
    prices = IMAGE_USD.get(settings.openai_image_model)
    if prices is None:
        raise ConfigError(
            f"No price is known for the image model {settings.openai_image_model}; set "
            "SHORTS_OPENAI_IMAGE_USD to what one first frame costs (0 on a free compatible server)."
        )
    quality = settings.openai_image_quality
    return prices.get(quality, max(prices.values()))


def estimate_image_usd(scene: Scene, settings: Settings) -> float:
    """At most what this scene's first frame costs."""
    return image_usd(settings)

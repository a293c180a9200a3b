"""First frames from an OpenAI image model, asked for at a 9:16 size it accepts and fitted to the video format."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from pathlib import Path
from typing import ClassVar, TypedDict

import httpx
import openai
from PIL import Image, ImageOps

from pipeline.errors import ProviderError
from pipeline.models import Cost, ShortRequest, VideoFormat
from pipeline.prompts import fill
from pipeline.providers.base import FrameOrder, ImageMaker, Made, Shared
from pipeline.providers.openai.client import (
    MediaConnection,
    check_model,
    paid_call,
    paid_options,
    vendor_error,
)
from pipeline.providers.openai.prices import image_usd
from pipeline.providers.paid.download import timeouts
from pipeline.providers.paid.send import billed, ledger_entry
from pipeline.settings import OpenAISettings, RunwareSettings, default
from pipeline.state.ledger import USD, Ledger

# gpt-image-2 and its successors take any WxH with both sides divisible by 16 and a ratio within 1:3..3:1, so a true
# 9:16; the older GPT image models take fixed sizes only, of which 1024x1536 (2:3) is the tallest.
FREE_SIZE_MODELS = ("gpt-image-2",)
PORTRAIT_9_16 = "1152x2048"
PORTRAIT_FIXED = "1024x1536"


class ImageOptions(TypedDict, total=False):
    """What an image request sends only when it is not the model's default."""

    quality: str


def portrait_size(model: str) -> str:
    """The tallest size `model` accepts closest to 9:16: exactly 9:16 where it takes free sizes."""
    return PORTRAIT_9_16 if model.startswith(FREE_SIZE_MODELS) else PORTRAIT_FIXED


class OpenAIImageSettings(OpenAISettings, RunwareSettings):
    """OpenAI's section, and Runware's for the dollar caps first frames count against too."""


class OpenAIImageMaker(ImageMaker):
    """Draws a scene's first frame with `images.generate`; base64 or URL answers both work.

    An image is billed once made, so it is never sent twice blind: the wait is minutes, and only an answer that proves
    nothing was made (a 429, a connection that never opened) is sent again, up to `max_retries` times.
    """

    name: ClassVar[str] = "openai"
    section: ClassVar[type[OpenAIImageSettings]] = OpenAIImageSettings

    def __init__(
        self,
        connection: MediaConnection,
        *,
        model: str = default("openai_image_model"),
        size: str | None = None,
        quality: str = default("openai_image_quality"),
        usd: float = 0.0,
        ledger: Ledger | None = None,
        daily_cap: float = float("inf"),
    ) -> None:
        self.model = model
        self.size = size or portrait_size(model)
        self.quality = quality
        self.usd = usd  # what one image costs: recorded in the ledger, counted against the dollar caps
        self.ledger = ledger
        self.daily_cap = daily_cap
        self._client = connection.client(paid=True)
        self._tries = connection.tries
        self._http = connection.http_client
        self._timeout = connection.timeout

    @classmethod
    def from_settings(
        cls, settings: OpenAIImageSettings, shared: Shared, http_client: httpx.Client | None = None
    ) -> OpenAIImageMaker:
        return cls(
            paid_options(settings, "--image openai", http_client),
            model=settings.openai_image_model,
            size=settings.openai_image_size,
            quality=settings.openai_image_quality,
            usd=image_usd(settings),
            ledger=shared.ledger(),
            daily_cap=settings.max_usd_per_day,
        )

    def check(self, request: ShortRequest) -> None:
        check_model(self._client, self.model, "SHORTS_OPENAI_IMAGE_MODEL", "--image offline")

    def make_image(self, order: FrameOrder, dest: Path) -> Made:
        scene, style, fmt, seed = order.scene, order.style, order.fmt, order.seed
        # OpenAI image models take no seed; the store's key still carries it, so a cached frame is reused.
        # A `reference` frame is not used yet: matching its look would need images.edit.
        options: ImageOptions = {"quality": self.quality} if self.quality != "auto" else {}
        prompt = fill("first_frame.txt", prompt=scene.first_frame_prompt, style=style)
        key = hashlib.sha256(f"{self.model}\n{self.size}\n{self.quality}\n{seed}\n{prompt}".encode()).hexdigest()[:32]
        with ledger_entry(
            self.ledger,
            key=key,
            provider=self.name,
            kind="first frame",
            model=self.model,
            estimate=self.usd,
            daily_cap=self.daily_cap,
            unit=USD,
        ):
            self._draw(prompt, options, fmt, dest)
        return Made(cost=Cost(usd=self.usd))

    def _draw(self, prompt: str, options: ImageOptions, fmt: VideoFormat, dest: Path) -> None:
        try:
            result = paid_call(
                # The SDK lists OpenAI's qualities; SHORTS_OPENAI_IMAGE_QUALITY passes a compatible server's through.
                lambda: self._client.images.generate(  # type: ignore[call-overload]
                    model=self.model, prompt=prompt, size=self.size, n=1, **options
                ),
                self._tries,
            )
        except openai.OpenAIError as exc:
            raise vendor_error(exc, "drawing the first frame", model=self.model, paid=True) from exc
        with billed("OpenAI", "the first frame"):
            image = result.data[0] if result.data else None
            if image is None or not (image.b64_json or image.url):
                raise ProviderError(f"The {self.model} answer held no image; rerun, or use --image offline.")
            data = self._decode(image.b64_json) if image.b64_json else self._download(image.url)
            try:
                with Image.open(io.BytesIO(data)) as picture:
                    frame = ImageOps.fit(picture.convert("RGB"), fmt.size, Image.Resampling.LANCZOS)
            except OSError as exc:
                raise ProviderError(f"The {self.model} answer is not an image Pillow can read; rerun.") from exc
            frame.save(dest, format="PNG")

    def _decode(self, b64: str) -> bytes:
        try:
            return base64.b64decode(b64, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise ProviderError(f"The {self.model} answer held broken base64 image data; rerun.") from exc

    def _download(self, url: str) -> bytes:
        limits = timeouts(self._timeout)  # an unreachable file host fails in seconds, not after the media timeout
        try:
            if self._http is not None:
                response = self._http.get(url, timeout=limits, follow_redirects=True)
            else:
                response = httpx.get(url, timeout=limits, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            # The URL may carry a signature; name only the failure.
            raise ProviderError(
                f"The {self.model} image was made and billed, but downloading it failed "
                f"({type(exc).__name__}); rerun when a second charge is acceptable.",
                maybe_billed=True,
            ) from exc
        return response.content

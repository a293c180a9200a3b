"""First frames from an OpenAI image model: portrait size, centre-cropped to the video format."""

from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path
from typing import ClassVar

import httpx
import openai
from PIL import Image, ImageOps

from pipeline.errors import ProviderError
from pipeline.models import Scene, VideoFormat
from pipeline.prompts import fill
from pipeline.providers.openai_client import client_options, make_client, vendor_error
from pipeline.settings import Settings


class OpenAIImageMaker:
    """Draws a scene's first frame with `images.generate`; base64 or URL answers both work."""

    name: ClassVar[str] = "openai"

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None,
                 http_client: httpx.Client | None = None, model: str = "gpt-image-2", size: str = "1024x1536",
                 quality: str = "medium", timeout: float = 120.0, max_retries: int = 3) -> None:
        self.model = model
        self.size = size
        self.quality = quality
        self._client = make_client(api_key, base_url, http_client, timeout, max_retries)
        self._http = http_client
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings, http_client: httpx.Client | None = None) -> OpenAIImageMaker:
        return cls(**client_options(settings, "--image openai"), http_client=http_client,
                   model=settings.openai_image_model, size=settings.openai_image_size,
                   quality=settings.openai_image_quality)

    def make_image(self, scene: Scene, style: str, fmt: VideoFormat, seed: int, dest: Path,
                   reference: Path | None = None) -> None:
        # OpenAI image models take no seed; the store's key still carries it, so a cached frame is reused.
        # A `reference` frame is not used yet: matching its look would need images.edit.
        options = {"quality": self.quality} if self.quality != "auto" else {}
        prompt = fill("first_frame.txt", prompt=scene.first_frame_prompt, style=style)
        try:
            result = self._client.images.generate(model=self.model, prompt=prompt, size=self.size, n=1, **options)
        except openai.OpenAIError as exc:
            raise vendor_error(exc, "drawing the first frame", model=self.model) from exc
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
        try:
            if self._http is not None:
                response = self._http.get(url, timeout=self._timeout, follow_redirects=True)
            else:
                response = httpx.get(url, timeout=self._timeout, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            # The URL may carry a signature; name only the failure.
            raise ProviderError(f"Downloading the {self.model} image failed ({type(exc).__name__}); rerun.",
                                retry_safe=True) from exc
        return response.content

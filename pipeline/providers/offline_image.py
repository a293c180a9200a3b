"""First frames drawn with Pillow: colours and composition follow from the prompt's hash."""

from __future__ import annotations

import colorsys
import hashlib
import random
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from pipeline.models import Scene, VideoFormat


def _colour(rng: random.Random, hue: float, light: float, sat: float = 0.75) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb((hue + rng.uniform(-0.04, 0.04)) % 1, light, sat)
    return int(r * 255), int(g * 255), int(b * 255)


def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    w, h = size
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    rows = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return Image.fromarray(np.repeat(rows, w, axis=1).astype(np.uint8))


def draw_frame(prompt: str, fmt: VideoFormat, seed: int) -> Image.Image:
    """A layered, deterministic picture: sky gradient, sun or moon, hills, and floating shapes."""
    rng = random.Random(hashlib.sha256(f"{seed}|{prompt}".encode()).digest())
    w, h = fmt.size
    hue = rng.random()
    image = _gradient(fmt.size, _colour(rng, hue, 0.25), _colour(rng, hue + 0.12, 0.6))
    layer = Image.new("RGBA", fmt.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)

    cx, cy, r = rng.uniform(0.2, 0.8) * w, rng.uniform(0.15, 0.4) * h, rng.uniform(0.12, 0.25) * w
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*_colour(rng, hue + 0.5, 0.75), 235))

    for band in range(rng.randint(2, 4)):
        base = h * (0.55 + 0.12 * band)
        points = [(0, h), (0, base)]
        for x in np.linspace(0, w, rng.randint(4, 9)):
            points.append((float(x), base - rng.uniform(0, 0.18) * h))
        points += [(w, base), (w, h)]
        draw.polygon(points, fill=(*_colour(rng, hue + 0.3 + 0.05 * band, 0.45 - 0.1 * band), 230))

    for _ in range(rng.randint(5, 12)):
        x, y, s = rng.uniform(0, w), rng.uniform(0, 0.7 * h), rng.uniform(0.02, 0.09) * w
        shape = (x - s, y - s, x + s, y + s)
        fill = (*_colour(rng, rng.random(), 0.7, 0.6), rng.randint(60, 160))
        draw.ellipse(shape, fill=fill) if rng.random() < 0.6 else draw.rectangle(shape, fill=fill)

    layer = layer.filter(ImageFilter.GaussianBlur(radius=max(1, w // 360)))
    image.paste(layer, (0, 0), layer)
    return image


class OfflineImageMaker:
    """Draws first frames locally; no key, no network."""

    name: ClassVar[str] = "offline"
    model = "pillow-landscape-v1"

    def make_image(self, scene: Scene, style: str, fmt: VideoFormat, seed: int, dest: Path) -> None:
        draw_frame(f"{style}|{scene.first_frame_prompt}", fmt, seed).save(dest, format="PNG")

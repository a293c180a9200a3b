"""The storyboard: every first frame in scene order on one sheet, with what each scene says and what the clips cost.

It is made after the script and first frames (cents) and before the clips (dollars), so a person can look before
paying. The facts on the sheet come from a `Storyboard` model, which the Prefect artifact and the CLI also print.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import Any, Literal

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin
from pydantic import Field, model_validator

from pipeline.budget import DOLLARS_PER_CREDIT, estimate_scenes, in_dollars
from pipeline.footage import footage_line
from pipeline.media.fonts import FONT, load_font
from pipeline.models import Cost, Footage, FrameAsset, Model, ProviderChoice, Script, costs_from
from pipeline.providers import provider_spec
from pipeline.settings import Settings
from pipeline.state.store import atomic_path, content_key

FIRST_WORDS = 9  # of each scene's narration on its cell
SHEET_DESIGN = "sheet-v1"  # change it with the drawing, so sheets drawn before are drawn again
SHEET_KEY = "shorts-storyboard"  # the PNG text chunk naming what a sheet shows

# Sheet geometry in pixels, fixed whatever the video size, so a 144x256 test frame and a 720x1280 one give the
# same readable sheet.
THUMB_WIDTH = 270
GAP = 24
MAX_COLUMNS = 4
MIN_WIDTH = 960
LABEL_PX, WORDS_PX, TITLE_PX, FACTS_PX = 24, 19, 34, 22
WORD_LINES = 3
PREVIEW_WIDTH = 640  # of the copy shown inline in the Prefect UI (about 60-120 KB)
BACKGROUND, INK, MUTED, ACCENT = (17, 17, 20), (245, 245, 245), (180, 180, 188), (255, 214, 10)


class StoryboardScene(Model):
    """One cell: a scene's first frame and what is said over it."""

    index: int
    seconds: float
    words: str  # the first words of the narration
    frame: Path
    take: int = 1
    clip: Cost = Field(default_factory=Cost)  # at most, with the chosen clip provider

    @model_validator(mode="before")
    @classmethod
    def _old_costs(cls, data: Any) -> Any:
        return costs_from(data, "clip", clip_credits="credits", clip_usd="usd")


class Storyboard(Model):
    """What a person approves before the clips are bought: the frames, the scenes and the estimate."""

    title: str
    seconds: float
    scenes: list[StoryboardScene]
    clip_provider: str
    clip_model: str
    estimate: Cost  # at most, for first frames, clips and narration together
    # At most, for the speech (part of `estimate`): a paid voice speaks only once the storyboard is approved.
    narration: Cost = Field(default_factory=Cost)
    footage: str | None = None  # where stock or own footage comes from, and whom it credits
    path: Path | None = None  # storyboard.png, once written

    @model_validator(mode="before")
    @classmethod
    def _old_costs(cls, data: Any) -> Any:
        # An older version wrote each unit apart, and the speech's credits alone (its characters were the estimate's).
        if not isinstance(data, dict) or "estimate_credits" not in data:
            return data
        data = dict(data)
        estimate = Cost(
            credits=data.pop("estimate_credits"),
            usd=data.pop("estimate_usd", 0.0),
            characters=data.pop("estimate_characters", 0),
        )
        narration = Cost(credits=data.pop("narration_credits", 0.0), characters=estimate.characters)
        return data | {"estimate": estimate, "narration": narration}

    @property
    def clips(self) -> Cost:
        """At most, for every scene's clip."""
        return sum((s.clip for s in self.scenes), Cost())

    @property
    def estimate_dollars(self) -> float:
        """Everything in dollars: credits at their price, plus what is billed in dollars."""
        return in_dollars(self.estimate)

    @property
    def estimate_all_credits(self) -> float:
        """Everything in credits, dollar-billed steps at the credit's price."""
        return round(self.estimate_dollars / DOLLARS_PER_CREDIT, 2)

    def cost_line(self) -> str:
        """The estimate in one line: 'up to 165 credits ($1.65): 150 credits for 6 clips, 15 for first frames'."""
        estimate, clips, narration = self.estimate, self.clips, self.narration
        frames = Cost(
            credits=max(0.0, estimate.credits - clips.credits - narration.credits),
            usd=max(0.0, estimate.usd - clips.usd),
        )
        total = Cost(credits=estimate.credits, usd=estimate.usd)  # the speech's characters are said after
        in_dollars = f" (${self.estimate_dollars:.2f})" if estimate.credits or not estimate.usd else ""
        speech = f"; narration up to {narration}" if narration else ""
        return (
            f"up to {total}{in_dollars}: {clips} for {_count(len(self.scenes), 'clip')}, {frames} for first "
            f"frames{speech}"
        )


class Review(Model):
    """Whether the clips were approved, by whom, and what they said."""

    approved: bool
    by: Literal["person", "rule", "nobody"]
    note: str = ""


def plan_storyboard(
    script: Script,
    frames: list[FrameAsset],
    choices: dict[str, ProviderChoice],
    settings: Settings,
    footage: list[Footage | None] | None = None,
) -> Storyboard:
    """The storyboard's facts: scenes in order with their frames, the clip provider and model, the estimate, and
    the footage picked for the clips (stock or your own)."""
    clip_provider = choices["video"].name
    by_scene = {frame.scene: frame for frame in frames}
    scenes = [
        StoryboardScene(
            index=scene.index,
            seconds=scene.seconds,
            words=first_words(scene.narration),
            frame=by_scene[scene.index].path,
            take=by_scene[scene.index].take,
            clip=estimate_scenes("video", clip_provider, [scene], settings),
        )
        for scene in script.scenes
    ]
    first_frames = estimate_scenes("image", choices["image"].name, script.scenes, settings)
    narration = estimate_scenes("voice", choices["voice"].name, script.scenes, settings)
    return Storyboard(
        title=script.title,
        seconds=script.seconds,
        scenes=scenes,
        clip_provider=clip_provider,
        clip_model=provider_spec("video", clip_provider).model(settings),
        estimate=first_frames + sum((s.clip for s in scenes), Cost()) + narration,
        narration=narration,
        footage=footage_line(footage) if footage is not None else None,
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def first_words(text: str, count: int = FIRST_WORDS) -> str:
    """The first `count` words, with an ellipsis when there are more."""
    words = text.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def grid(count: int) -> tuple[int, int]:
    """(columns, rows) for `count` cells: at most four a row, rows as even as they can be."""
    rows = math.ceil(count / MAX_COLUMNS)
    return math.ceil(count / rows), rows


def cell_boxes(count: int, frame_size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Where each scene's frame goes on the sheet, (left, top, right, bottom), in scene order."""
    columns, _ = grid(count)
    thumb_h = round(THUMB_WIDTH * frame_size[1] / frame_size[0])
    width = sheet_size(count, frame_size)[0]
    left0 = (width - (columns * THUMB_WIDTH + (columns - 1) * GAP)) // 2
    boxes = []
    for i in range(count):
        row, column = divmod(i, columns)
        left, top = left0 + column * (THUMB_WIDTH + GAP), GAP + row * (thumb_h + _label_height() + GAP)
        boxes.append((left, top, left + THUMB_WIDTH, top + thumb_h))
    return boxes


def sheet_size(count: int, frame_size: tuple[int, int]) -> tuple[int, int]:
    """The storyboard's size in pixels for `count` frames of `frame_size`."""
    columns, rows = grid(count)
    thumb_h = round(THUMB_WIDTH * frame_size[1] / frame_size[0])
    width = max(MIN_WIDTH, columns * THUMB_WIDTH + (columns + 1) * GAP)
    return width, GAP + rows * (thumb_h + _label_height() + GAP) + _footer_height()


def footer_lines(board: Storyboard) -> list[str]:
    """The footer's text: the title, then the length and clip provider, then the estimate, then any footage."""
    return [
        board.title,
        f"{board.seconds:g} s in {_count(len(board.scenes), 'scene')} · clips by {board.clip_provider} "
        f"{board.clip_model}",
        f"Estimate: {board.cost_line()}",
        *([board.footage] if board.footage else []),
    ]


def write_storyboard(board: Storyboard, dest: Path) -> Storyboard:
    """Draw the sheet to `dest` (PNG): the frames in a grid, each labelled, and the footer; returns it with `path`.
    A sheet already there of the same board (its key is in the PNG) is kept: a rerun need not draw it again."""
    drawn = board.model_copy(update={"path": dest})
    key = content_key("storyboard", design=SHEET_DESIGN, board=_as_keyed(board))  # frames are content-addressed paths
    if _sheet_key(dest) == key:
        return drawn
    with Image.open(board.scenes[0].frame) as first:
        frame_size = first.size
    sheet = Image.new("RGB", sheet_size(len(board.scenes), frame_size), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    label, words = load_font(FONT, LABEL_PX), load_font(FONT, WORDS_PX)
    for scene, box in zip(board.scenes, cell_boxes(len(board.scenes), frame_size), strict=False):
        with Image.open(scene.frame) as frame:
            sheet.paste(
                frame.convert("RGB").resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.LANCZOS), box[:2]
            )
        take = f" · take {scene.take}" if scene.take > 1 else ""
        draw.text((box[0], box[3] + 8), f"Scene {scene.index} · {scene.seconds:g} s{take}", font=label, fill=ACCENT)
        y = box[3] + 8 + LABEL_PX + 8
        for line in _wrap(scene.words, words, THUMB_WIDTH, WORD_LINES):
            draw.text((box[0], y), line, font=words, fill=INK)
            y += round(WORDS_PX * 1.3)
    _draw_footer(draw, board, sheet.size)
    info = PngImagePlugin.PngInfo()
    info.add_text(SHEET_KEY, key)
    with atomic_path(dest) as tmp:
        # Level 1: optimize=True took 2.3 s of every new sheet to save a fifth of 1 MB.
        sheet.save(tmp, format="PNG", compress_level=1, pnginfo=info)
    return drawn


def _as_keyed(board: Storyboard) -> dict[str, Any]:
    """The board in the shape its sheet's key has always hashed (each unit of a cost its own field), so a sheet drawn
    before costs were one value is still found."""
    data = board.model_dump(mode="json", exclude={"scenes", "estimate", "narration"})
    data["scenes"] = [
        scene.model_dump(mode="json", exclude={"clip"})
        | {"clip_credits": scene.clip.credits, "clip_usd": scene.clip.usd}
        for scene in board.scenes
    ]
    estimate = board.estimate
    return data | {
        "estimate_credits": estimate.credits,
        "estimate_usd": estimate.usd,
        "estimate_characters": estimate.characters,
        "narration_credits": board.narration.credits,
    }


def _sheet_key(path: Path) -> str | None:
    """The key a sheet was drawn for (read from the PNG's header, not its pixels); None for no readable sheet."""
    try:
        with Image.open(path) as sheet:
            return getattr(sheet, "text", {}).get(SHEET_KEY)
    except (OSError, ValueError):
        return None


def preview_uri(path: Path, width: int = PREVIEW_WIDTH) -> str:
    """The sheet as a small JPEG data URI: the Prefect UI shows it inline, where a file path would not open."""
    with Image.open(path) as sheet:
        small = sheet.convert("RGB")
    small.thumbnail((width, 10 * width), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=80, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _draw_footer(draw: ImageDraw.ImageDraw, board: Storyboard, size: tuple[int, int]) -> None:
    top = size[1] - _footer_height()
    draw.line((GAP, top, size[0] - GAP, top), fill=MUTED, width=2)
    title, facts = load_font(FONT, TITLE_PX), load_font(FONT, FACTS_PX)
    lines = footer_lines(board)
    y = top + GAP
    for line in _wrap(lines[0], title, size[0] - 2 * GAP, 2):
        draw.text((GAP, y), line, font=title, fill=INK)
        y += round(TITLE_PX * 1.3)
    for line in lines[1:]:
        for part in _wrap(line, facts, size[0] - 2 * GAP, 2):
            draw.text((GAP, y), part, font=facts, fill=ACCENT if line.startswith("Estimate") else MUTED)
            y += round(FACTS_PX * 1.4)


def _label_height() -> int:
    return 8 + LABEL_PX + 8 + WORD_LINES * round(WORDS_PX * 1.3)


def _footer_height() -> int:
    # A title of up to two lines and three facts lines (the last for footage) of up to two lines each.
    return 2 * GAP + 2 * round(TITLE_PX * 1.3) + 6 * round(FACTS_PX * 1.4)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float, max_lines: int) -> list[str]:
    """At most `max_lines` lines of `text`, each no wider than `width`; an ellipsis ends text that did not fit."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(_fit(word, font, width))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(lines[-1] + " …", font, width)
    return lines


def _fit(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """`text`, cut short with an ellipsis if it is wider than `width`."""
    while font.getlength(text) > width and len(text) > 1:
        text = text[:-2].rstrip() + "…"
    return text

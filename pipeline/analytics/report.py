"""The stats, shown: a table (text for the terminal, Markdown for Prefect) and a PNG chart of retention at 3 s and
average % viewed per Short, newest last, with the retention curves of the best and the worst. YouTube's numbers
are labelled "YouTube"; ours are labelled "ours"."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from pipeline.analytics.models import AnalyticsNumbers, ShortStats, StatsReport
from pipeline.media.fonts import FONT, load_font

COLUMNS = (
    "title",
    "age",
    "YouTube views",
    "YouTube engaged views",
    "YouTube avg % viewed",
    "YouTube retention @3s",
    "YouTube subs gained",
    "Studio viewed %",
    "ours: hold score",
    "topic",
    "hook",
    "length",
    "providers",
    "cost",
)
LEGEND = (
    "YouTube = YouTube's own numbers (views: Data API, fresh; the rest: YouTube Analytics over the Short's "
    "first days, 2-3 days late). Studio = a YouTube Studio export. ours = shorts' own score, not YouTube's: "
    "the mean of retention at 3 s and engaged views / views, 0-100."
)
WIDE = 24  # characters of a text column before it is cut
SIZE = (960, 720)
BACKGROUND, INK, MUTED = (255, 255, 255), (20, 20, 30), (140, 140, 150)
RETENTION, VIEWED, BEST, WORST = (33, 113, 181), (253, 141, 60), (49, 163, 84), (215, 48, 39)


def _pct(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "–"


def _num(value: float | int | None) -> str:
    return f"{value:,}" if value is not None else "–"


def _cut(text: str, limit: int = WIDE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def row_cells(row: ShortStats) -> list[str]:
    """One Short's cells, in COLUMNS order."""
    found, studio, short = row.analytics, row.studio, row.short
    return [
        row.title,
        f"{row.age_days:.0f} d" if row.age_days is not None else "–",
        _num(row.youtube.views if row.youtube else None),
        _num(found.engaged_views if found else None),
        f"{found.average_view_percentage:.0f}%" if found else "–",
        _pct(found.retention_3s if found else None),
        _num(found.subscribers_gained if found else None),
        f"{studio.viewed_percent:.0f}%" if studio and studio.viewed_percent is not None else "–",
        f"{row.ours.hold_score:.0f}" if row.ours.hold_score is not None else "–",
        short.topic or "–",
        short.hook or "–",
        f"{short.seconds:.0f} s" if short.seconds else "–",
        ", ".join(f"{step} {name}" for step, name in short.providers.items()) or "–",
        short.cost or "–",
    ]


def text_table(report: StatsReport) -> str:
    """The table for a terminal: fixed-width columns, long text cut, the legend and the learnings under it."""
    cells = [[_cut(cell) for cell in row_cells(row)] for row in report.rows]
    widths = [max(len(head), *(len(r[i]) for r in cells)) for i, head in enumerate(COLUMNS)]
    lines = ["  ".join(head.ljust(w) for head, w in zip(COLUMNS, widths, strict=False)).rstrip()]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)).rstrip() for r in cells]
    lines += ["", LEGEND]
    if report.learnings.note:
        lines += ["", report.learnings.note]
    return "\n".join(lines)


def draw_chart(report: StatsReport) -> bytes:
    """A PNG: retention at 3 s and average % viewed per Short (newest last), then the best and worst curves."""
    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    title, small = load_font(FONT, 22), load_font(FONT, 14)
    draw.text((20, 12), "YouTube's numbers per Short, oldest to newest", font=title, fill=INK)
    _bars(draw, [(r.title, r.analytics) for r in report.rows if r.analytics], (60, 70, SIZE[0] - 20, 350), small)
    draw.text((20, 380), "YouTube retention curves: best and worst Short (by retention at 3 s)", font=title, fill=INK)
    _curves(
        draw,
        [(r.title, r.analytics) for r in report.rows if r.analytics and r.analytics.curve],
        (60, 440, SIZE[0] - 20, SIZE[1] - 30),
        small,
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _bars(
    draw: ImageDraw.ImageDraw,
    rows: list[tuple[str, AnalyticsNumbers]],
    box: tuple[int, int, int, int],
    font: ImageFont.FreeTypeFont,
) -> None:
    """A pair of bars per Short (its title and numbers)."""
    left, top, right, bottom = box
    _key(draw, (left, top - 20), "retention at 3 s", RETENTION, font)
    _key(draw, (left + 170, top - 20), "average % viewed", VIEWED, font)
    top_value = max(1.0, *(min(numbers.retention_3s or 0, 2.0) for _, numbers in rows)) if rows else 1.0
    _grid(draw, box, top_value, font)
    if not rows:
        draw.text((left + 10, (top + bottom) // 2), "No YouTube Analytics numbers yet.", font=font, fill=MUTED)
        return
    slot = (right - left) / len(rows)
    bar = max(2, int(slot * 0.35))
    for i, (title, numbers) in enumerate(rows):
        x = int(left + i * slot + slot * 0.15)
        for offset, value, colour in (
            (0, numbers.retention_3s or 0, RETENTION),
            (bar, numbers.average_view_percentage / 100, VIEWED),
        ):
            height = int((bottom - top) * min(value, top_value) / top_value)
            draw.rectangle((x + offset, bottom - height, x + offset + bar - 1, bottom), fill=colour)
        if slot >= 60:
            draw.text((x, bottom + 4), _cut(title, max(4, int(slot / 8))), font=font, fill=INK)


def _curves(
    draw: ImageDraw.ImageDraw,
    rows: list[tuple[str, AnalyticsNumbers]],
    box: tuple[int, int, int, int],
    font: ImageFont.FreeTypeFont,
) -> None:
    """The retention curves of the best and the worst Short (its title and numbers)."""
    left, top, right, bottom = box
    ranked = sorted(rows, key=lambda r: r[1].retention_3s or 0)
    picks = [(ranked[-1], BEST, "best")] + ([(ranked[0], WORST, "worst")] if len(ranked) > 1 else []) if rows else []
    peak = max(1.0, *(y for (_, numbers), _, _ in picks for _, y in numbers.curve)) if picks else 1.0
    _grid(draw, box, peak, font)
    draw.text((left, bottom + 2), "start", font=font, fill=MUTED)
    draw.text((right - 30, bottom + 2), "end", font=font, fill=MUTED)
    if not rows:
        draw.text((left + 10, (top + bottom) // 2), "No retention curves yet.", font=font, fill=MUTED)
        return
    for n, ((title, numbers), colour, name) in enumerate(picks):
        points = [(left + x * (right - left), bottom - y / peak * (bottom - top)) for x, y in numbers.curve]
        if len(points) > 1:
            draw.line(points, fill=colour, width=3)
        draw.text((right - 320, top + 4 + 20 * n), f"{name}: {_cut(title, 30)}", font=font, fill=colour)


def _key(
    draw: ImageDraw.ImageDraw,
    at: tuple[int, int],
    label: str,
    colour: tuple[int, int, int],
    font: ImageFont.FreeTypeFont,
) -> None:
    x, y = at
    draw.rectangle((x, y + 3, x + 12, y + 15), fill=colour)
    draw.text((x + 18, y), label, font=font, fill=colour)


def _grid(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], top_value: float, font: ImageFont.FreeTypeFont
) -> None:
    """Lines at every quarter of 100% up to `top_value`, labelled on the left."""
    left, top, right, bottom = box
    steps = int(top_value * 4 + 1e-9)
    for step in range(steps + 1):
        y = bottom - (bottom - top) * (step / 4) / top_value
        draw.line((left, y, right, y), fill=(225, 225, 230) if step else MUTED)
        draw.text((left - 38, y - 8), f"{step * 25}%", font=font, fill=MUTED)

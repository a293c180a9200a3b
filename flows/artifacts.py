"""What a run leaves on its Prefect page: the script, what it cost, and where the Short is.

Keys are built from the topic's slug (lowercase letters, digits and dashes, as Prefect requires), so each topic's
artifacts form one history on the Artifacts page. A failure to report never fails the Short itself.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, ConfigDict, Field

from pipeline import (
    STATS_COLUMNS,
    STATS_LEGEND,
    Cost,
    Manifest,
    StatsReport,
    Storyboard,
    draw_chart,
    preview_uri,
    row_cells,
    slug,
)

log = logging.getLogger("shorts")


class DailyRow(BaseModel):
    """One topic of a daily run, as the summary table shows it."""

    model_config = ConfigDict(frozen=True)

    topic: str
    status: str  # made, failed, or not approved (at review)
    seconds: float
    cost: Cost = Field(default_factory=Cost)
    link: str = ""
    reason: str = ""
    instagram: str = ""  # each platform's outcome when the Short was posted there: "posted <link>", "drafted", ...
    facebook: str = ""
    tiktok: str = ""

    def cells(self) -> dict[str, object]:
        """The row as the summary table shows it: a column per unit of the cost."""
        row = self.model_dump()
        cost = row.pop("cost")
        return {name: row[name] for name in ("topic", "status", "seconds")} | cost | row


def record_run(manifest: Manifest, video: Path, video_url: str | None = None) -> None:
    """Leave the script (markdown), a cost table and a link to the video on the flow run: a time-limited link into
    object storage when there is one (it opens on any machine), else the file on the machine that ran it."""
    key = slug(manifest.request.topic)
    try:
        create_markdown_artifact(
            script_markdown(manifest), key=f"script-{key}", description=f"Script of {_text(manifest.request.topic)}"
        )
        create_table_artifact(cost_table(manifest), key=f"cost-{key}", description="Credits per scene.")
        if video_url:
            create_link_artifact(
                video_url,
                link_text=f"{_text(manifest.script.title)} (video)",
                key=f"video-{key}",
                description="The finished Short in object storage; the link works for 7 days.",
            )
        else:
            create_link_artifact(
                video.resolve().as_uri(),
                link_text=_text(str(video)),
                key=f"video-{key}",
                description="The finished Short on the machine that ran it.",
            )
    except Exception as exc:  # the Short is made; a report that cannot be saved is only worth a warning
        log.warning("  could not save this run's artifacts (%s: %s)", type(exc).__name__, exc)


def record_storyboard(board: Storyboard, topic: str) -> None:
    """Leave the storyboard's facts as a table, for the person who approves the clips in the UI."""
    try:
        create_markdown_artifact(
            storyboard_markdown(board),
            key=f"storyboard-{slug(topic)}",
            description=f"Storyboard of {_text(topic)}: first frames and the estimate.",
        )
    except Exception as exc:  # as in record_run: a report that cannot be saved is only worth a warning
        log.warning("  could not save the storyboard artifact (%s: %s)", type(exc).__name__, exc)


def storyboard_markdown(board: Storyboard) -> str:
    """The storyboard's facts: a row per scene, then the length, clip provider and model, and the estimate."""
    lines = [
        f"# Storyboard: {_text(board.title)}",
        "",
        "| scene | seconds | narration (first words) | clip, at most |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {s.index}{f' (take {s.take})' if s.take > 1 else ''} | {s.seconds:g} | {_text(s.words)} | {s.clip} |"
        for s in board.scenes
    ]
    scenes = f"{len(board.scenes)} scene{'s' if len(board.scenes) != 1 else ''}"
    lines += [
        "",
        f"**{board.seconds:g} s** in {scenes}; clips by **{board.clip_provider} {board.clip_model}**.",
        "",
        f"**Estimate:** {board.cost_line()}.",
    ]
    if board.path and board.path.is_file():
        lines += ["", f"![storyboard]({preview_uri(board.path)})", "", f"The full-size sheet: `{board.path}`"]
    return "\n".join(lines)


def record_daily(rows: Sequence[DailyRow]) -> None:
    """Leave the daily run's summary table: one row per topic, with the reason when it failed."""
    made = sum(row.status == "made" for row in rows)
    failed = [row for row in rows if row.status != "made"]
    lines = [f"{made} of {len(rows)} Shorts made."] + [
        f"{_text(row.topic)} {row.status}: {_text(row.reason)}" for row in failed
    ]
    try:
        create_table_artifact([row.cells() for row in rows], key="daily-shorts", description="\n\n".join(lines))
    except Exception as exc:
        log.warning("  could not save the daily summary (%s: %s)", type(exc).__name__, exc)


def record_stats(report: StatsReport) -> None:
    """Leave the channel's stats on the daily run: the table, the chart and the learnings the run used."""
    try:
        create_markdown_artifact(
            stats_markdown(report, draw_chart(report)),
            key="channel-stats",
            description="What each uploaded Short did on YouTube, and what the channel learns.",
        )
    except Exception as exc:  # as in record_run: the stats are a report, never a reason to fail the run
        log.warning("  could not save the channel's stats (%s: %s)", type(exc).__name__, exc)


def stats_markdown(report: StatsReport, chart: bytes) -> str:
    """The stats table (YouTube's numbers labelled as YouTube's, ours as ours), the chart, then the learnings."""
    lines = ["# The channel on YouTube", "", "| " + " | ".join(STATS_COLUMNS) + " |", "|" + "---|" * len(STATS_COLUMNS)]
    lines += ["| " + " | ".join(_text(cell) for cell in row_cells(row)) + " |" for row in report.rows]
    lines += [
        "",
        f"_{_text(STATS_LEGEND)}_",
        "",
        f"![chart](data:image/png;base64,{base64.b64encode(chart).decode()})",
        "",
        "## Learnings (ours)",
        "",
    ]
    if report.learnings.note:
        lines.append(_text(report.learnings.note))
    else:
        lines.append(
            f"Not enough data yet ({report.learnings.counted} Short(s) with enough days and engaged views); "
            "the prompts and the topic order are unchanged."
        )
    lines += [f"- {_text(note)}" for note in report.notes]
    return "\n".join(lines)


def script_markdown(manifest: Manifest) -> str:
    """The script as a person reads it: title, hook, scenes, then the YouTube description and tags."""
    script = manifest.script
    lines = [
        f"# {_text(script.title)}",
        "",
        f"**Hook:** {_text(script.hook)}",
        "",
        "| scene | seconds | narration | first frame | motion |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {s.index} | {s.seconds:g} | {_text(s.narration)} | {_text(s.first_frame_prompt)} | "
        f"{_text(s.motion_prompt)} |"
        for s in script.scenes
    ]
    lines += ["", "## Description", "", _text(script.description), "", f"**Tags:** {_text(', '.join(script.tags))}"]
    return "\n".join(lines)


def cost_table(manifest: Manifest) -> list[dict[str, object]]:
    """What each scene cost (first frame and clip in credits, clip in dollars, narration in characters), with the
    provider and model of each, and a total row."""
    frames = {frame.scene: frame for frame in manifest.frames}
    voices = {narration.scene: narration for narration in manifest.narrations}
    rows: list[dict[str, object]] = []
    for clip in manifest.clips:
        frame, voice = frames.get(clip.scene), voices.get(clip.scene)
        rows.append(
            {
                "scene": clip.scene,
                "frame": f"{frame.provider} {frame.model}" if frame else "",
                "frame credits": frame.cost.credits if frame else 0.0,
                "clip": f"{clip.provider} {clip.model}",
                "clip credits": clip.cost.credits,
                "clip $": clip.cost.usd,
                "voice characters": voice.cost.characters if voice else 0,
                "credits": round((frame.cost.credits if frame else 0.0) + clip.cost.credits, 2),
            }
        )
    frame_total = sum((f.cost for f in manifest.frames), Cost()).credits
    clip_total = sum((c.cost for c in manifest.clips), Cost()).credits
    rows.append(
        {
            "scene": "total",
            "frame": "",
            "frame credits": frame_total,
            "clip": "",
            "clip credits": clip_total,
            "clip $": manifest.cost.usd,
            "voice characters": manifest.cost.characters,
            "credits": round(frame_total + clip_total, 2),
        }
    )
    return rows


def _text(text: str) -> str:
    """Words from a topic, a script or a vendor, shown as the words they are: every markdown and HTML character
    escaped, so none becomes an image, a link (`javascript:` included) or markup on the run's page."""
    return _MARKUP.sub(lambda m: "\\" + m.group(), " ".join(text.split()))


_MARKUP = re.compile(r"[\\`*_{}\[\]()#+\-.!|<>~&:\"']")

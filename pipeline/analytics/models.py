"""What `shorts stats` knows of each uploaded Short: YouTube's numbers (Data API, Analytics, a Studio export), kept
apart from our own scores, which YouTube's API policy wants labelled as ours."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from pipeline.models import Model

MILESTONES = (1, 3, 7, 28)  # days after publishing at which a snapshot of YouTube Analytics is kept


class DataApiNumbers(Model):
    """YouTube Data API `videos.list`: fresh public counts (minutes old)."""

    title: str = ""
    published_at: datetime | None = None
    seconds: float | None = None  # the video's length, from contentDetails.duration
    views: int = 0
    likes: int = 0
    comments: int = 0


class AnalyticsNumbers(Model):
    """YouTube Analytics v2 over the Short's first `days` days (its SHORTS rows), and its retention curve."""

    days: int
    start: str  # YYYY-MM-DD, the window YouTube summed
    end: str
    views: int = 0  # every start and replay (YouTube's meaning since 2025)
    engaged_views: int = 0  # viewed past the first seconds: the old meaning of a view
    minutes_watched: float = 0.0
    average_view_seconds: float = 0.0
    average_view_percentage: float = 0.0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    subscribers_gained: int = 0
    retention_3s: float | None = None  # audienceWatchRatio at about 3 s (can pass 1 when people loop a Short)
    retention_end: float | None = None  # at the last point of the curve
    curve: list[tuple[float, float]] = Field(default_factory=list)  # (elapsedVideoTimeRatio, audienceWatchRatio)
    complete: bool = False  # fetched after YouTube's 2-3 days of latency had passed for the whole window


class StudioNumbers(Model):
    """From a YouTube Studio export: what no API gives ("Viewed vs swiped away")."""

    viewed_percent: float | None = None  # % of feed impressions that stayed to watch
    swiped_percent: float | None = None
    views: int | None = None


class ShortFacts(Model):
    """What our own manifest says the Short was."""

    topic: str = ""
    hook: str = ""
    hook_style: str = ""
    seconds: float | None = None
    providers: dict[str, str] = Field(default_factory=dict)
    cost: str = ""


class OurScores(Model):
    """Ours, not YouTube's: derived from YouTube's numbers by this tool."""

    engaged_ratio: float | None = None  # engaged views / views
    hold_score: float | None = None  # 0-100: the mean of retention at 3 s (capped at 1) and the engaged ratio


class ShortStats(Model):
    """One row of `shorts stats`."""

    video_id: str
    url: str
    title: str
    age_days: float | None = None
    youtube: DataApiNumbers | None = None
    analytics: AnalyticsNumbers | None = None  # the newest snapshot (the longest window fetched)
    snapshots: dict[str, AnalyticsNumbers] = Field(default_factory=dict)  # by label: d1, d3, d7, d28
    studio: StudioNumbers | None = None
    short: ShortFacts = Field(default_factory=ShortFacts)
    ours: OurScores = Field(default_factory=OurScores)
    fetched_at: datetime | None = None  # when YouTube's newest numbers here were fetched


class Learnings(Model):
    """What the channel's Shorts with enough data taught, as a note for the prompts and the topic order."""

    counted: int = 0  # Shorts that had enough data
    winners: list[str] = Field(default_factory=list)  # their topics
    losers: list[str] = Field(default_factory=list)
    hook_style: str | None = None  # the style that beat the channel's median
    seconds: float | None = None  # the length that kept people best
    lines: list[str] = Field(default_factory=list)  # the note, one finding per line

    @property
    def note(self) -> str:
        """The short, readable note stored with the run and shown in the manifest and the artifact."""
        if not self.lines:
            return ""
        return "What worked on this channel (from YouTube's numbers, read by shorts): " + " ".join(self.lines)

    def brainstorm_note(self) -> str:
        """The note for the topic brainstorm: more like the winners, fewer like the losers."""
        parts = [self.note] if self.note else []
        if self.winners:
            parts.append("Suggest more topics like: " + "; ".join(self.winners[:5]) + ".")
        if self.losers:
            parts.append("Fewer like: " + "; ".join(self.losers[:5]) + ".")
        return " ".join(parts)


class StatsReport(Model):
    """What a stats run found: a row per Short, the learnings, and one line per thing a person should know."""

    rows: list[ShortStats] = Field(default_factory=list)
    learnings: Learnings = Field(default_factory=Learnings)
    notes: list[str] = Field(default_factory=list)

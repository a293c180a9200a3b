"""YouTube's numbers in the ledger: a snapshot per (video, label), each with when it was fetched, so that nothing
older than YouTube's API policy allows (30 days without a refresh) is ever kept or shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from pipeline.analytics.models import AnalyticsNumbers, DataApiNumbers, StudioNumbers
from pipeline.state.ledger import Ledger

KEEP_DAYS = 30  # YouTube API Services policy: stored API data is refreshed or deleted within 30 days
NOW = "now"  # the label of the Data API snapshot, replaced on every fetch


class Uploaded(BaseModel):
    """One Short this tool uploaded, as the ledger remembers it."""

    video_id: str
    title: str | None
    uploaded_at: datetime


def uploaded_videos(ledger: Ledger, channel: str) -> list[Uploaded]:
    """Every video this tool uploaded to `channel`, oldest first."""
    with ledger.database.connect() as db:
        rows = db.execute(
            "SELECT video_id, title, created_at FROM uploads WHERE channel = ? AND video_id IS NOT NULL"
            " ORDER BY created_at",
            (channel,),
        ).fetchall()
    return [Uploaded(video_id=r["video_id"], title=r["title"], uploaded_at=r["created_at"]) for r in rows]


def drop_expired(ledger: Ledger, now: datetime) -> int:
    """Delete every snapshot fetched more than KEEP_DAYS ago; returns how many went."""
    cutoff = (now - timedelta(days=KEEP_DAYS)).isoformat(timespec="microseconds")
    with ledger.database.connect(write=True) as db:
        count = db.execute("SELECT COUNT(*) AS n FROM video_stats WHERE fetched_at < ?", (cutoff,)).fetchone()["n"]
        db.execute("DELETE FROM video_stats WHERE fetched_at < ?", (cutoff,))
    return int(count)


def drop_video(ledger: Ledger, video_id: str) -> None:
    """Forget a video YouTube no longer has (deleted by its owner): its numbers may not be kept."""
    with ledger.database.connect(write=True) as db:
        db.execute("DELETE FROM video_stats WHERE video_id = ?", (video_id,))


def save_snapshot(
    ledger: Ledger, video_id: str, label: str, numbers: DataApiNumbers | AnalyticsNumbers, fetched_at: datetime
) -> None:
    """Store (or replace) one snapshot."""
    with ledger.database.connect(write=True) as db:
        db.execute(
            "INSERT INTO video_stats (video_id, label, data, fetched_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (video_id, label) DO UPDATE SET data = excluded.data, fetched_at = excluded.fetched_at",
            (video_id, label, numbers.model_dump_json(), fetched_at.isoformat(timespec="microseconds")),
        )


class Stored(BaseModel):
    """A video's stored snapshots: the Data API's, and YouTube Analytics' by label (d1, d3, d7, d28)."""

    youtube: DataApiNumbers | None = None
    analytics: dict[str, AnalyticsNumbers] = {}
    fetched: dict[str, datetime] = {}


def stored_snapshots(ledger: Ledger) -> dict[str, Stored]:
    """Every stored snapshot, by video id."""
    found: dict[str, Stored] = {}
    with ledger.database.connect() as db:
        rows = db.execute("SELECT video_id, label, data, fetched_at FROM video_stats").fetchall()
    for row in rows:
        entry = found.setdefault(row["video_id"], Stored())
        fetched = datetime.fromisoformat(row["fetched_at"])
        entry.fetched[row["label"]] = fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC)
        if row["label"] == NOW:
            entry.youtube = DataApiNumbers.model_validate_json(row["data"])
        else:
            entry.analytics[row["label"]] = AnalyticsNumbers.model_validate_json(row["data"])
    return found


def save_studio(ledger: Ledger, numbers: dict[str, StudioNumbers], imported_at: datetime) -> None:
    """Store a Studio export's numbers by video id, replacing an earlier import's."""
    with ledger.database.connect(write=True) as db:
        for video_id, found in numbers.items():
            db.execute(
                "INSERT INTO studio_stats (video_id, data, imported_at) VALUES (?, ?, ?) ON CONFLICT (video_id)"
                " DO UPDATE SET data = excluded.data, imported_at = excluded.imported_at",
                (video_id, found.model_dump_json(), imported_at.isoformat(timespec="microseconds")),
            )


def studio_numbers(ledger: Ledger) -> dict[str, StudioNumbers]:
    """The imported Studio numbers, by video id."""
    with ledger.database.connect() as db:
        rows = db.execute("SELECT video_id, data FROM studio_stats").fetchall()
    return {row["video_id"]: StudioNumbers(**json.loads(row["data"])) for row in rows}

"""A fake YouTube Data API (`videos.list`) and YouTube Analytics v2 (`reports.query`) on 127.0.0.1, for
SHORTS_YOUTUBE_API_URL and SHORTS_YOUTUBE_ANALYTICS_API_URL, reached through google-api-python-client.

A channel is a list of `ChannelShort`s with known numbers per day. Analytics sums a window's days, but only those
at least `latency_days` old (YouTube's 2-3 days), so a young Short has no rows yet; its retention curve falls from 1
to `hold` at 3 s, then to `end`. `fail(kind, status, reason)` refuses the next requests of a kind (videos or reports).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler

from fakes.loopback import LoopbackFake, send
from fakes.youtube import ACCESS_TOKEN
from pipeline import Settings
from pipeline.state.ledger import open_ledger

METRIC_FIELDS = {
    "views": "views",
    "engagedViews": "engaged",
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "subscribersGained": "subscribers",
}


@dataclass
class ChannelShort:
    """A Short on the fake channel: its age, and what each day brings."""

    video_id: str
    title: str
    age_days: float
    seconds: int = 30
    views: int = 100  # per day
    engaged: int = 60
    likes: int = 5
    comments: int = 1
    shares: int = 1
    subscribers: int = 1
    viewed_percent: float = 70.0  # averageViewPercentage
    hold: float = 0.6  # audienceWatchRatio at 3 s
    end: float = 0.3
    content_type: str = "SHORTS"

    @property
    def published(self) -> datetime:
        return datetime.now(UTC) - timedelta(days=self.age_days)

    def curve(self) -> list[list[float]]:
        """100 points: from 1 down to `hold` at 3 s, then down to `end` at the last point."""
        at_3s = 3 / self.seconds
        points = []
        for i in range(1, 101):
            x = i / 100
            y = (
                1 - (1 - self.hold) * x / at_3s
                if x <= at_3s
                else self.hold + (self.end - self.hold) * (x - at_3s) / (1 - at_3s)
            )
            points.append([x, round(y, 4)])
        return points


class FakeYouTubeStats(LoopbackFake):
    """State the tests read: `requests` (method, path and query of each), `shorts` (the channel)."""

    def __init__(self, shorts: list[ChannelShort], token: str = ACCESS_TOKEN, latency_days: int = 2) -> None:
        super().__init__()
        self.shorts = {short.video_id: short for short in shorts}
        self.token = token
        self.latency_days = latency_days
        self.failures: dict[str, list[tuple[int, str]]] = {}

    def fail(self, kind: str, status: int, reason: str, times: int = 1) -> None:
        """Answer the next `times` requests of `kind` (videos or reports) with `status` and `reason`."""
        self.failures.setdefault(kind, []).extend([(status, reason)] * times)

    def calls(self, kind: str) -> list[dict[str, list[str]]]:
        """The query of each request of `kind` (videos or reports) that reached the fake."""
        return [r["query"] for r in self.requests if r["kind"] == kind]

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(url.query)
        kind = "videos" if url.path == "/youtube/v3/videos" else "reports" if url.path == "/v2/reports" else "other"
        with self.lock:
            self.requests.append({"kind": kind, "query": query})
            queued = self.failures.get(kind)
            status, reason = queued.pop(0) if queued else (0, "")
        if h.headers.get("authorization") != f"Bearer {self.token}":
            return send(h, 401, {"error": {"code": 401, "message": "Invalid Credentials"}})
        if status:
            return send(
                h,
                status,
                {
                    "error": {
                        "code": status,
                        "message": f"Fake refusal ({reason}).",
                        "errors": [{"reason": reason, "domain": "youtube.fake"}],
                    }
                },
            )
        if kind == "videos":
            return send(
                h, 200, {"items": [self._video(self.shorts[v]) for v in query["id"][0].split(",") if v in self.shorts]}
            )
        if kind == "reports":
            return send(h, 200, self._report(query))
        return send(h, 404, {"error": {"code": 404, "message": "Not found"}})

    def _video(self, short: ChannelShort) -> dict:
        days = short.age_days
        return {
            "id": short.video_id,
            "snippet": {"title": short.title, "publishedAt": short.published.isoformat().replace("+00:00", "Z")},
            "contentDetails": {"duration": f"PT{short.seconds}S"},
            "statistics": {
                "viewCount": str(int(short.views * days)),
                "likeCount": str(int(short.likes * days)),
                "commentCount": str(int(short.comments * days)),
                "favoriteCount": "0",
            },
        }

    def _report(self, query: dict[str, list[str]]) -> dict:
        assert query["ids"] == ["channel==MINE"]
        short = self.shorts.get(query["filters"][0].removeprefix("video=="))
        metrics = query["metrics"][0].split(",")
        dimensions = query["dimensions"][0].split(",")
        headers = [{"name": name} for name in dimensions + metrics]
        if short is None:
            return {"columnHeaders": headers, "rows": []}
        days = self._reported_days(
            short, date.fromisoformat(query["startDate"][0]), date.fromisoformat(query["endDate"][0])
        )
        if days == 0:
            return {"columnHeaders": headers, "rows": []}  # not reported yet
        if dimensions == ["elapsedVideoTimeRatio"]:
            return {"columnHeaders": headers, "rows": short.curve()}
        values = []
        for metric in metrics:
            if metric in METRIC_FIELDS:
                values.append(getattr(short, METRIC_FIELDS[metric]) * days)
            elif metric == "averageViewPercentage":
                values.append(short.viewed_percent)
            elif metric == "averageViewDuration":
                values.append(round(short.seconds * short.viewed_percent / 100))
            elif metric == "estimatedMinutesWatched":
                values.append(round(short.views * days * short.seconds * short.viewed_percent / 100 / 60))
        return {"columnHeaders": headers, "rows": [[short.video_id, short.content_type, *values]]}

    def _reported_days(self, short: ChannelShort, start: date, end: date) -> int:
        """Days of the window YouTube has numbers for: on or after publishing, and `latency_days` old."""
        first = max(start, short.published.date())
        last = min(end, datetime.now(UTC).date() - timedelta(days=self.latency_days))
        return max(0, (last - first).days + 1)


def record_upload(
    settings: Settings, short: ChannelShort, hook: str = "Blink and it is gone.", seconds: float = 30
) -> None:
    """What a made-and-uploaded Short leaves: the ledger's video id and the output folder's manifest."""
    open_ledger(settings).record_upload_done(f"hash-{short.video_id}", settings.youtube_channel, short.video_id)
    folder = settings.output_dir / short.video_id
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "youtube_id": short.video_id,
                "request": {"topic": short.title},
                "script": {"title": short.title, "hook": hook},
                "render": {"seconds": seconds},
                "providers": {"script": {"name": "offline"}, "video": {"name": "runway"}},
                "cost_credits": 40,
            }
        )
    )


QUESTIONS = [
    ("vidQ000001", "Why do octopuses have three hearts", "Why would an animal need three hearts?"),
    ("vidQ000002", "Why octopus ink confuses sharks", "Can ink really fool a shark?"),
    ("vidQ000003", "How octopuses taste with their arms", "What if your fingers could taste?"),
]
STATEMENTS = [
    ("vidS000001", "The history of the stapler", "Staplers were invented long ago."),
    ("vidS000002", "Paperclip manufacturing", "Paperclips are made of steel wire."),
    ("vidS000003", "The office chair's wheels", "Office chairs once had no wheels."),
]


def record_learning_channel(settings: Settings) -> dict[str, ChannelShort]:
    """A channel of six 12-day-old uploads whose 30 s question-hook Shorts hold viewers better than its 55 s
    statement-hook ones; returns them by id, for `FakeYouTubeStats.shorts`."""
    channel = []
    for (video_id, title, hook), good in [(q, True) for q in QUESTIONS] + [(s, False) for s in STATEMENTS]:
        short = ChannelShort(
            video_id,
            title,
            age_days=12,
            hold=0.8 if good else 0.4,
            engaged=75 if good else 45,
            viewed_percent=80 if good else 50,
        )
        record_upload(settings, short, hook=hook, seconds=30 if good else 55)
        channel.append(short)
    return {short.video_id: short for short in channel}

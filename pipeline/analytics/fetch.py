"""Fetching YouTube's numbers for our uploads: the Data API's fresh counts (50 videos a call, 1 quota unit), and
YouTube Analytics v2 over each Short's first 1, 3, 7 and 28 days once they have passed, with its retention curve.

Analytics data arrives 2-3 days late: a window fetched before that is refetched until complete. Every snapshot is
refetched before it is 30 days old (YouTube's API policy), and one that cannot be is dropped (store.drop_expired).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from pipeline.analytics.models import MILESTONES, AnalyticsNumbers, DataApiNumbers
from pipeline.analytics.store import NOW, Stored, Uploaded, drop_video, save_snapshot
from pipeline.errors import ConfigError, ProviderError
from pipeline.publish.youtube_auth import ANALYTICS_SCOPE, auth_command
from pipeline.state.ledger import Ledger

if TYPE_CHECKING:
    import httplib2
    from google.oauth2.credentials import Credentials
    from googleapiclient._apis.youtube.v3 import YouTubeResource  # the stubs' typed clients (no runtime module)
    from googleapiclient._apis.youtubeAnalytics.v2 import YouTubeAnalyticsResource

log = logging.getLogger("shorts")

BATCH = 50  # ids per videos.list call, YouTube's maximum
LATENCY_DAYS = 3  # YouTube Analytics is complete this long after a day ends
REFRESH_DAYS = 25  # a stored snapshot is fetched again at this age, inside the policy's 30 days
METRICS = (
    "views",
    "engagedViews",
    "estimatedMinutesWatched",
    "averageViewDuration",
    "averageViewPercentage",
    "likes",
    "comments",
    "shares",
    "subscribersGained",
)
FIELDS = (
    "views",
    "engaged_views",
    "minutes_watched",
    "average_view_seconds",
    "average_view_percentage",
    "likes",
    "comments",
    "shares",
    "subscribers_gained",
)
ANALYTICS_SCOPES = (ANALYTICS_SCOPE, "https://www.googleapis.com/auth/yt-analytics-monetary.readonly")
_DURATION = re.compile(r"^P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


class QuotaUsedUp(Exception):
    """YouTube said the day's quota is spent: stop asking, keep what is stored."""


class NotAllowed(Exception):
    """YouTube refused the token for this report (403): the Analytics permission is missing."""


def analytics_allowed(credentials: Credentials) -> bool:
    """Whether the token was granted a YouTube Analytics scope."""
    granted = set(credentials.granted_scopes or credentials.scopes or ())
    return not granted.isdisjoint(ANALYTICS_SCOPES)


def reconsent(channel: str) -> str:
    """The one sentence asking for the Analytics permission."""
    return (
        f"The YouTube token of channel {channel!r} does not allow YouTube Analytics; run "
        f"`{auth_command(channel)}` again to add it (showing the Data API's numbers until then)."
    )


def analytics_client(
    credentials: Credentials, http: httplib2.Http | None = None, api_url: str | None = None
) -> YouTubeAnalyticsResource:
    """A YouTube Analytics v2 client from the discovery document the package ships (no network to build it)."""
    import httplib2
    from google_auth_httplib2 import AuthorizedHttp
    from googleapiclient.discovery import build_from_document  # type: ignore[attr-defined]  # missing from its stubs
    from googleapiclient.discovery_cache import get_static_doc

    document = json.loads(get_static_doc("youtubeAnalytics", "v2"))
    if api_url:
        document["rootUrl"] = api_url.rstrip("/") + "/"
    return build_from_document(document, http=AuthorizedHttp(credentials, http=http or httplib2.Http(timeout=60)))


def fetch_data_api(
    youtube: YouTubeResource,
    ledger: Ledger,
    videos: list[Uploaded],
    now: datetime,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, DataApiNumbers]:
    """Fresh counts of every video, stored as its `now` snapshot; a video YouTube no longer has is forgotten."""
    found: dict[str, DataApiNumbers] = {}
    for start in range(0, len(videos), BATCH):
        ids = [v.video_id for v in videos[start : start + BATCH]]
        answer = _call(
            youtube.videos().list(part="snippet,statistics,contentDetails", id=",".join(ids), maxResults=BATCH),
            "statistics",
            sleep,
        )
        for item in answer.get("items") or []:
            numbers = _data_numbers(item)
            found[item["id"]] = numbers
            save_snapshot(ledger, item["id"], NOW, numbers, now)
        for gone in set(ids) - {item["id"] for item in answer.get("items") or []}:
            drop_video(ledger, gone)
    return found


def due_windows(published: datetime, stored: Stored | None, now: datetime) -> list[int]:
    """The milestone windows (days) to fetch now: passed, and not stored complete and fresh."""
    age = (now.date() - published.astimezone(UTC).date()).days  # whole days of numbers since publishing
    due = []
    for days in MILESTONES:
        if age < max(days, 2):  # the window is not over yet; and Analytics has nothing to say before day 2
            continue
        label = f"d{days}"
        have = stored.analytics.get(label) if stored else None
        fetched = stored.fetched.get(label) if stored else None
        if have is None or fetched is None or not have.complete or now - fetched > timedelta(days=REFRESH_DAYS):
            due.append(days)
    return due


def fetch_analytics(
    analytics: YouTubeAnalyticsResource,
    ledger: Ledger,
    video_id: str,
    published: datetime,
    seconds: float | None,
    windows: list[int],
    now: datetime,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Fetch and store the Short's due windows; returns how many had no numbers yet (YouTube's latency)."""
    pending = 0
    first = published.astimezone(UTC).date()
    for days in windows:
        last = min(first + timedelta(days=days - 1), now.date())
        numbers = _window(analytics, video_id, first, last, days, seconds, sleep)
        if numbers is None:
            pending += 1
            continue
        complete = now.date() >= last + timedelta(days=LATENCY_DAYS)
        save_snapshot(ledger, video_id, f"d{days}", numbers.model_copy(update={"complete": complete}), now)
    return pending


class _Filter(TypedDict):
    """What both reports of a window ask for: the channel, the days and the video."""

    ids: str
    startDate: str
    endDate: str
    filters: str


def _window(
    analytics: YouTubeAnalyticsResource,
    video_id: str,
    first: date,
    last: date,
    days: int,
    seconds: float | None,
    sleep: Callable[[float], None],
) -> AnalyticsNumbers | None:
    common = _Filter(
        ids="channel==MINE", startDate=first.isoformat(), endDate=last.isoformat(), filters=f"video=={video_id}"
    )
    # A report by video is a "top videos" report, which YouTube answers only with a sort and at most 200 rows.
    report = _call(
        analytics.reports().query(
            metrics=",".join(METRICS), dimensions="video,creatorContentType", sort="-views", maxResults=10, **common
        ),
        "Analytics report",
        sleep,
    )
    rows = [dict(zip(_columns(report), row, strict=False)) for row in report.get("rows") or []]
    shorts = [row for row in rows if row.get("creatorContentType") == "SHORTS"]
    if not shorts:
        return None  # not reported yet (or not a Short): asked again next run
    totals = {field: shorts[0].get(metric) or 0 for metric, field in zip(METRICS, FIELDS, strict=False)}
    curve_report = _call(
        analytics.reports().query(
            metrics="audienceWatchRatio", dimensions="elapsedVideoTimeRatio", sort="elapsedVideoTimeRatio", **common
        ),
        "retention report",
        sleep,
    )
    curve = sorted((float(x), float(y)) for x, y in curve_report.get("rows") or [])
    return AnalyticsNumbers(
        days=days,
        start=first.isoformat(),
        end=last.isoformat(),
        curve=curve,
        retention_3s=retention_at(curve, 3.0 / seconds if seconds else 0.1),
        retention_end=curve[-1][1] if curve else None,
        **totals,
    )


def retention_at(curve: list[tuple[float, float]], ratio: float) -> float | None:
    """The audience watch ratio at the curve's point nearest `ratio` of the video (3 s of 30 s: 0.1)."""
    if not curve:
        return None
    return min(curve, key=lambda point: abs(point[0] - ratio))[1]


def _columns(report: dict[str, Any]) -> list[str]:
    return [header["name"] for header in report.get("columnHeaders") or []]


def _call(request: Any, what: str, sleep: Callable[[float], None]) -> dict[str, Any]:
    """One read, retried on rate limits and 5xx; a spent quota or a refusal becomes one sentence."""
    from googleapiclient.errors import HttpError

    from pipeline.publish.youtube_retry import TRANSPORT_ERRORS, describe, execute, reasons

    try:
        return execute(request, what, sleep=sleep)
    except HttpError as exc:
        found = reasons(exc)
        if "quotaExceeded" in found or "dailyLimitExceeded" in found or exc.status_code == 429:
            raise QuotaUsedUp(what) from exc
        if exc.status_code == 401:
            raise ConfigError(
                "YouTube refused the channel's token (401); run `shorts auth youtube --client-secrets "
                "FILE --channel NAME` again."
            ) from exc
        if exc.status_code == 403 and ("insufficientPermissions" in found or "forbidden" in found):
            raise NotAllowed(what) from exc
        raise ProviderError(f"YouTube refused the {what} ({describe(exc)}); rerun later.", retry_safe=True) from exc
    except TRANSPORT_ERRORS as exc:
        raise ProviderError(
            f"Could not reach YouTube for the {what} ({describe(exc)}); check the connection and rerun.",
            retry_safe=True,
        ) from exc


def _data_numbers(item: dict[str, Any]) -> DataApiNumbers:
    stats, snippet = item.get("statistics") or {}, item.get("snippet") or {}
    published = snippet.get("publishedAt")
    return DataApiNumbers(
        title=snippet.get("title") or "",
        published_at=published,
        seconds=_seconds((item.get("contentDetails") or {}).get("duration")),
        views=int(stats.get("viewCount") or 0),
        likes=int(stats.get("likeCount") or 0),
        comments=int(stats.get("commentCount") or 0),
    )


def _seconds(duration: str | None) -> float | None:
    """An ISO 8601 duration (PT31S, PT1M5S) in seconds."""
    match = _DURATION.match(duration or "")
    if not duration or not match:
        return None
    d, h, m, s = (float(part or 0) for part in match.groups())
    return d * 86400 + h * 3600 + m * 60 + s

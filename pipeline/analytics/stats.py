"""The stats step: fetch YouTube's numbers for every Short this tool uploaded, keep them within YouTube's policy, and
join them with what each Short's manifest says it was (topic, hook, length, providers, cost)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.analytics.fetch import (
    NotAllowed,
    QuotaUsedUp,
    analytics_allowed,
    analytics_client,
    due_windows,
    fetch_analytics,
    fetch_data_api,
    reconsent,
)
from pipeline.analytics.learn import derive_learnings, hook_style
from pipeline.analytics.models import OurScores, ShortFacts, ShortStats, StatsReport
from pipeline.analytics.store import Stored, Uploaded, drop_expired, stored_snapshots, studio_numbers, uploaded_videos
from pipeline.models import Cost, costs_from
from pipeline.publish.youtube_auth import has_youtube_token, load_youtube_credentials
from pipeline.settings import Settings
from pipeline.state.ledger import Ledger, open_ledger

if TYPE_CHECKING:
    import httplib2

log = logging.getLogger("shorts")


def channel_stats(
    settings: Settings,
    channel: str | None = None,
    *,
    fetch: bool = True,
    http: httplib2.Http | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
) -> StatsReport:
    """Every uploaded Short of the channel with YouTube's numbers (fetched now unless `fetch` is false), our scores,
    and the learnings drawn from them."""
    channel = channel or settings.youtube_channel
    now = now or datetime.now(UTC)
    ledger = open_ledger(settings)
    videos = uploaded_videos(ledger, channel)
    notes: list[str] = []
    if videos and fetch:
        if has_youtube_token(settings.home_dir, channel):
            notes += _fetch(settings, channel, ledger, videos, now, http, sleep)
        else:
            notes.append(
                f"No YouTube token for channel {channel!r}, so nothing was fetched; run `shorts auth youtube "
                f"--client-secrets FILE --channel {channel}`."
            )
    dropped = drop_expired(ledger, now)
    if dropped:
        notes.append(
            f"Dropped {dropped} snapshot(s) fetched over 30 days ago (YouTube's API policy); they come back "
            "on the next fetch."
        )
    rows = build_rows(videos, stored_snapshots(ledger), ledger, _manifests(settings.output_dir), now)
    return StatsReport(rows=rows, learnings=derive_learnings(rows, settings), notes=notes)


def _fetch(
    settings: Settings,
    channel: str,
    ledger: Ledger,
    videos: list[Uploaded],
    now: datetime,
    http: httplib2.Http | None,
    sleep: Callable[[float], None],
) -> list[str]:
    """Fetch what is due; a spent quota or a missing permission is a note, and what is stored is still shown."""
    from pipeline.publish.youtube_upload import youtube_client

    credentials = load_youtube_credentials(settings.home_dir, channel, http)
    youtube = youtube_client(credentials, http, settings.youtube_api_url)
    try:
        fresh = fetch_data_api(youtube, ledger, videos, now, sleep=sleep)
    except QuotaUsedUp:
        return [
            "YouTube's daily Data API quota is used up, so the views shown are the ones stored earlier; rerun "
            "after midnight Pacific time."
        ]
    finally:
        if http is None:
            youtube.close()
    if not analytics_allowed(credentials):
        return [reconsent(channel)]
    analytics = analytics_client(credentials, http, settings.youtube_analytics_api_url)
    stored = stored_snapshots(ledger)
    pending = 0
    try:
        for video in videos:
            numbers = fresh.get(video.video_id)
            if numbers is None:
                continue  # gone from YouTube
            published = numbers.published_at or video.uploaded_at
            windows = due_windows(published, stored.get(video.video_id), now)
            if windows:
                pending += fetch_analytics(
                    analytics, ledger, video.video_id, published, numbers.seconds, windows, now, sleep=sleep
                )
    except QuotaUsedUp:
        return [
            "YouTube Analytics' quota is used up for now; the Analytics numbers shown are the ones stored "
            "earlier, rerun later."
        ]
    except NotAllowed:
        return [reconsent(channel)]
    finally:
        if http is None:
            analytics.close()
    if pending:
        return [
            f"YouTube Analytics has no numbers yet for {pending} window(s) (they arrive 2-3 days late); they are "
            "fetched on a later run."
        ]
    return []


def build_rows(
    videos: list[Uploaded], stored: dict[str, Stored], ledger: Ledger, manifests: dict[str, dict], now: datetime
) -> list[ShortStats]:
    """A row per uploaded video, oldest first."""
    studio = studio_numbers(ledger)
    rows = []
    for video in videos:
        have = stored.get(video.video_id, Stored())
        youtube = have.youtube
        labels = sorted(have.analytics, key=lambda label: int(label[1:]))
        newest = have.analytics[labels[-1]] if labels else None
        published = youtube.published_at if youtube and youtube.published_at else video.uploaded_at
        manifest = manifests.get(video.video_id, {})
        ratio = newest.engaged_views / newest.views if newest and newest.views else None
        hold = None
        if newest and newest.retention_3s is not None and ratio is not None:
            hold = round(50 * (min(newest.retention_3s, 1.0) + ratio), 1)
        rows.append(
            ShortStats(
                video_id=video.video_id,
                url=f"https://youtube.com/shorts/{video.video_id}",
                title=(youtube.title if youtube and youtube.title else None)
                or video.title
                or manifest.get("title", ""),
                age_days=round((now - published).total_seconds() / 86400, 1),
                youtube=youtube,
                analytics=newest,
                snapshots=have.analytics,
                studio=studio.get(video.video_id),
                short=_facts(manifest, youtube),
                ours=OurScores(engaged_ratio=round(ratio, 3) if ratio is not None else None, hold_score=hold),
                fetched_at=max(have.fetched.values()) if have.fetched else None,
            )
        )
    return rows


def _facts(manifest: dict[str, Any], youtube: Any) -> ShortFacts:
    if not manifest:
        return ShortFacts(seconds=youtube.seconds if youtube else None)
    script, request = manifest.get("script") or {}, manifest.get("request") or {}
    # A manifest written before costs were one value has each unit apart.
    cost = costs_from(manifest, cost_credits="credits", cost_usd="usd", cost_characters="characters").get("cost")
    return ShortFacts(
        topic=request.get("topic", ""),
        hook=script.get("hook", ""),
        hook_style=hook_style(script.get("hook", "")),
        seconds=(manifest.get("render") or {}).get("seconds") or (youtube.seconds if youtube else None),
        providers={step: choice.get("name", "") for step, choice in (manifest.get("providers") or {}).items()},
        cost=str(Cost.model_validate(cost or {})),
    )


def _manifests(output_dir: Path) -> dict[str, dict]:
    """The manifest of every Short in the output folder that went to YouTube, by its video id."""
    found: dict[str, dict] = {}
    for path in sorted(output_dir.expanduser().glob("*/manifest.json")):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a half-written or foreign file: the row goes without its facts
        if isinstance(manifest, dict) and manifest.get("youtube_id"):
            found[manifest["youtube_id"]] = manifest | {"title": (manifest.get("script") or {}).get("title", "")}
    return found

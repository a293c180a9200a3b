"""The daily_shorts flow: the next topics from the queue, one make_short subflow each, then a summary."""

from __future__ import annotations

import logging
import runpy
import sys
import time
from datetime import datetime
from typing import Annotated

from flows.bootstrap.flow import pydantic_flow

from prefect import task
from prefect.states import State
from pydantic import Field

from flows.artifacts import DailyRow, record_daily, record_stats
from flows.make_short import make_short
from pipeline import (
    Learnings,
    Platform,
    Settings,
    ShortRequest,
    ShortResult,
    ShortsError,
    StatsReport,
    channel_stats,
    check_post_ready,
    check_upload_ready,
    has_youtube_token,
    next_topics,
    nothing_to_make,
    parse_platforms,
    record_failed,
    record_made,
    refill_queue,
    topic_preference,
)

log = logging.getLogger("shorts")


@pydantic_flow(name="daily-shorts", flow_run_name=lambda: f"daily-{datetime.now():%Y-%m-%d-%H%M}")
def daily_shorts(
    count: Annotated[int | None, Field(ge=1, le=50)] = None,
    seconds: Annotated[int, Field(ge=5, le=180)] = 30,
    upload: bool | None = None,
    post: list[Platform] | None = None,
) -> list[DailyRow]:
    """Make the next queued topics' Shorts; one failing does not stop the others, but fails the run at the end.

    Args:
        count: How many topics to make; empty means SHORTS_DAILY_COUNT.
        seconds: Target length of each Short.
        upload: Upload each Short to YouTube (else it goes to the outbox); empty means SHORTS_DAILY_UPLOAD.
        post: Where to post each Short: youtube, instagram, facebook, tiktok (each at most once); empty means
            SHORTS_POST.
    """
    settings = Settings()
    count = count or settings.daily_count
    upload = settings.daily_upload if upload is None else upload
    platforms = parse_platforms(settings.post if post is None else post)
    upload = upload or "youtube" in platforms
    if upload:
        check_upload_ready(settings)  # a missing token fails the run now, not after every Short is made
    check_post_ready(settings, platforms)
    learnings = learn_from_channel(settings)
    topics = next_topics(settings, count, prefer=topic_preference(learnings) if learnings.lines else None)
    if len(topics) < count and settings.niche:
        topics += more_topics(settings, count - len(topics), learnings.brainstorm_note(), queued=len(topics))
    if not topics:
        raise nothing_to_make(settings)
    log.info("Making %d Short(s): %s", len(topics), "; ".join(topics))

    rows = [
        _make_one(
            settings, ShortRequest(topic=topic, seconds=seconds, upload=upload, learnings=learnings.note), platforms
        )
        for topic in topics
    ]

    record_daily(rows)
    for row in rows:
        mark = "✓" if row.status == "made" else "✗"
        log.info("%s %s (%.0f s, %s) %s", mark, row.topic, row.seconds, row.cost, row.link or row.reason)
    failed = [row for row in rows if row.status == "failed"]
    if failed:
        reasons = "; ".join(f"{row.topic!r}: {row.reason}" for row in failed)
        raise ShortsError(f"{len(failed)} of {len(rows)} Shorts failed ({reasons}); they stay queued for the next run.")
    return rows


@task(name="channel-stats", retries=0)
def stats_task(settings: Settings) -> StatsReport:
    """YouTube's numbers for every Short uploaded to the channel, fetched once a day (quota: 1 unit per 50)."""
    return channel_stats(settings)


def learn_from_channel(settings: Settings) -> Learnings:
    """The channel's stats, left as an artifact, and what they teach (nothing with SHORTS_LEARN=false); a stats
    failure is a warning, never a reason not to make today's Shorts."""
    if not has_youtube_token(settings.home_dir, settings.youtube_channel):
        return Learnings()
    state = stats_task(settings, return_state=True)
    if not state.is_completed():
        log.warning("  the channel's stats were not fetched (%s); making today's Shorts without them", _reason(state))
        return Learnings()
    report: StatsReport = state.result()
    for note in report.notes:
        log.warning("  %s", note)
    if report.rows:
        record_stats(report)
    if not settings.learn:
        return Learnings()
    if report.learnings.note:
        log.info("  %s", report.learnings.note)
    return report.learnings


@task(name="brainstorm", retries=0)
def brainstorm_task(settings: Settings, count: int, learnings: str) -> list[str]:
    """New topics for SHORTS_NICHE from the script provider (an LLM call: not retried), queued before any is made."""
    return refill_queue(settings, count, learnings)


def more_topics(settings: Settings, count: int, learnings: str, queued: int) -> list[str]:
    """Topics brainstormed for a queue that ran dry; with `queued` topics still to make, a failed brainstorm is a
    warning and today's Shorts are made from those."""
    try:
        return brainstorm_task(settings, count, learnings)
    except ShortsError as exc:
        if not queued:
            raise
        log.warning("  could not brainstorm more topics (%s); making the %d queued", exc, queued)
        return []


def _make_one(settings: Settings, request: ShortRequest, platforms: list[str]) -> DailyRow:
    """Run make_short as a subflow and record the outcome in the ledger; never raises for the Short's failure."""
    started = time.perf_counter()
    # Rules approve the clips (SHORTS_AUTO_APPROVE_CREDITS); a Short over them pauses for a person in the UI.
    state = make_short(request, approval="rules", post=platforms, return_state=True)
    seconds = round(time.perf_counter() - started, 1)
    if state.is_completed():
        result: ShortResult = state.result()
        link = getattr(result.published, "youtube_url", None) or str(result.video)
        record_made(settings, request.topic, link, run_id=str(state.state_details.flow_run_id))
        return DailyRow(
            topic=request.topic,
            status="made",
            seconds=seconds,
            cost=result.cost,
            link=link,
            **result.posts,
        )
    reason = _reason(state)
    record_failed(settings, request.topic, reason, run_id=str(state.state_details.flow_run_id))
    if state.is_cancelled():  # not approved: a decision, not a failure; the topic stays queued all the same
        log.warning("✗ %s: %s", request.topic, reason)
        return DailyRow(topic=request.topic, status="not approved", seconds=seconds, reason=reason)
    log.warning("✗ %s failed: %s", request.topic, reason)
    return DailyRow(topic=request.topic, status="failed", seconds=seconds, reason=reason)


def _reason(state: State) -> str:
    """One line saying which step failed and why."""
    exc = state.result(raise_on_failure=False)
    if isinstance(exc, ShortsError):
        return f"{exc.step or 'run'} failed: {exc}"
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}"
    assert state.name is not None  # Prefect names a state after its type when not given a name
    return state.message or state.name


if __name__ == "__main__":
    # The same as `shorts daily ...`. Run as a module rather than imported: flows.cli imports this one.
    sys.argv[1:1] = ["daily"]
    runpy.run_module("flows.cli", run_name="__main__", alter_sys=True)

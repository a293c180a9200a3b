"""Posting a Reel to a Facebook Page, exactly once.

One video id is one Reel: it is recorded before a byte is sent, so a rerun sends the file again to the same video,
finishes it, or waits on it, and never starts a second one. Facebook takes 3-90 s Reels and 30 API posts a Page in
24 hours; that cap has no endpoint to read, so it is counted from the ledger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from pipeline.errors import ConfigError, ProviderError
from pipeline.models import Script
from pipeline.publish.contract import (
    CREATED,
    POSTED,
    PUBLISHING,
    UPLOADED,
    PostJob,
    PostOutcome,
    VideoFacts,
    caption,
    poll,
)
from pipeline.publish.graph import GraphClient
from pipeline.publish.tokens import load_token
from pipeline.settings import Settings
from pipeline.state.ledger import open_ledger

log = logging.getLogger("shorts")

MIN_SECONDS, MAX_SECONDS = 3, 90
MIN_WIDTH, MIN_HEIGHT = 540, 960
DAILY_CAP = 30  # API-published Reels per Page in any 24 hours (Reels Publishing API, 2026-07-30)
MAX_DESCRIPTION, MAX_HASHTAGS, MAX_TITLE = 2200, 30, 255


def reel_link(video_id: str) -> str:
    return f"https://www.facebook.com/reel/{video_id}"


class FacebookTarget:
    name = "facebook"

    def __init__(
        self, graph: GraphClient, page_id: str, settings: Settings, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.graph, self.account, self.settings, self.sleep = graph, page_id, settings, sleep

    @classmethod
    def from_settings(
        cls, settings: Settings, *, http: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> FacebookTarget:
        stored = load_token(settings.home_dir, "facebook") or {}
        token = (
            settings.facebook_page_access_token.get_secret_value()
            if settings.facebook_page_access_token
            else stored.get("access_token")
        )
        page = settings.facebook_page_id or stored.get("page_id")
        if not token or not page:
            raise ConfigError(
                "No Facebook Page is set up: set FACEBOOK_PAGE_ACCESS_TOKEN and FACEBOOK_PAGE_ID, or "
                "run `shorts auth facebook`."
            )
        graph = GraphClient(
            "facebook",
            settings.meta_graph_url,
            settings.meta_graph_version,
            str(token),
            http=http,
            sleep=sleep,
            token_hint="make a new Page token and run `shorts auth facebook` (or set FACEBOOK_PAGE_ACCESS_TOKEN)",
        )
        return cls(graph, str(page), settings, sleep)

    def close(self) -> None:
        self.graph.close()

    def describe_account(self) -> str:
        page = self.graph.get(self.account, fields="name")
        return (
            f"Facebook Page {page.get('name') or self.account!r}: token accepted; {self._posted_today()} of "
            f"{DAILY_CAP} Reels posted by shorts in the last 24 hours"
        )

    def check(self, video: VideoFacts, script: Script) -> str | None:
        if not MIN_SECONDS <= video.seconds <= MAX_SECONDS:
            return (
                f"Facebook Reels must be {MIN_SECONDS}-{MAX_SECONDS} s long and this Short is "
                f"{video.seconds:.0f} s, so it was not posted there"
            )
        if video.width < MIN_WIDTH or video.height < MIN_HEIGHT or video.width > video.height:
            return (
                f"Facebook Reels must be vertical and at least {MIN_WIDTH}x{MIN_HEIGHT}, and this Short is "
                f"{video.width}x{video.height}"
            )
        posted = self._posted_today()
        if posted >= DAILY_CAP:
            return (
                f"this Page has had {posted} Reels posted by shorts in the last 24 hours and Facebook takes "
                f"{DAILY_CAP}; rerun later"
            )
        return None

    def post(self, video: VideoFacts, script: Script, job: PostJob) -> PostOutcome:
        record, phase = job.record, {}
        if record is not None:
            assert record.remote_id is not None  # every mark that starts a post records its remote id
            phase = self._phases(record.remote_id)
            if record.stage == PUBLISHING and phase.get("publishing") in ("complete", "in_progress"):
                return self._wait_until_published(record.remote_id, job)  # the finish call was taken
        if record is None:
            started = self.graph.post(f"{self.account}/video_reels", upload_phase="start")
            video_id = str(started["video_id"])
            url = started.get("upload_url") or (
                f"https://rupload.facebook.com/video-upload/{self.settings.meta_graph_version}/{video_id}"
            )
            job.mark(CREATED, remote_id=video_id, upload_url=url)
            record = job.record
        assert record is not None and record.remote_id is not None  # just marked, or by an earlier run
        if record.stage == CREATED and phase.get("uploading") != "complete":  # complete: a killed run sent it all
            log.info("  sending the video to Facebook (%.1f MB)", video.size / 1e6)
            assert record.upload_url is not None  # a post is created with its upload URL
            self.graph.upload(record.upload_url, video.path)
            job.mark(UPLOADED)
        job.mark(PUBLISHING)  # the rerun asks the video's phases before finishing it again
        text = caption(script, max_chars=MAX_DESCRIPTION, max_hashtags=MAX_HASHTAGS, title=False)
        self.graph.post(
            f"{self.account}/video_reels",
            upload_phase="finish",
            video_id=record.remote_id,
            video_state="PUBLISHED",
            description=text,
            title=script.title[:MAX_TITLE],
            is_ai_generated=True,
        )
        return self._wait_until_published(record.remote_id, job)

    def _phases(self, video_id: str) -> dict[str, Any]:
        status = self.graph.get(video_id, fields="status").get("status") or {}
        return {
            "video": status.get("video_status"),
            **{
                name: (status.get(f"{name}_phase") or {}).get("status")
                for name in ("uploading", "processing", "publishing")
            },
        }

    def _wait_until_published(self, video_id: str, job: PostJob) -> PostOutcome:
        def published() -> PostOutcome | None:
            phase = self._phases(video_id)
            if phase.get("publishing") == "complete" or phase.get("video") == "published":
                job.mark(POSTED, post_id=video_id, link=reel_link(video_id))
                return PostOutcome(platform=self.name, status="posted", link=reel_link(video_id))
            if "error" in (phase.get("video"), phase.get("processing"), phase.get("publishing")):
                job.abandon("processing error")  # this video will not become a Reel: the rerun starts another
                raise ProviderError(
                    f"Facebook could not process the Reel (video {phase.get('video')}, processing "
                    f"{phase.get('processing')}, publishing {phase.get('publishing')})"
                )
            return None

        return poll(published, "Facebook is still processing the Reel", self.settings, self.sleep)

    def _posted_today(self) -> int:
        """Reels this Page got from shorts in the last 24 hours, from the ledger."""
        since = datetime.now(UTC) - timedelta(days=1)
        return open_ledger(self.settings).posts_since(self.name, self.account, since, (PUBLISHING, POSTED))

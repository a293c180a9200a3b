"""Posting a Reel to an Instagram professional account, exactly once.

The container id is recorded before a byte is sent; every byte sent, then the publish call about to go out, are
recorded too, so a rerun asks the container where it stands and carries on: it uploads again to the same container,
waits for it, or finds it already published. An expired or failed container was never published, so a new one is
made. The daily cap is read at run time (`content_publishing_limit`), never assumed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
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

log = logging.getLogger("shorts")

MAX_CAPTION, MAX_HASHTAGS = 2200, 30
MIN_SECONDS, MAX_SECONDS = 3, 15 * 60  # Reels
LINK_HOURS = 6  # how long Instagram may take to fetch a video given by URL


class InstagramTarget:
    name = "instagram"

    def __init__(
        self, graph: GraphClient, user_id: str, settings: Settings, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.graph, self.account, self.settings, self.sleep = graph, user_id, settings, sleep

    @classmethod
    def from_settings(
        cls, settings: Settings, *, http: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> InstagramTarget:
        stored = load_token(settings.home_dir, "instagram") or {}
        token = (
            settings.instagram_access_token.get_secret_value()
            if settings.instagram_access_token
            else stored.get("access_token")
        )
        user_id = settings.instagram_user_id or stored.get("user_id")
        if not token or not user_id:
            raise ConfigError(
                "No Instagram account is set up: set INSTAGRAM_ACCESS_TOKEN and INSTAGRAM_USER_ID, or "
                "run `shorts auth instagram`."
            )
        if settings.instagram_login == "instagram" and not settings.store_url:
            raise ConfigError(
                "An Instagram Login token (SHORTS_INSTAGRAM_LOGIN=instagram) can post only a video at a "
                "public URL: set SHORTS_STORE_URL (an S3 bucket) so shorts can give Instagram a link "
                "valid for a few hours, or use a Facebook Login token (SHORTS_INSTAGRAM_LOGIN=facebook)."
            )
        base = settings.meta_graph_url if settings.instagram_login == "facebook" else settings.instagram_graph_url
        graph = GraphClient(
            "instagram",
            base,
            settings.meta_graph_version,
            str(token),
            http=http,
            sleep=sleep,
            token_hint="make a new one and run `shorts auth instagram` (or set INSTAGRAM_ACCESS_TOKEN)",
        )
        return cls(graph, str(user_id), settings, sleep)

    def close(self) -> None:
        self.graph.close()

    def check(self, video: VideoFacts, script: Script) -> str | None:
        if not MIN_SECONDS <= video.seconds <= MAX_SECONDS:
            return f"an Instagram Reel must be {MIN_SECONDS} s to 15 min long and this Short is {video.seconds:.0f} s"
        if video.width > video.height:
            return f"an Instagram Reel is vertical and this Short is {video.width}x{video.height}"
        return None

    def post(self, video: VideoFacts, script: Script, job: PostJob) -> PostOutcome:
        record, status = job.record, None
        if record is not None:
            assert record.remote_id is not None  # every mark that starts a post records its remote id
            status = self._status(record.remote_id)
            if status == "PUBLISHED":  # the publish call went out and was done; its answer was lost
                return self._posted(job, None)
            if status in ("EXPIRED", "ERROR"):
                log.info("  the earlier Instagram container is %s (never published); making a new one", status)
                job.abandon(f"container {status}")
                record = None
        if record is None:
            self._check_quota()
            text = caption(script, max_chars=MAX_CAPTION, max_hashtags=MAX_HASHTAGS)
            common = dict(
                media_type="REELS",
                is_ai_generated=True,
                caption=text,
                share_to_feed=self.settings.instagram_share_to_feed,
            )
            if self.settings.instagram_login == "instagram":  # Instagram fetches the file itself: nothing to send
                made = self.graph.post(f"{self.account}/media", video_url=public_url(video, self.settings), **common)
                job.mark(UPLOADED, remote_id=str(made["id"]))
            else:
                made = self.graph.post(f"{self.account}/media", upload_type="resumable", **common)
                uri = made.get("uri") or (
                    f"https://rupload.facebook.com/ig-api-upload/{self.settings.meta_graph_version}/{made['id']}"
                )
                job.mark(CREATED, remote_id=str(made["id"]), upload_url=uri)
            record = job.record
        assert record is not None and record.remote_id is not None  # just marked, or by an earlier run
        if record.stage == CREATED and status != "FINISHED":  # FINISHED: a killed run had sent every byte
            log.info("  sending the video to Instagram (%.1f MB)", video.size / 1e6)
            assert record.upload_url is not None  # a post is created with its upload URL
            self.graph.upload(record.upload_url, video.path)
            job.mark(UPLOADED)
        self._wait_until_finished(record.remote_id, job)
        job.mark(PUBLISHING)  # from here a lost answer may still mean a post: the rerun asks the container first
        media = self.graph.post(f"{self.account}/media_publish", creation_id=record.remote_id)
        return self._posted(job, str(media["id"]))

    def _status(self, container: str) -> str:
        answer = self.graph.get(container, fields="status_code,status")
        return str(answer.get("status_code") or "IN_PROGRESS")

    def _wait_until_finished(self, container: str, job: PostJob) -> None:
        def finished() -> bool | None:
            status = self._status(container)
            if status in ("ERROR", "EXPIRED"):
                job.abandon(f"container {status}")
                raise ProviderError(f"Instagram could not process the video (container {status})")
            return True if status == "FINISHED" else None

        poll(finished, "Instagram is still processing the video", self.settings, self.sleep)

    def describe_account(self) -> str:
        me = self.graph.get(self.account, fields="username")
        used, total = self._quota()
        return (
            f"Instagram @{me.get('username') or self.account}: token accepted; {used} of {total} posts used in "
            "the last 24 hours"
        )

    def _quota(self) -> tuple[Any, Any]:
        """(posts published, posts allowed) in the moving 24 hours, as Instagram counts them now."""
        answer = self.graph.get(f"{self.account}/content_publishing_limit", fields="quota_usage,config")
        found: list[Any] = answer.get("data") or [{}]
        return found[0].get("quota_usage"), (found[0].get("config") or {}).get("quota_total")

    def _check_quota(self) -> None:
        used, total = self._quota()
        if isinstance(used, int) and isinstance(total, int) and used >= total:
            raise ProviderError(
                f"Instagram's publishing limit for this account is used up ({used} of {total} in "
                "the last 24 hours); rerun when older posts have aged out"
            )

    def _posted(self, job: PostJob, media: str | None) -> PostOutcome:
        link = None
        if media:
            try:
                link = self.graph.get(media, fields="permalink").get("permalink")
            except ProviderError as exc:  # the Reel is up: a missing link never fails it
                log.info("  the Reel's link is not available (%s)", exc)
        job.mark(POSTED, post_id=media, link=link)
        return PostOutcome(platform=self.name, status="posted", link=link)


def public_url(video: VideoFacts, settings: Settings) -> str:
    """A link to the video that anyone can open for LINK_HOURS, from the object store (SHORTS_STORE_URL/posts); the
    link carries a signature, so it is never logged or kept."""
    from pipeline.state.store import RemoteStore  # here: object storage loads fsspec, and only this path needs it

    store = RemoteStore(f"{str(settings.store_url).rstrip('/')}/posts")
    name = f"{video.digest}.mp4"
    if not store.has(name):
        store.upload(video.path, name)
    return store.link(name, LINK_HOURS * 3600)

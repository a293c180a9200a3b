"""Posting to TikTok, exactly once: a draft in the creator's inbox (any app), or a direct post (an audited app).

The publish id is recorded before a byte is sent; a rerun asks its status and sends the file again to the same
upload URL, waits on it, or reports the draft or post it became. A publish TikTok failed was never posted, so a new
one is started. The inbox API takes no caption and no AI label: the creator adds both in the app when finishing the
draft. A direct post carries the caption, the privacy the operator chose from the creator's options, and `is_aigc`.
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
    DRAFTED,
    POSTED,
    UPLOADED,
    PostJob,
    PostOutcome,
    VideoFacts,
    caption,
    poll,
    utf16_length,
)
from pipeline.publish.tiktok.client import CHUNK_SIZE, TikTokClient, TikTokError, chunking
from pipeline.settings import PostingSettings, Settings

log = logging.getLogger("shorts")

MAX_TITLE, MAX_HASHTAGS = 2200, 30
DONE_STATUSES = ("SEND_TO_USER_INBOX", "PUBLISH_COMPLETE")
DRAFT_NOTE = (
    "in the creator's TikTok inbox: open the app to finish it; the caption and the AI-generated label are "
    "set there, as the inbox API takes neither"
)


class TikTokTarget:
    name = "tiktok"
    account = "main"  # one TikTok user per SHORTS_HOME; its open_id changes nothing here

    def __init__(
        self,
        client: TikTokClient,
        settings: Settings,
        sleep: Callable[[float], None] = time.sleep,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.client, self.settings, self.sleep, self.chunk_size = client, settings, sleep, chunk_size
        self.creator: dict[str, Any] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        token: dict[str, Any] | None = None,
    ) -> TikTokTarget:
        """`token` (access_token, refresh_token, expires_at) instead of the stored or the environment's one."""
        require_mode(settings)
        return cls(TikTokClient(settings, http=http, sleep=sleep, token=token), settings, sleep)

    @property
    def direct(self) -> bool:
        return self.settings.tiktok_mode == "direct"

    def close(self) -> None:
        self.client.close()

    def describe_account(self) -> str:
        mode = "direct posts" if self.direct else "drafts in the inbox"
        try:
            creator = self.client.call("/v2/post/publish/creator_info/query/")
        except TikTokError as exc:
            if exc.code != "scope_not_authorized" or self.direct:
                raise
            return f"TikTok: token accepted; {mode} (no video.publish permission, so no direct posts)"
        return (
            f"TikTok @{creator.get('creator_username')}: token accepted; {mode}; videos up to "
            f"{creator.get('max_video_post_duration_sec')} s; privacy options "
            f"{', '.join(creator.get('privacy_level_options') or [])}"
        )

    def check(self, video: VideoFacts, script: Script) -> str | None:
        try:
            self.creator = self.client.call("/v2/post/publish/creator_info/query/")
        except TikTokError as exc:
            if exc.code != "scope_not_authorized" or self.direct:
                raise
            log.info(
                "  TikTok's creator info needs video.publish, which an inbox-only token lacks; the length is "
                "checked by TikTok itself"
            )
            return None
        longest = self.creator.get("max_video_post_duration_sec")
        if isinstance(longest, (int, float)) and video.seconds > longest:
            return (
                f"TikTok takes videos of up to {longest:g} s from this account and this Short is {video.seconds:.0f} s"
            )
        if self.direct:
            options = self.creator.get("privacy_level_options") or []
            if self.settings.tiktok_privacy not in options:
                return (
                    f"a direct TikTok post needs SHORTS_TIKTOK_PRIVACY set to one of this account's options "
                    f"({', '.join(options) or 'none offered'})"
                )
        return None

    def post(self, video: VideoFacts, script: Script, job: PostJob) -> PostOutcome:
        record, status = job.record, {}
        if record is not None:
            assert record.remote_id is not None  # every mark that starts a post records its remote id
            status = self._status(record.remote_id)
            if status.get("status") in DONE_STATUSES:
                return self._done(job, status)
            if status.get("status") == "FAILED":
                log.info("  the earlier TikTok upload failed (%s); starting a new one", status.get("fail_reason"))
                job.abandon(f"failed: {status.get('fail_reason')}")
                record, status = None, {}
        chunk_size, chunks = chunking(video.size, self.chunk_size)
        if record is None:
            started = self._init(video, script, chunk_size, chunks)
            job.mark(CREATED, remote_id=str(started["publish_id"]), upload_url=started.get("upload_url"))
            record = job.record
        assert record is not None and record.remote_id is not None  # just marked, or by an earlier run
        if record.stage == CREATED and status.get("uploaded_bytes") != video.size:  # else a killed run sent it all
            log.info(
                "  sending the video to TikTok (%.1f MB, %d chunk%s)",
                video.size / 1e6,
                chunks,
                "" if chunks == 1 else "s",
            )
            if record.upload_url is None:  # the init answer had none: an answer not shaped as documented
                raise KeyError("upload_url")
            try:
                self.client.upload(record.upload_url, video.path, chunk_size)
            except TikTokError as exc:
                if not exc.transient:  # the upload URL is no longer taken: this publish can never finish
                    job.abandon(str(exc))
                raise
            job.mark(UPLOADED)
        return self._done(job, self._wait(record.remote_id, job))

    def _init(self, video: VideoFacts, script: Script, chunk_size: int, chunks: int) -> dict[str, Any]:
        source = {
            "source": "FILE_UPLOAD",
            "video_size": video.size,
            "chunk_size": chunk_size,
            "total_chunk_count": chunks,
        }
        if not self.direct:
            path, body = "/v2/post/publish/inbox/video/init/", {"source_info": source}
        else:
            path, body = (
                "/v2/post/publish/video/init/",
                {
                    "source_info": source,
                    "post_info": {
                        "title": caption(script, max_chars=MAX_TITLE, max_hashtags=MAX_HASHTAGS, count=utf16_length),
                        "privacy_level": self.settings.tiktok_privacy,
                        "is_aigc": True,
                        "disable_comment": False,
                        "disable_duet": False,
                        "disable_stitch": False,
                        "brand_content_toggle": False,
                        "brand_organic_toggle": False,
                    },
                },
            )
        try:
            return self.client.call(path, body)
        except TikTokError as exc:
            if exc.code != "rate_limit_exceeded":
                raise
        log.info("  TikTok allows 6 uploads a minute per account; waiting a minute")  # nothing was started
        self.sleep(60)
        return self.client.call(path, body)

    def _status(self, publish_id: str) -> dict[str, Any]:
        return self.client.call("/v2/post/publish/status/fetch/", {"publish_id": publish_id})

    def _wait(self, publish_id: str, job: PostJob) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            status = self._status(publish_id)
            if status.get("status") == "FAILED":
                job.abandon(f"failed: {status.get('fail_reason')}")
                raise ProviderError(f"TikTok could not process the video ({status.get('fail_reason') or 'failed'})")
            return status if status.get("status") in DONE_STATUSES else None

        return poll(done, "TikTok is still processing the video", self.settings, self.sleep)

    def _done(self, job: PostJob, status: dict[str, Any]) -> PostOutcome:
        if status.get("status") == "SEND_TO_USER_INBOX":
            job.mark(DRAFTED, detail=DRAFT_NOTE)
            return PostOutcome(platform=self.name, status="drafted", reason=DRAFT_NOTE)
        ids = status.get("publicaly_available_post_id") or []  # sic, TikTok's spelling; sometimes one id, not a list
        post_id = str(ids[0] if isinstance(ids, list) and ids else ids or "") or None
        user = self.creator.get("creator_username")
        link = f"https://www.tiktok.com/@{user}/video/{post_id}" if post_id and user else None
        job.mark(POSTED, post_id=post_id, link=link)
        return PostOutcome(platform=self.name, status="posted", link=link)


def require_mode(settings: PostingSettings) -> None:
    """A direct post needs a privacy chosen by the operator; there is no default, as TikTok's guidelines ask."""
    if settings.tiktok_mode == "direct" and not settings.tiktok_privacy:
        raise ConfigError(
            "SHORTS_TIKTOK_MODE=direct needs SHORTS_TIKTOK_PRIVACY (PUBLIC_TO_EVERYONE, "
            "MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR or SELF_ONLY, as the account allows)."
        )

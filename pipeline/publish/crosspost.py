"""Posting the finished Short to other platforms (Instagram, Facebook, TikTok), exactly once per platform and account.

Each platform is a `PostTarget`: a name, an account, a `check` of its rules (a reason not to post, or None) and a
`post` that records each remote id in the ledger (through `PostJob.save`) before waiting on it. `post_everywhere`
runs the targets one after another; a platform that fails never stops the others, and each ends as one `PostOutcome`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict

from pipeline.errors import ConfigError, ShortsError, redact
from pipeline.models import Script
from pipeline.settings import Settings
from pipeline.state.ledger import Ledger, Post, open_ledger
from pipeline.state.store import file_digest

log = logging.getLogger("shorts")

PLATFORMS = ("youtube", "instagram", "facebook", "tiktok")
# Stages of a post in the ledger: the remote id exists (bytes may be missing), every byte is sent, the publish call
# went out, and the two ends; `abandoned` means the remote side dropped it (expired, failed) before it was posted.
CREATED, UPLOADED, PUBLISHING, POSTED, DRAFTED, ABANDONED = (
    "created", "uploaded", "publishing", "posted", "drafted", "abandoned")
FINISHED = (POSTED, DRAFTED)


class PostOutcome(BaseModel):
    """How one platform ended: posted (with its link), drafted, skipped (why) or failed (why; `resumes` says whether
    a rerun continues the same post)."""

    model_config = ConfigDict(frozen=True)

    platform: str
    status: Literal["posted", "drafted", "skipped", "failed"]
    link: str | None = None
    reason: str | None = None
    resumes: bool = False

    def line(self) -> str:
        """One line for a person."""
        if self.status == "posted":
            return f"{self.platform}: posted {self.link or '(no link given; see the account)'}"
        if self.status == "drafted":
            return f"{self.platform}: drafted ({self.reason})"
        if self.status == "skipped":
            return f"{self.platform}: skipped ({self.reason})"
        then = "a rerun resumes this post" if self.resumes else "a rerun starts it again"
        return f"{self.platform}: failed ({self.reason}; {then})"


@dataclass(frozen=True)
class VideoFacts:
    """What the platforms' rules look at, measured once."""

    path: Path
    digest: str
    size: int
    width: int
    height: int
    seconds: float


class PostJob:
    """One post's record in the ledger: what an earlier run got to, and `save` to move it on (before any wait)."""

    def __init__(self, ledger: Ledger, platform: str, account: str, digest: str) -> None:
        self.ledger, self.platform, self.account, self.digest = ledger, platform, account, digest

    @property
    def record(self) -> Post | None:
        found = self.ledger.post(self.platform, self.account, self.digest)
        return None if found is None or found.stage == ABANDONED else found

    def save(self, stage: str, **changes: str | None) -> None:
        self.ledger.record_post(self.platform, self.account, self.digest, stage=stage, **changes)

    def abandon(self, why: str) -> None:
        """The remote side dropped this post before it was published: the next run starts a new one."""
        self.save(ABANDONED, remote_id=None, upload_url=None, detail=why[:300])


class PostTarget(Protocol):
    """One platform to post to."""

    name: str
    account: str  # the Instagram user, Facebook Page or TikTok user posted as: part of the exactly-once key

    def check(self, video: VideoFacts, script: Script) -> str | None:
        """Why this video must not go to this platform (one sentence), or None."""

    def post(self, video: VideoFacts, script: Script, job: PostJob) -> PostOutcome:
        """Post it, or resume the post `job.record` describes; raises ShortsError when it fails."""

    def close(self) -> None:
        """Close the connections the target opened itself."""


def parse_platforms(text: str | list[str] | None) -> list[str]:
    """`youtube,instagram` (or a list) as a list of known platforms, in order, each once; one sentence otherwise."""
    items = text if isinstance(text, list) else (text or "").split(",")
    names = [item.strip().lower() for item in items if item.strip()]
    unknown = [name for name in names if name not in PLATFORMS]
    if unknown:
        raise ConfigError(f"Cannot post to {', '.join(unknown)}; choose from {', '.join(PLATFORMS)}.")
    return list(dict.fromkeys(names))


def build_target(name: str, settings: Settings, *, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> PostTarget:
    """The target for a platform, with its credentials; ConfigError (one sentence) when they are missing."""
    if name == "instagram":
        from pipeline.publish.instagram.target import InstagramTarget
        return InstagramTarget.from_settings(settings, http=http, sleep=sleep)
    if name == "facebook":
        from pipeline.publish.facebook.target import FacebookTarget
        return FacebookTarget.from_settings(settings, http=http, sleep=sleep)
    if name == "tiktok":
        from pipeline.publish.tiktok.target import TikTokTarget
        return TikTokTarget.from_settings(settings, http=http, sleep=sleep)
    raise ConfigError(f"Cannot post to {name}; choose from instagram, facebook, tiktok.")


def check_post_ready(settings: Settings, platforms: list[str]) -> None:
    """Fail now, before anything is made, when a platform asked for has no credentials."""
    for name in platforms:
        if name != "youtube":
            build_target(name, settings).close()


def video_facts(video: Path) -> VideoFacts:
    from pipeline.publish.youtube_format import probe

    width, height, seconds = probe(video)
    return VideoFacts(path=video, digest=file_digest(video), size=video.stat().st_size, width=width, height=height,
                      seconds=seconds)


def post_everywhere(video: Path, script: Script, platforms: list[str], settings: Settings, *,
                    http: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep
                    ) -> list[PostOutcome]:
    """Post `video` to each platform (not YouTube: see step.publish) at most once; one outcome per platform."""
    facts = video_facts(video)
    ledger = open_ledger(settings)
    outcomes = []
    for name in platforms:
        try:
            target = build_target(name, settings, http=http, sleep=sleep)
        except ShortsError as exc:
            outcomes.append(PostOutcome(platform=name, status="skipped", reason=str(exc).rstrip(".")))
            continue
        try:
            outcomes.append(_post_once(target, facts, script, ledger))
        finally:
            target.close()
    for outcome in outcomes:
        log.info("  %s", outcome.line())
    return outcomes


def _post_once(target: PostTarget, video: VideoFacts, script: Script, ledger: Ledger) -> PostOutcome:
    # Two runs posting the same video at once: the second waits, then finds the first one's post in the ledger.
    with ledger.hold(f"post-{target.name}-{target.account}-{video.digest}",
                     waiting=f"waiting for another run that is posting this video to {target.name}"):
        job = PostJob(ledger, target.name, target.account, video.digest)
        earlier = job.record
        if earlier and earlier.stage in FINISHED:  # a published post is never posted again
            log.info("  already on %s, nothing posted again", target.name)
            return PostOutcome(platform=target.name, status="posted" if earlier.stage == POSTED else "drafted",
                               link=earlier.link, reason=earlier.detail)
        try:
            if earlier is None and (reason := target.check(video, script)):
                return PostOutcome(platform=target.name, status="skipped", reason=reason.rstrip("."))
            if earlier:
                log.info("  resuming the %s post (%s)", target.name, earlier.stage)
            return target.post(video, script, job)
        except ShortsError as exc:
            return _failed(target.name, str(exc), job)
        except httpx.HTTPError as exc:  # connection trouble past the retries: never the URL, which may carry an id
            return _failed(target.name, f"could not reach {target.name} ({type(exc).__name__})", job)


def _failed(platform: str, reason: str, job: PostJob) -> PostOutcome:
    resumes = job.record is not None
    return PostOutcome(platform=platform, status="failed", reason=redact(reason).rstrip("."), resumes=resumes)


# Captions: written from the script's title, description and tags, within each platform's limits.
_HASHTAG_SPACE = re.compile(r"[^\w]+", re.UNICODE)


def hashtags(tags: list[str], limit: int) -> list[str]:
    """The script's tags as hashtags (`ocean life` -> `#oceanlife`), each once, at most `limit`."""
    found = dict.fromkeys(f"#{_HASHTAG_SPACE.sub('', tag)}" for tag in tags if _HASHTAG_SPACE.sub("", tag))
    return list(found)[:limit]


def caption(script: Script, *, max_chars: int, max_hashtags: int, count: Callable[[str], int] = len,
            title: bool = True) -> str:
    """Title, description and hashtags in at most `max_chars` (as `count` measures them); the description is cut
    first, with an ellipsis, so the title and the tags stay."""
    tags = " ".join(hashtags(script.tags, max_hashtags))
    head = script.title if title else ""
    parts = [part for part in (head, script.description.strip(), tags) if part]
    text = "\n\n".join(parts)
    if count(text) <= max_chars:
        return text
    fixed = "\n\n".join(part for part in (head, tags) if part)
    room = max_chars - count(fixed) - 4  # two blank lines and the ellipsis
    description = script.description.strip()
    while description and count(description) > room:
        description = description[:-max(1, (count(description) - room))].rstrip()
    text = "\n\n".join(part for part in (head, f"{description}…" if description else "", tags) if part)
    while count(text) > max_chars:  # a title and tags over the limit alone: cut the end
        text = text[:-1]
    return text


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as TikTok counts a title."""
    return len(text.encode("utf-16-le")) // 2

"""The contract every platform we post to (other than YouTube) fulfils, and what the platforms share: the outcome
of a post, its record in the ledger, the facts of the video, and captions within each platform's limits.

Each platform is a `PostTarget`: a name, an account, a `check` of its rules (a reason not to post, or None) and a
`post` that records each remote id in the ledger (through `PostJob.mark`) before waiting on it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar, get_args

from pydantic import BaseModel, ConfigDict

from pipeline.errors import ProviderError
from pipeline.models import Script
from pipeline.settings import PostingSettings
from pipeline.state.ledger import Ledger, Post

Platform = Literal["youtube", "instagram", "facebook", "tiktok"]  # a pick list in the Prefect UI's run forms
PLATFORMS: tuple[str, ...] = get_args(Platform)
# Stages of a post in the ledger: the remote id exists (bytes may be missing), every byte is sent, the publish call
# went out, and the two ends; `abandoned` means the remote side dropped it (expired, failed) before it was posted.
CREATED, UPLOADED, PUBLISHING, POSTED, DRAFTED, ABANDONED = (
    "created",
    "uploaded",
    "publishing",
    "posted",
    "drafted",
    "abandoned",
)
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
        return f"{self.platform}: {self.summary}"

    @property
    def summary(self) -> str:
        """The line without the platform's name: for a table with a column per platform."""
        if self.status == "posted":
            return f"posted {self.link or '(no link given; see the account)'}"
        if self.status in ("drafted", "skipped"):
            return f"{self.status} ({self.reason})"
        return f"failed ({self.failure})"

    @property
    def failure(self) -> str:
        """Why it failed, and what a rerun does about it."""
        then = "a rerun resumes this post" if self.resumes else "a rerun starts it again"
        return f"{self.reason}; {then}"


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

    def mark(self, stage: str, **changes: str | None) -> None:
        """Move the post to `stage`, with any remote id or link learnt; before any wait on it."""
        self.ledger.record_post(self.platform, self.account, self.digest, stage=stage, **changes)

    def abandon(self, why: str) -> None:
        """The remote side dropped this post before it was published: the next run starts a new one."""
        self.mark(ABANDONED, remote_id=None, upload_url=None, detail=why[:300])


T = TypeVar("T")


def poll(check: Callable[[], T | None], still: str, settings: PostingSettings, sleep: Callable[[float], None]) -> T:
    """What `check` returns once it returns something (it raises when the platform gave up), asked every
    SHORTS_POST_POLL_SECONDS for at most SHORTS_POST_WAIT_MINUTES; `still` says what is still going on after that."""
    deadline = time.monotonic() + settings.post_wait_minutes * 60
    while (done := check()) is None:
        if time.monotonic() > deadline:
            raise ProviderError(f"{still} after {settings.post_wait_minutes:g} min")
        sleep(settings.post_poll_seconds)
    return done


class PostTarget(Protocol):
    """One platform to post to."""

    name: str
    account: str  # the Instagram user, Facebook Page or TikTok user posted as: part of the exactly-once key

    def check(self, video: VideoFacts, script: Script) -> str | None:
        """Why this video must not go to this platform (one sentence), or None."""

    def post(self, video: VideoFacts, script: Script, job: PostJob) -> PostOutcome:
        """Post it, or resume the post `job.record` describes; raises ShortsError when it fails."""

    def describe_account(self) -> str:
        """With free calls: whose account the token is for and what is left of its quota, in one line; ShortsError
        when the platform refuses the token."""

    def close(self) -> None:
        """Close the connections the target opened itself."""


# Captions: written from the script's title, description and tags, within each platform's limits.
_HASHTAG_SPACE = re.compile(r"[^\w]+", re.UNICODE)


def hashtags(tags: list[str], limit: int) -> list[str]:
    """The script's tags as hashtags (`ocean life` -> `#oceanlife`), each once, at most `limit`."""
    found = dict.fromkeys(f"#{_HASHTAG_SPACE.sub('', tag)}" for tag in tags if _HASHTAG_SPACE.sub("", tag))
    return list(found)[:limit]


def caption(
    script: Script, *, max_chars: int, max_hashtags: int, count: Callable[[str], int] = len, title: bool = True
) -> str:
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
        description = description[: -max(1, (count(description) - room))].rstrip()
    text = "\n\n".join(part for part in (head, f"{description}…" if description else "", tags) if part)
    while count(text) > max_chars:  # a title and tags over the limit alone: cut the end
        text = text[:-1]
    return text


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as TikTok counts a title."""
    return len(text.encode("utf-16-le")) // 2

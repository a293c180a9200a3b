"""A Short's YouTube snippet and status, built from its script and fitted to YouTube's limits before upload."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import AwareDatetime, Field

from pipeline.errors import ConfigError
from pipeline.limits import DESCRIPTION_MAX_BYTES, TAGS_MAX_CHARS, TITLE_MAX_CHARS, tags_length
from pipeline.models import Model, Script

if TYPE_CHECKING:
    from googleapiclient._apis.youtube.v3.schemas import Video, VideoSnippet, VideoStatus

log = logging.getLogger("shorts")

ELLIPSIS = "…"
Privacy = Literal["private", "unlisted", "public"]
# A BCP-47 tag such as en, pt-BR or zh-Hant-TW; YouTube rejects anything else in defaultLanguage.
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class VideoMetadata(Model):
    """What YouTube is told about a video: its snippet and status, already within the limits."""

    title: str = Field(min_length=1, max_length=TITLE_MAX_CHARS)
    description: str
    tags: list[str]
    category_id: str = Field(pattern=r"^\d+$")
    language: str | None
    privacy: Privacy
    publish_at: AwareDatetime | None
    made_for_kids: bool
    synthetic_media: bool = True

    def body(self) -> Video:
        """The `videos.insert` request body for `part="snippet,status"`."""
        snippet: VideoSnippet = {
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "categoryId": self.category_id,
        }
        if self.language:
            snippet["defaultLanguage"] = snippet["defaultAudioLanguage"] = self.language
        status: VideoStatus = {
            "privacyStatus": self.privacy,
            # sent even when false: left out, YouTube asks in Studio and holds the video
            "selfDeclaredMadeForKids": self.made_for_kids,
            "containsSyntheticMedia": self.synthetic_media,
        }
        if self.publish_at:
            status["publishAt"] = self.publish_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"snippet": snippet, "status": status}


def check_schedule(privacy: str, publish_at: datetime | None, now: datetime | None = None) -> None:
    """Refuse a publish time in the past, or one with a privacy other than private."""
    if publish_at is None:
        return
    if publish_at.tzinfo is None:
        raise ConfigError(
            f"SHORTS_YOUTUBE_PUBLISH_AT ({publish_at.isoformat()}) has no time zone; "
            "add one, e.g. 2030-01-31T18:00:00+01:00."
        )
    if publish_at <= (now or datetime.now(UTC)):
        raise ConfigError(
            f"SHORTS_YOUTUBE_PUBLISH_AT ({publish_at.isoformat()}) is in the past; "
            "set a future time or unset it to upload now."
        )
    if privacy != "private":
        raise ConfigError(
            f"SHORTS_YOUTUBE_PUBLISH_AT needs SHORTS_YOUTUBE_PRIVACY=private (it is {privacy}); "
            "YouTube keeps a scheduled video private until that time."
        )


def build_metadata(
    script: Script,
    language: str,
    *,
    category_id: str = "22",
    privacy: str = "private",
    publish_at: datetime | None = None,
    made_for_kids: bool = False,
    now: datetime | None = None,
) -> VideoMetadata:
    """Fit the script's title, description and tags to YouTube's limits and add the status settings."""
    check_schedule(privacy, publish_at, now)
    title = shorten_for_youtube(_clean(script.title, "title"), TITLE_MAX_CHARS, what="title")
    if not title:
        raise ConfigError("The script's title is empty once < and > are removed; give the Short a title and rerun.")
    description = shorten_for_youtube(
        _clean(script.description, "description"),
        DESCRIPTION_MAX_BYTES,
        what="description",
        size=lambda text: len(text.encode("utf-8")),
        unit="bytes",
    )
    tags = fit_tags(script.tags)
    if not LANGUAGE_TAG.match(language):
        log.warning("  language %r is not a code like en or pt-BR, so YouTube is not told the language", language)
    return VideoMetadata(
        title=title,
        description=description,
        tags=tags,
        category_id=category_id,
        language=language if LANGUAGE_TAG.match(language) else None,
        privacy=privacy,
        publish_at=publish_at,
        made_for_kids=made_for_kids,
    )


def with_credits(script: Script, credits: list[str], sources: Sequence[str] = ()) -> Script:
    """The script with the credits at the end of its description (the article and pictures its facts and frames come
    from, then the footage), cutting the description (never the credits) to keep the whole within YouTube's limit."""
    if not credits and not sources:
        return script
    block = "".join(
        f"\n\n{heading}:\n" + "\n".join(lines)
        for heading, lines in (("Sources", sources), ("Footage", credits))
        if lines
    )
    room = DESCRIPTION_MAX_BYTES - len(block.encode("utf-8"))
    description = shorten_for_youtube(
        script.description.rstrip(),
        max(room, 0),
        what="description",
        size=lambda text: len(text.encode("utf-8")),
        unit="bytes",
    )
    return script.model_copy(update={"description": description + block})


def fit_tags(tags: list[str], limit: int = TAGS_MAX_CHARS) -> list[str]:
    """Clean the tags (no < > or commas, no repeats) and keep the first ones that fit within `limit`."""
    kept: list[str] = []
    seen: set[str] = set()
    for raw in tags:
        tag = " ".join(re.sub(r"[<>,]", " ", raw).split())
        if not tag or tag.lower() in seen:
            continue
        if tags_length([*kept, tag]) > limit:
            log.warning("  YouTube tags cut to %d of %d (at most %d characters in all)", len(kept), len(tags), limit)
            break
        kept.append(tag)
        seen.add(tag.lower())
    return kept


def shorten_for_youtube(
    text: str, limit: int, *, what: str = "text", size: Callable[[str], int] = len, unit: str = "characters"
) -> str:
    """`text` if it fits within `limit`, else cut at the last word boundary that fits, with an ellipsis."""
    if size(text) <= limit:
        return text
    kept = ""
    for piece in re.split(r"(\s+)", text):
        if size(kept + piece + ELLIPSIS) > limit:
            break
        kept += piece
    if not kept.strip():  # one word longer than the limit: cut inside it
        for char in text:
            if size(kept + char + ELLIPSIS) > limit:
                break
            kept += char
    cut = kept.rstrip() + ELLIPSIS
    log.warning("  YouTube %s cut from %d to %d %s (the limit is %d)", what, size(text), size(cut), unit, limit)
    return cut


def _clean(text: str, what: str) -> str:
    if "<" in text or ">" in text:
        log.warning("  YouTube does not allow < or > in the %s; removed them", what)
        text = text.replace("<", "").replace(">", "")
    return text.strip()

"""YouTube's limits on a video's metadata, in the units YouTube counts them: the one place they are written."""

from __future__ import annotations

TITLE_MAX_CHARS = 100
DESCRIPTION_MAX_BYTES = 5000  # YouTube counts the description in UTF-8 bytes, not characters
TAGS_MAX_CHARS = 500


def tags_length(tags: list[str]) -> int:
    """The tags' length as YouTube counts it: commas between tags, and quotes around a tag with a space."""
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(len(tags) - 1, 0)


SHORT_MAX_SECONDS = 180.0  # a longer upload is a normal video; so is one wider than tall, whatever its length
THUMBNAIL_MAX_BYTES = 50 * 1024 * 1024  # thumbnails.set, since 2026-09-14 (2 MB before)

"""A YouTube Studio export (Analytics > Advanced mode > Export > CSV) with the Shorts feed's "Viewed vs swiped away",
which no API offers: matched to our uploads by video id and kept beside the API's numbers."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.analytics.models import StudioNumbers
from pipeline.analytics.store import save_studio, uploaded_videos
from pipeline.errors import ConfigError
from pipeline.settings import Settings
from pipeline.state.ledger import open_ledger

ID_HEADERS = ("content", "video", "video id", "video_id")
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")


def read_studio_csv(path: Path) -> dict[str, StudioNumbers]:
    """The export's rows by video id: the share that viewed (stayed to watch) and that swiped away, and views."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"No file at {path}; export the table from YouTube Studio (Analytics > Advanced mode > "
            "Export current view > Comma-separated values)."
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path} as a CSV text file; export it again from YouTube Studio.") from exc
    rows = list(csv.DictReader(text.splitlines()))
    headers = {name.strip().casefold(): name for name in (rows[0].keys() if rows else []) if name}
    id_column = next((headers[h] for h in ID_HEADERS if h in headers), None)
    viewed = _column(headers, lambda h: "stayed to watch" in h or ("viewed" in h and "average" not in h))
    swiped = _column(headers, lambda h: "swiped" in h)
    if id_column is None or (viewed is None and swiped is None):
        raise ConfigError(
            f'{path.name} is not a Studio export with video ids and "Viewed vs swiped away" (it needs '
            "a Content or Video column and a Stayed to watch or Swiped away column); export the Shorts "
            "table with that metric."
        )
    views = _column(headers, lambda h: h.split(" (")[0] in ("engaged views", "views"))
    found: dict[str, StudioNumbers] = {}
    for row in rows:
        video_id = (row.get(id_column) or "").strip()
        if not _VIDEO_ID.match(video_id) or video_id.casefold() == "total":
            continue
        stayed, away = _percent(row, viewed), _percent(row, swiped)
        stayed = stayed if stayed is not None else (100 - away if away is not None else None)
        away = away if away is not None else (100 - stayed if stayed is not None else None)
        count = _percent(row, views)
        found[video_id] = StudioNumbers(
            viewed_percent=stayed, swiped_percent=away, views=int(count) if count is not None else None
        )
    return found


def import_studio_csv(settings: Settings, path: Path, channel: str | None = None) -> tuple[int, int]:
    """Store the export's numbers for our uploads; returns (rows matched, rows of other videos skipped)."""
    numbers = read_studio_csv(path)
    ledger = open_ledger(settings)
    ours = {video.video_id for video in uploaded_videos(ledger, channel or settings.youtube_channel)}
    matched = {video_id: found for video_id, found in numbers.items() if video_id in ours}
    save_studio(ledger, matched, datetime.now(UTC))
    return len(matched), len(numbers) - len(matched)


def _column(headers: dict[str, str], wanted: Callable[[str], bool]) -> str | None:
    """The first column whose case-folded header is `wanted`."""
    return next((name for folded, name in headers.items() if wanted(folded)), None)


def _percent(row: dict[str, str], column: str | None) -> float | None:
    if column is None:
        return None
    text = (row.get(column) or "").strip().rstrip("%").replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None

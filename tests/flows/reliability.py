"""Shared by the crash, concurrency and secrets suites: the environment of a `shorts` run against the fakes, a
YouTube token, and checks that nothing half-written looks finished."""

from __future__ import annotations

import json
import sqlite3
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import imageio_ffmpeg
from google.oauth2.credentials import Credentials
from local_prefect import clean_env
from PIL import Image

from pipeline.publish.youtube_auth import SCOPES, save_token

REFRESH_TOKEN = "1//fake-refresh-token-RELIABILITY-c41d"
CLIENT_SECRET = "GOCSPX-fake-client-secret-RELIABILITY"


def run_env(home: Path, out: Path, api: str, **changes: str) -> dict[str, str]:
    """A `shorts` environment: this test's home and output folder, the session's Prefect server, a tiny format
    (tests/conftest.py's TINY), and Prefect's result records inside the home, so no other test's cache is seen."""
    return clean_env(
        PREFECT_API_URL=api,
        SHORTS_HOME=str(home),
        SHORTS_OUTPUT_DIR=str(out),
        PREFECT_LOCAL_STORAGE_PATH=str(home / "prefect-results"),
        SHORTS_WIDTH="144",
        SHORTS_HEIGHT="256",
        SHORTS_FPS="12",
        **changes,
    )


def save_youtube_token(home: Path, access_token: str) -> Path:
    """A valid (not expired) token for channel `main`, so no refresh is needed."""
    path = home / "youtube" / "main.json"
    save_token(
        Credentials(
            token=access_token,
            refresh_token=REFRESH_TOKEN,
            client_id="cid.apps.example",
            client_secret=CLIENT_SECRET,
            token_uri="https://oauth2.googleapis.com/token",
            scopes=list(SCOPES),
            expiry=datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=2),
        ),
        path,
    )
    return path


def temporaries(*roots: Path) -> list[Path]:
    """Every temporary file or folder (a `.part` name) under `roots`."""
    return [p for root in roots if root.exists() for p in root.rglob("*") if ".part" in p.name]


def check_finished_files(*roots: Path) -> int:
    """Open every file under `roots` that looks finished (not a hidden temporary) and fail on any that is not
    whole; returns how many were checked."""
    checked = 0
    for root in roots:
        for path in (p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
            suffix = path.suffix
            if suffix == ".mp4":
                frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
                assert frames > 0, f"{path} has no frames"
            elif suffix == ".png":
                with Image.open(path) as image:
                    image.verify()
            elif suffix == ".wav":
                with wave.open(str(path)) as w:
                    assert w.getnframes() > 0, f"{path} has no samples"
            elif suffix == ".json" and "prefect-results" not in path.parts and path.parent.name != "youtube":
                json.loads(path.read_text(encoding="utf-8"))
            elif suffix == ".srt":
                assert path.read_text(encoding="utf-8").startswith("1\n"), f"{path} is not whole"
            else:
                continue
            checked += 1
    return checked


def remote_tasks(home: Path) -> list[dict]:
    """The ledger's remote tasks as dicts."""
    db = sqlite3.connect(home / "ledger.sqlite")
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute("SELECT * FROM remote_tasks ORDER BY row")]
    finally:
        db.close()

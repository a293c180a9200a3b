"""Test set-up: every test gets its own SHORTS_HOME, no vendor keys, and tiny videos."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

# Prefect reads its settings at import: point it at a throwaway home before anything imports it.
_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="shorts-tests-prefect-"))
os.environ.update(
    PREFECT_HOME=str(_PREFECT_HOME),
    PREFECT_LOCAL_STORAGE_PATH=str(_PREFECT_HOME / "results"),
    PREFECT_SERVER_ANALYTICS_ENABLED="false",
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="240",
    PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW="ignore",
)

import pytest  # noqa: E402

from pipeline import ShortRequest, VideoFormat  # noqa: E402

VENDOR_KEYS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "RUNWAYML_API_SECRET",
    "RUNWAY_API_KEY",
    "RUNWAYML_BASE_URL",
    "RUNWARE_API_KEY",
    "RUNWARE_BASE_URL",
    "PEXELS_API_KEY",
    "PEXELS_BASE_URL",
    "PIXABAY_API_KEY",
    "PIXABAY_BASE_URL",
    "ELEVENLABS_API_KEY",
    "ELEVENLABS_BASE_URL",
)
TINY = VideoFormat(width=144, height=256, fps=12)


@pytest.fixture(scope="session")
def no_ollama_host():
    """A loopback port bound but never listening: connecting is refused at once, so `auto` finds no Ollama even on
    a machine that runs one."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path, no_ollama_host):
    """No real key ever reaches a test, and each test has its own SHORTS_HOME and output folder."""
    for name in list(os.environ):
        if name in VENDOR_KEYS or name.startswith("SHORTS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OLLAMA_HOST", no_ollama_host)
    monkeypatch.setenv("SHORTS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SHORTS_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("SHORTS_WIDTH", str(TINY.width))
    monkeypatch.setenv("SHORTS_HEIGHT", str(TINY.height))
    monkeypatch.setenv("SHORTS_FPS", str(TINY.fps))
    monkeypatch.setenv("SHORTS_REVIEW_POLL_SECONDS", "0.5")  # a resumed or expired review is seen at once
    monkeypatch.setenv("SHORTS_SERVER_IDLE_MINUTES", "0.5")  # a background server a test's `shorts` starts ends soon
    # No test reaches the real Wikipedia: those about the source point SHORTS_WIKIPEDIA_URL at the fake and set it back.
    monkeypatch.setenv("SHORTS_SOURCE", "none")
    monkeypatch.chdir(tmp_path)  # so no developer's .env is read


@pytest.fixture
def tiny() -> VideoFormat:
    return TINY


@pytest.fixture
def request_5s() -> ShortRequest:
    return ShortRequest(topic="octopus camouflage", seconds=5, scenes=2)


@pytest.fixture
def runway(monkeypatch):
    """A fake Runway the pipeline reaches through RUNWAYML_BASE_URL, polled every 10 ms instead of 5 s."""
    from fakes.runway import KEY, FakeRunway

    fake = FakeRunway().start()
    monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
    monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
    monkeypatch.setenv("SHORTS_RUNWAY_POLL_SECONDS", "0.01")
    monkeypatch.setenv("SHORTS_RUNWAY_CONCURRENCY", "4")
    yield fake
    fake.stop()


@pytest.fixture
def youtube():
    """A fake YouTube on 127.0.0.1 (uploads, video status, thumbnails)."""
    from fakes.youtube import FakeYouTube

    fake = FakeYouTube()
    yield fake
    fake.stop()


@pytest.fixture
def youtube_settings(youtube):
    """Settings that reach the fake YouTube, with a saved token for the default channel."""
    from fakes.youtube import authorise

    from pipeline import Settings

    settings = Settings(youtube_api_url=youtube.url)
    authorise(settings.home_dir)
    return settings


@pytest.fixture(scope="session")
def postgres_server_url():
    """One throwaway Postgres cluster per test worker (Debian's `postgresql` package, which .ci/run installs)."""
    from pg_server import pg_bin, postgres_server

    if pg_bin() is None:
        pytest.skip("Postgres binaries are not installed (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server_url, request) -> str:
    """A new, empty database on the session's Postgres server, for this test alone."""
    import re

    import psycopg

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40] + f"_{os.getpid()}"
    with psycopg.connect(postgres_server_url, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name}")
        db.execute(f"CREATE DATABASE {name}")
    return postgres_server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def s3_endpoint():
    """One local S3-compatible server (moto) per test worker."""
    from s3_server import s3_server

    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_store_url(s3_endpoint, request, monkeypatch) -> str:
    """A new bucket for this test, with the AWS variables that reach it set; returns an s3:// store URL."""
    import re
    import uuid

    from s3_server import AWS_ENV, make_bucket

    bucket = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-") + "-" + uuid.uuid4().hex[:6]
    make_bucket(s3_endpoint, bucket)
    for name, value in {**AWS_ENV, "AWS_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(name, value)
    return f"s3://{bucket}/shorts"


_MYPY: dict[str, Any] = {}  # the background mypy run this process started, and its folder


def pytest_configure(config: pytest.Config) -> None:
    # mypy takes about a minute from a fresh clone: the run that collects tests/test_types.py starts it now,
    # in the background, before the test workers start (they inherit where its verdict will be).
    if hasattr(config, "workerinput") or not _selects(config.args, Path(__file__).with_name("test_types.py")):
        return
    import type_check

    _MYPY["folder"] = Path(tempfile.mkdtemp(prefix="shorts-tests-mypy-"))
    _MYPY["process"] = type_check.start(_MYPY["folder"] / "verdict")


def pytest_unconfigure(config: pytest.Config) -> None:
    process = _MYPY.get("process")
    if isinstance(process, subprocess.Popen):
        if process.poll() is None:
            process.terminate()  # the suite stopped early: ours, by its pid
        process.wait()
        shutil.rmtree(_MYPY["folder"], ignore_errors=True)


def _selects(args: list[str], test_file: Path) -> bool:
    """Whether the command line's paths include `test_file` (the default, tests/, does)."""
    paths = [Path(arg.split("::")[0]).resolve() for arg in args] or [test_file.parent]
    return any(path == test_file or path in test_file.parents for path in paths)

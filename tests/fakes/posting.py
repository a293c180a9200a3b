"""What the cross-posting tests share: the environment that points every platform at the fakes, a script, and a run
of `post_everywhere` in a child process that a test can SIGKILL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fakes import meta, tiktok
from pipeline import Scene, Script

SCRIPT = Script(
    title="How octopuses change colour",
    description="Octopuses vanish in plain sight with cells under their skin.",
    tags=["octopus", "ocean life", "camouflage"],
    hook="Blink and it is gone.",
    scenes=[
        Scene(
            index=1,
            narration="Octopuses see with their skin.",
            first_frame_prompt="an octopus on coral",
            motion_prompt="slow push in",
            seconds=5,
        )
    ],
)
SECRETS = (meta.IG_TOKEN, meta.PAGE_TOKEN, tiktok.ACCESS, tiktok.REFRESH, tiktok.CLIENT_SECRET)


def platform_env(monkeypatch, fake_meta: meta.FakeMeta | None, fake_tiktok: tiktok.FakeTikTok | None) -> None:
    """Point the platforms at the fakes, with their fake tokens, polling every 10 ms."""
    monkeypatch.setenv("SHORTS_POST_POLL_SECONDS", "0.01")
    monkeypatch.setenv("SHORTS_POST_WAIT_MINUTES", "0.5")
    if fake_meta:
        monkeypatch.setenv("SHORTS_META_GRAPH_URL", fake_meta.graph)
        monkeypatch.setenv("INSTAGRAM_ACCESS_TOKEN", meta.IG_TOKEN)
        monkeypatch.setenv("INSTAGRAM_USER_ID", meta.IG_USER)
        monkeypatch.setenv("FACEBOOK_PAGE_ACCESS_TOKEN", meta.PAGE_TOKEN)
        monkeypatch.setenv("FACEBOOK_PAGE_ID", meta.PAGE)
    if fake_tiktok:
        monkeypatch.setenv("SHORTS_TIKTOK_API_URL", fake_tiktok.root)
        monkeypatch.setenv("TIKTOK_ACCESS_TOKEN", tiktok.ACCESS)
        monkeypatch.setenv("TIKTOK_REFRESH_TOKEN", tiktok.REFRESH)
        monkeypatch.setenv("TIKTOK_CLIENT_KEY", tiktok.CLIENT_KEY)
        monkeypatch.setenv("TIKTOK_CLIENT_SECRET", tiktok.CLIENT_SECRET)


def no_platform_env(monkeypatch) -> None:
    """No platform credentials from the developer's own environment."""
    for name in (
        "INSTAGRAM_ACCESS_TOKEN",
        "INSTAGRAM_USER_ID",
        "FACEBOOK_PAGE_ACCESS_TOKEN",
        "FACEBOOK_PAGE_ID",
        "TIKTOK_ACCESS_TOKEN",
        "TIKTOK_REFRESH_TOKEN",
        "TIKTOK_CLIENT_KEY",
        "TIKTOK_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)


POSTING_RUN = """
import sys
from pathlib import Path
from pipeline import Script, Settings, post_everywhere
script = Script.model_validate_json(Path(sys.argv[2]).read_text())
post_everywhere(Path(sys.argv[1]), script, sys.argv[3].split(","), Settings())
"""


def kill_when(video: Path, platforms: list[str], tmp: Path, ready: Callable[[], bool], timeout: float = 30) -> None:
    """Post in a child process and SIGKILL it once `ready()` (no cleanup runs, as when a machine dies)."""
    (tmp / "script.json").write_text(SCRIPT.model_dump_json())
    run = subprocess.Popen(
        [sys.executable, "-c", POSTING_RUN, str(video), str(tmp / "script.json"), ",".join(platforms)],
        env=os.environ,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert run.poll() is None, run.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the child never got there"
            time.sleep(0.02)
    finally:
        run.kill()
        run.wait()
        run.stderr.close()

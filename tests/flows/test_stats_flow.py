"""The daily flow reads the channel's stats first: an artifact with the table and the chart, the topic queue
reordered toward the winners, and the learnings in the made Short's request (so its manifest and script prompt).
And the variety guard in make_short: a script repeating a recent hook is rewritten once before anything is paid."""

import base64
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.openai import FakeOpenAI, good_script, serving
from fakes.youtube import authorise
from fakes.youtube_analytics import FakeYouTubeStats, record_learning_channel
from PIL import Image
from prefect import flow

from pipeline import Settings, short_folder
from pipeline.state.topics import add_topics

pytestmark = pytest.mark.flow


@pytest.fixture(autouse=True)
def _on_server(on_prefect_server):
    """In-process flows use the session's Prefect server."""


@pytest.fixture
def channel(monkeypatch):
    fake = FakeYouTubeStats([]).start()
    monkeypatch.setenv("SHORTS_YOUTUBE_API_URL", fake.root)
    monkeypatch.setenv("SHORTS_YOUTUBE_ANALYTICS_API_URL", fake.root)
    settings = Settings()
    authorise(settings.home_dir)
    fake.shorts = record_learning_channel(settings)
    yield fake
    fake.stop()


def test_the_daily_run_leaves_the_stats_and_makes_the_topic_most_like_the_winners_first(channel, monkeypatch):
    from test_daily import artifacts

    from flows.daily import daily_shorts, learn_from_channel

    settings = Settings()
    add_topics(settings, ["The stapler's first patent", "Why do squid have three hearts"])

    state = daily_shorts(count=1, seconds=5, return_state=True)

    assert state.is_completed(), state.message
    manifest = json.loads(
        (settings.output_dir / short_folder("Why do squid have three hearts") / "manifest.json").read_text()
    )
    note = manifest["request"]["learnings"]
    assert "open with a hook asking a question" in note and "Topics that beat both medians" in note
    assert not (settings.output_dir / short_folder("The stapler's first patent")).exists()  # waits for tomorrow

    stats = artifacts(state.state_details.flow_run_id)["channel-stats"]
    assert stats["type"] == "markdown"
    assert "| YouTube views | YouTube engaged views |" in stats["data"] and "ours: hold score" in stats["data"]
    assert "Why do octopuses have three hearts" in stats["data"] and "## Learnings (ours)" in stats["data"]
    png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", stats["data"]).group(1))
    assert Image.open(io.BytesIO(png)).size == (960, 720)

    monkeypatch.setenv("SHORTS_LEARN", "false")  # the loop off: the stats are still fetched, nothing is learnt
    asked = len(channel.calls("videos"))
    assert flow(lambda: learn_from_channel(Settings()).note, name="learn-only")() == ""
    assert len(channel.calls("videos")) == asked + 1


def test_a_script_repeating_a_recent_hook_is_rewritten_once_before_anything_is_paid_for(monkeypatch):
    settings = Settings()
    earlier = settings.output_dir / "earlier" / "manifest.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text(
        json.dumps(
            {
                "created_at": datetime.now(UTC).isoformat(),
                "request": {"topic": "x"},
                "script": {
                    "title": "Squid ink",
                    "hook": "This animal can vanish in a blink.",
                    "scenes": [{"narration": "Squid squirt ink."}],
                },
            }
        )
    )
    fake = FakeOpenAI()
    fake.chat += [good_script(scenes=2), good_script(scenes=2, hook="Which animal tastes with its arms?")]
    with serving(fake) as url:
        monkeypatch.setenv("OPENAI_API_KEY", "fake-openai-key-for-tests")
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "shorts"),
                "make",
                "octopus camouflage",
                "--seconds",
                "10",
                "--scenes",
                "2",
                "--json",
                "--script",
                "openai",
                "--image",
                "offline",
                "--voice",
                "offline",
            ],
            capture_output=True,
            text=True,
            timeout=400,
            env=os.environ,
        )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "hook is too like 'Squid ink'; asking for another once" in result.stderr
    first, second = fake.bodies("/chat/completions")
    assert "do not reuse the opening" in second["messages"][1]["content"]
    manifest = json.loads(Path(json.loads(result.stdout)["manifest"]).read_text())
    assert manifest["script"]["hook"] == "Which animal tastes with its arms?"

"""The daily flow: the next queued topics, one make_short subflow each; a failure stops nothing but fails the run."""

import json
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest

from pipeline import Settings, short_folder
from pipeline.providers.offline.script import OfflineScriptWriter
from pipeline.state.ledger import Ledger
from pipeline.state.topics import add_topics, topic_statuses, topics_file

SHORTS = str(Path(sys.executable).parent / "shorts")
pytestmark = pytest.mark.flow


@pytest.fixture(autouse=True)
def _on_server(on_prefect_server):
    """In-process flows and `shorts` subprocesses use the session's Prefect server."""


def artifacts(flow_run_id: UUID) -> dict[str, dict]:
    """The artifacts a flow run left, by key (through the REST API: prefect 3.8.8's sync client sends nulls)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        response = client.request(
            "POST", "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [str(flow_run_id)]}}}
        )
    return {a["key"]: a for a in response.json()}


def test_one_failing_topic_does_not_stop_the_others_but_fails_the_run():
    settings = Settings()
    add_topics(settings, ["Broken topic", "Octopus camouflage", "Left for tomorrow"])
    blocker = settings.output_dir / short_folder("Broken topic")  # a file where its output folder should go
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")

    from flows.daily import daily_shorts

    state = daily_shorts(count=2, seconds=5, return_state=True)

    assert state.is_failed()
    assert (
        "1 of 2 Shorts failed" in state.message
        and "'Broken topic': run failed: Cannot write to the output" in state.message
    )
    video = settings.output_dir / short_folder("Octopus camouflage") / "final.mp4"
    assert video.is_file()  # the topic after the failed one was still made
    status = {s.topic: s for s in topic_statuses(settings)}
    assert status["Octopus camouflage"].state == "made" and status["Octopus camouflage"].link == str(video)
    assert status["Broken topic"].state == "failed" and "Cannot write" in status["Broken topic"].detail
    assert status["Left for tomorrow"].state == "queued"

    summary = artifacts(state.state_details.flow_run_id)["daily-shorts"]
    rows = json.loads(summary["data"])
    assert [(r["topic"], r["status"]) for r in rows] == [("Broken topic", "failed"), ("Octopus camouflage", "made")]
    assert rows[1]["link"] == str(video) and rows[1]["credits"] == 0 and rows[1]["seconds"] > 0
    assert "Cannot write to the output folder" in rows[0]["reason"] and "1 of 2 Shorts made" in summary["description"]

    made_run = next(e.run_id for e in Ledger(settings.paths.ledger).topic_events() if e.event == "made")
    short = artifacts(UUID(made_run))
    assert set(short) == {
        "script-octopus-camouflage",
        "cost-octopus-camouflage",
        "video-octopus-camouflage",
        "storyboard-octopus-camouflage",
    }
    script, cost, link = (short[f"{kind}-octopus-camouflage"] for kind in ("script", "cost", "video"))
    assert script["type"] == "markdown" and "| scene |" in script["data"]
    costs = json.loads(cost["data"])
    assert costs[-1]["scene"] == "total" and costs[-1]["credits"] == 0
    assert video.as_uri() in link["data"] and str(video) in link["data"]  # prefect stores a link as markdown

    # The next run takes the failed topic again only after the one never tried.
    from pipeline.state.topics import next_topics

    assert next_topics(settings, 2) == ["Left for tomorrow", "Broken topic"]


def test_an_empty_queue_fails_the_run_with_what_to_do():
    from flows.daily import daily_shorts

    state = daily_shorts(return_state=True)
    assert state.is_failed() and "has nothing left to make" in state.message and "SHORTS_NICHE" in state.message


def test_a_dry_queue_is_refilled_by_the_brainstorm_task_and_its_topic_made(monkeypatch):
    monkeypatch.setenv("SHORTS_NICHE", "the deep sea")
    settings = Settings()
    add_topics(settings, ["Anglerfish lights"])
    idea = OfflineScriptWriter().brainstorm("the deep sea", 1, avoid=["Anglerfish lights"])[0]

    from flows.daily import daily_shorts

    state = daily_shorts(count=2, seconds=5, return_state=True)

    assert state.is_completed(), state.message
    assert [(row.topic, row.status) for row in state.result()] == [("Anglerfish lights", "made"), (idea, "made")]
    text = topics_file(settings).read_text()
    assert "# brainstormed for the niche 'the deep sea'" in text and text.endswith(f"{idea}\n")
    assert {s.topic: s.state for s in topic_statuses(settings)} == {"Anglerfish lights": "made", idea: "made"}


def test_shorts_daily_makes_the_next_topic_and_marks_it_used():
    settings = Settings()
    add_topics(settings, ["Why cats purr"])

    first = subprocess.run([SHORTS, "daily", "--seconds", "5"], capture_output=True, text=True, timeout=400)
    assert first.returncode == 0, first.stderr[-3000:]
    assert (settings.output_dir / short_folder("Why cats purr") / "final.mp4").is_file()
    assert "✓ Why cats purr" in first.stderr and "Done: 1 Short(s) made" in first.stderr
    assert topic_statuses(settings)[0].state == "made"

    again = subprocess.run([SHORTS, "daily"], capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert f"The topic queue {topics_file(settings)} has nothing left to make" in again.stderr


def test_shorts_daily_refuses_to_start_an_upload_run_without_a_youtube_token():
    add_topics(Settings(), ["Why cats purr"])
    result = subprocess.run([SHORTS, "daily", "--upload"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "No YouTube token for channel 'main'" in result.stderr and "shorts auth youtube" in result.stderr

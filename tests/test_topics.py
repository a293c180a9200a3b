"""The topic queue: a file a person edits, the ledger's memory of what was made, and brainstorming when it runs dry."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fakes.openai import BASE_URL, FakeOpenAI, serving

from pipeline import ConfigError, ProviderError, Settings
from pipeline.brainstorm import brainstorm_topics, refill_queue
from pipeline.providers.offline.script import OfflineScriptWriter
from pipeline.providers.openai.client import Connection
from pipeline.providers.openai.script import OpenAIScriptWriter
from pipeline.state.ledger import Ledger
from pipeline.state.topics import (
    add_topics,
    next_topics,
    read_topics,
    record_failed,
    record_made,
    topic_statuses,
    topics_file,
)

SHORTS = str(Path(sys.executable).parent / "shorts")


@pytest.fixture
def settings() -> Settings:
    return Settings()


def states(settings: Settings) -> dict[str, str]:
    return {s.topic: s.state for s in topic_statuses(settings)}


def test_the_queue_is_a_file_a_person_can_edit(settings):
    path = topics_file(settings)
    path.parent.mkdir(parents=True)
    path.write_text(
        "# my channel's list\n\nOctopus camouflage\n  # indented comment\nC# in 30 seconds\n"
        "octopus   CAMOUFLAGE\n" + "x" * 201 + "\nWhy bees dance"
    )  # no final newline

    assert read_topics(path) == ["Octopus camouflage", "C# in 30 seconds", "Why bees dance"]
    assert next_topics(settings, 2) == ["Octopus camouflage", "C# in 30 seconds"]

    outcome = add_topics(settings, ["How owls see", "why BEES dance"])
    assert outcome == {"added": ["How owls see"], "requeued": [], "skipped": ["why BEES dance"]}
    assert path.read_text().splitlines()[-2:] == ["Why bees dance", "How owls see"]  # appended on its own line
    assert read_topics(path)[-1] == "How owls see"


def test_a_topic_that_starts_with_a_hash_is_queued_as_a_topic_not_a_comment(settings):
    outcome = add_topics(settings, ["#1 reason cats purr", "\\o/ happy dances", "Plain"])
    assert outcome["added"] == ["#1 reason cats purr", "\\o/ happy dances", "Plain"]
    lines = topics_file(settings).read_text().splitlines()
    assert lines[-3:] == ["\\#1 reason cats purr", "\\\\o/ happy dances", "Plain"]  # marked, so never a comment
    assert next_topics(settings, 3) == ["#1 reason cats purr", "\\o/ happy dances", "Plain"]


def test_a_new_queue_explains_itself_and_bad_topics_are_refused(settings):
    add_topics(settings, ["  Octopus \t camouflage  "])
    text = topics_file(settings).read_text()
    assert text.startswith("# ") and text.endswith("\nOctopus camouflage\n")
    with pytest.raises(ConfigError, match="the topic is empty"):
        add_topics(settings, ["   "])
    with pytest.raises(ConfigError, match="keep it to 200"):
        add_topics(settings, ["y" * 201])


def test_a_made_topic_is_never_taken_again_unless_queued_again(settings):
    add_topics(settings, ["Octopus camouflage", "Why bees dance"])
    record_made(settings, "octopus camouflage", "/out/octopus-camouflage/final.mp4", run_id="run-1")

    assert next_topics(settings, 5) == ["Why bees dance"]
    assert states(settings) == {"Octopus camouflage": "made", "Why bees dance": "queued"}
    assert add_topics(settings, ["Octopus camouflage"])["skipped"] == ["Octopus camouflage"]
    assert next_topics(settings, 5) == ["Why bees dance"]

    assert add_topics(settings, ["Octopus camouflage"], again=True)["requeued"] == ["Octopus camouflage"]
    assert next_topics(settings, 5) == ["Octopus camouflage", "Why bees dance"]
    assert read_topics(topics_file(settings)).count("Octopus camouflage") == 1  # requeued, not duplicated

    events = Ledger(settings.paths.ledger).topic_events()
    assert [(e.key, e.event) for e in events] == [("octopus camouflage", "made"), ("octopus camouflage", "requeued")]
    assert events[0].link == "/out/octopus-camouflage/final.mp4" and events[0].run_id == "run-1"


def test_a_failed_topic_stays_queued_behind_topics_never_tried(settings):
    add_topics(settings, ["Alpha", "Beta", "Gamma"])
    record_failed(settings, "Alpha", "render failed: disk full")
    record_failed(settings, "Alpha", "render failed: disk full")
    record_failed(settings, "Beta", "clip failed: timeout")

    assert next_topics(settings, 3) == ["Gamma", "Beta", "Alpha"]  # fewest failures first
    alpha = topic_statuses(settings)[0]
    assert (alpha.state, alpha.failures, alpha.detail) == ("failed", 2, "render failed: disk full")
    record_made(settings, "Alpha", "link")
    assert next_topics(settings, 3) == ["Gamma", "Beta"]


def test_listing_the_queue_creates_no_ledger_and_taking_from_it_migrates_one(settings):
    assert topic_statuses(settings) == [] and not settings.paths.ledger.exists()
    assert next_topics(settings, 1) == []
    assert Ledger(settings.paths.ledger).migrations()[:2] == ["m001_remote_tasks", "m002_topics"]


def test_a_dry_queue_is_refilled_from_the_niche(monkeypatch):
    monkeypatch.setenv("SHORTS_NICHE", "the deep sea")
    settings = Settings()
    add_topics(settings, ["Anglerfish lights"])
    first = OfflineScriptWriter().brainstorm("the deep sea", 2)

    queued = next_topics(settings, 3)
    assert queued == ["Anglerfish lights"]  # the queue alone: the daily flow brainstorms the rest
    assert queued + refill_queue(settings, 3 - len(queued)) == ["Anglerfish lights", *first]
    text = topics_file(settings).read_text()
    assert "# brainstormed for the niche 'the deep sea'" in text and text.endswith(f"{first[1]}\n")
    assert next_topics(settings, 3) == ["Anglerfish lights", *first]  # queued, so a failed Short is made later

    record_made(settings, first[0], "link")
    record_made(settings, first[1], "link")
    record_made(settings, "Anglerfish lights", "link")
    assert next_topics(settings, 1) == []
    third = refill_queue(settings, 1)
    assert len(third) == 1 and third[0] not in first  # brainstormed ideas are never repeated


def test_without_a_niche_a_dry_queue_stays_dry(settings):
    add_topics(settings, ["Only one"])
    assert next_topics(settings, 3) == ["Only one"]


def test_offline_brainstorm_fills_the_templates_and_skips_what_is_known():
    writer = OfflineScriptWriter()
    ideas = writer.brainstorm("chess", 30)
    assert len(ideas) == len(set(ideas)) >= 20 and all("chess" in idea for idea in ideas)
    assert writer.brainstorm("chess", 2, avoid=[ideas[0].upper()]) == ideas[1:3]


def test_openai_brainstorm_is_one_json_call():
    fake = FakeOpenAI()
    fake.chat.append({"topics": ["Why octopuses have three hearts", "The mimic octopus", "Extra"]})
    writer = OpenAIScriptWriter(Connection("sk-test", BASE_URL, fake.client()), model="test-model")

    ideas = writer.brainstorm("octopuses", 2, avoid={"Octopus camouflage"})

    assert ideas == ["Why octopuses have three hearts", "The mimic octopus"]
    (body,) = fake.bodies("/chat/completions")
    assert body["model"] == "test-model" and body["response_format"] == {"type": "json_object"}
    prompt = body["messages"][0]["content"]
    assert "octopuses" in prompt and "2 new topics" in prompt and "- Octopus camouflage" in prompt


def test_openai_brainstorm_that_is_not_json_is_a_provider_error():
    fake = FakeOpenAI()
    fake.chat.append("Here are some ideas: octopus, squid")
    writer = OpenAIScriptWriter(Connection("sk-test", BASE_URL, fake.client()), model="test-model")
    with pytest.raises(ProviderError, match="not the JSON asked for") as caught:
        writer.brainstorm("octopuses", 2)
    assert caught.value.retry_safe


def test_the_chosen_script_provider_brainstorms_through_its_sdk(monkeypatch):
    fake = FakeOpenAI()
    fake.chat.append({"topics": ["Octopus camouflage", "  The   mimic octopus ", "", "z" * 300]})
    with serving(fake) as base_url:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("SHORTS_NICHE", "octopuses")
        settings = Settings()
        add_topics(settings, ["Octopus camouflage"])
        record_made(settings, "Octopus camouflage", "link")

        assert brainstorm_topics(settings, 3, avoid={"Octopus camouflage"}) == ["The mimic octopus"]
    assert fake.paths() == ["/chat/completions"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SHORTS, *args], capture_output=True, text=True, timeout=60)


def test_topics_commands():
    added = run("topics", "add", "Octopus camouflage", "Why bees dance", "octopus camouflage")
    assert added.returncode == 0, added.stderr
    assert "queued: Octopus camouflage" in added.stdout and "skipped" in added.stdout

    listed = run("topics", "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[:2] == ["Octopus camouflage\tqueued", "Why bees dance\tqueued"]
    assert "2 of 2 waiting" in listed.stdout

    bad = run("topics", "add", " ")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "the topic is empty" in bad.stderr


def test_the_cli_module_does_not_import_prefect():
    code = "import json, sys, flows.cli; print(json.dumps(sorted(m for m in sys.modules if m.startswith('prefect'))))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []

"""`--voice runway`: narration from Runway's text_to_speech, through the real `runwayml` SDK against the fake Runway
on 127.0.0.1; paid once (recorded before waiting, resumed after a kill, never created twice), timed by its pauses."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import wave

import pytest
import runwayml
from clip_runs import ledger, store, wait_in_thread
from fakes.runway import KEY, PRESETS, speech_words
from typer.testing import CliRunner

from flows.cli import app
from pipeline import ConfigError, ProviderChoice, ProviderError, Scene, Script, Settings, ShortRequest, build_provider
from pipeline.budget import check_budget, estimate_cost
from pipeline.narration import narrate
from pipeline.providers import REGISTRY
from pipeline.providers.paid.inflight import cancel_in_flight
from pipeline.providers.runway.client import estimate_voice_credits
from pipeline.providers.runway.voice import preset_voices
from pipeline.speech_text import spoken_text
from pipeline.state.ledger import CANCELLED, DONE, IN_FLIGHT, UNCONFIRMED

SPEECH = "/v1/text_to_speech"
NARRATION = "An octopus hides in 3 seconds. It waits, then it moves away."
REQUEST = ShortRequest(topic="octopus camouflage", voice_provider="runway")


def scene(narration: str = NARRATION) -> Scene:
    return Scene(
        index=1, narration=narration, first_frame_prompt="an octopus on a reef", motion_prompt="push in", seconds=4.0
    )


def speak(the_scene: Scene | None = None, request: ShortRequest = REQUEST):
    settings = Settings()
    return narrate(request, the_scene or scene(), build_provider("voice", "runway", settings), store())


def running(runway) -> bool:
    return any(t.status == "RUNNING" for t in runway.tasks.values())


def test_a_scene_is_spoken_once_billed_in_credits_and_its_captions_follow_the_pauses(runway):
    runway.download_faults = ["short"]  # the first download is cut short: fetched again, not bought again
    narration = speak()

    (post,) = runway.seen("POST", SPEECH)
    spoken = spoken_text(NARRATION, "en")[0]
    assert post["body"] == {
        "model": "eleven_multilingual_v2",
        "promptText": spoken,
        "voice": {"type": "runway-preset", "presetId": "Maya"},
    }
    assert "three seconds" in spoken and post["headers"]["Authorization"] == f"Bearer {KEY}"
    credits = math.ceil(len(spoken) / 50)
    assert narration.cost.credits == credits == 2 and narration.provider == "runway" and narration.voice == "Maya"
    assert narration.package == f"runwayml {runwayml.__version__} (eleven_multilingual_v2)"
    with wave.open(str(narration.path)) as w:  # the MP3 Runway sent, kept as 16-bit PCM WAV
        assert w.getsampwidth() == 2 and w.getnframes() / w.getframerate() == pytest.approx(narration.seconds)
    (row,) = ledger().tasks()
    assert (row.kind, row.unit, row.status, row.amount_spent, row.model) == (
        "narration",
        "credits",
        DONE,
        credits,
        "eleven_multilingual_v2",
    )
    assert row.task_id == next(iter(runway.tasks))
    assert len(runway.seen("GET", "/outputs/")) == 2

    # Runway gives no word timings: the words are put on the pauses heard, and each phrase starts where it was said.
    assert narration.timing == "pauses" and [w.word for w in narration.words] == NARRATION.split()
    _, truth = speech_words(spoken)  # "3" is said "three": one word either way
    words = spoken.split()
    phrase_starts = [i for i in range(1, len(words)) if words[i - 1][-1] in ".,"]
    assert phrase_starts == [6, 8]
    for i in phrase_starts:
        assert narration.words[i].start == pytest.approx(truth[i][0], abs=0.06)

    before = len(runway.requests)
    assert speak() == narration  # the asset store answers: not a single request
    assert len(runway.requests) == before


def test_a_run_killed_while_runway_speaks_is_resumed_and_nothing_is_bought_twice(runway, tmp_path):
    runway.speech_outcomes = ["HOLD"]
    child = subprocess.Popen([sys.executable, "-c", KILLED_RUN], env=os.environ, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not running(runway):
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        child.kill()  # SIGKILL: no cleanup runs, as when the machine dies
        child.wait()
    (task,) = runway.tasks.values()
    assert [(t.kind, t.status, t.task_id) for t in ledger().tasks()] == [("narration", IN_FLIGHT, task.id)]

    runway.finish(task.id)  # Runway went on while we were dead
    narration = speak()
    assert len(runway.seen("POST", SPEECH)) == 1 and runway.seen("DELETE") == []
    assert narration.cost.credits == task.credits  # this Short's narration cost, paid once
    assert [(t.status, t.amount_spent) for t in ledger().tasks()] == [(DONE, task.credits)]


KILLED_RUN = f"""
from pipeline import AssetStore, Scene, Settings, ShortRequest, build_provider
from pipeline.narration import narrate
settings = Settings()
scene = Scene(index=1, narration={NARRATION!r}, first_frame_prompt="an octopus on a reef", motion_prompt="push in", seconds=4.0)
narrate(ShortRequest(topic="octopus camouflage", voice_provider="runway"), scene,
        build_provider("voice", "runway", settings), AssetStore(settings.home_dir / "assets"))
"""


def test_ctrl_c_leaves_a_running_speech_task_billed_for_the_rerun(runway):
    runway.speech_outcomes = ["HOLD"]
    worker, errors = wait_in_thread(speak, lambda: running(runway))
    (task,) = runway.tasks.values()
    assert cancel_in_flight() == [task.id]
    worker.join(10)
    assert str(errors[0]).startswith(f"Scene 1: Stopped waiting on Runway task {task.id} for the narration")
    assert "it had started, so it is billed and was left to finish" in str(errors[0])
    assert runway.seen("DELETE") == [] and ledger().tasks()[0].status == IN_FLIGHT

    runway.finish(task.id)
    assert speak().cost.credits == task.credits and len(runway.seen("POST", SPEECH)) == 1


def test_ctrl_c_cancels_a_speech_task_runway_has_not_started(runway):
    runway.speech_outcomes, runway.clock = ["HOLD"], ["PENDING"]
    worker, errors = wait_in_thread(speak, lambda: len(runway.seen("GET", "/v1/tasks/")) >= 2)
    (task,) = runway.tasks.values()
    assert cancel_in_flight() == [task.id]
    worker.join(10)
    assert "was cancelled before it started (no charge)" in str(errors[0])
    assert runway.seen("DELETE") and task.status == "CANCELLED" and not task.billed
    assert ledger().tasks()[0].status == CANCELLED


def test_the_voices_own_deadline_cancels_a_task_runway_never_started(runway, monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWAY_DEADLINE_MINUTES", "60")  # the clips' deadline is not the voice's
    monkeypatch.setenv("SHORTS_RUNWAY_VOICE_DEADLINE_MINUTES", "0.005")
    runway.speech_outcomes, runway.clock = ["HOLD"], ["PENDING"]  # waits in Runway's queue for good
    with pytest.raises(
        ProviderError,
        match=r"Scene 1: Runway had not started the narration after 0.005 minutes, so "
        r"task .* was cancelled before it cost anything; rerun to try again or "
        r"raise SHORTS_RUNWAY_VOICE_DEADLINE_MINUTES\.",
    ):
        speak()
    (task,) = runway.tasks.values()
    assert task.status == "CANCELLED" and not task.billed and ledger().tasks()[0].status == CANCELLED


def test_a_create_whose_answer_is_lost_is_not_sent_again(runway):
    runway.create_faults = ["500"]
    with pytest.raises(
        ProviderError,
        match=r"did not confirm creating the narration \(HTTP 500\), so a task may "
        r"have been created and billed",
    ) as caught:
        speak()
    assert caught.value.retry_safe is False
    assert len(runway.seen("POST", SPEECH)) == 1  # the SDK's own retries are off for the create
    assert ledger().tasks()[0].status == UNCONFIRMED

    with pytest.raises(ProviderError, match="narration request .* was never confirmed, so a task may exist"):
        speak()
    assert len(runway.seen("POST", SPEECH)) == 1


def test_a_429_on_create_is_waited_out_because_nothing_was_made(runway):
    runway.create_faults = ["429:0"]
    assert speak().cost.credits == 2
    assert len(runway.seen("POST", SPEECH)) == 2 and len(runway.tasks) == 1


def test_moderation_says_what_to_reword_and_is_not_retried(runway):
    runway.speech_outcomes = ["FAILED:SAFETY.INPUT.TEXT"]
    with pytest.raises(
        ProviderError,
        match=r"moderation rejected the narration \(SAFETY.INPUT.TEXT\); reword the "
        r"scene's narration or rerun with --voice offline",
    ):
        speak()
    assert len(runway.seen("POST", SPEECH)) == 1


def test_voices_are_named_in_any_case_and_unknown_ones_fail_before_paying(runway):
    narration = speak(request=REQUEST.model_copy(update={"voice": "rachel"}))
    assert runway.seen("POST", SPEECH)[0]["body"]["voice"]["presetId"] == "Rachel" and narration.voice == "Rachel"

    with pytest.raises(
        ConfigError,
        match=r"Runway has no preset voice named 'Nobody'; `shorts voices --provider "
        r"runway` lists them",
    ):
        speak(request=REQUEST.model_copy(update={"voice": "Nobody"}))
    assert len(runway.seen("POST", SPEECH)) == 1


def test_eleven_v3_is_told_the_language_and_multilingual_v2_its_limit(runway, monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWAY_VOICE_MODEL", "eleven_v3")
    speak(request=REQUEST.model_copy(update={"language": "pt-BR"}))
    body = runway.seen("POST", SPEECH)[0]["body"]
    assert (body["model"], body["languageCode"]) == ("eleven_v3", "pt")

    monkeypatch.delenv("SHORTS_RUNWAY_VOICE_MODEL")
    with pytest.raises(ConfigError, match="over the 1000 that eleven_multilingual_v2 speaks at once"):
        speak(scene("word " * 250))
    assert len(runway.seen("POST", SPEECH)) == 1


def test_the_estimate_is_an_upper_bound_and_a_cap_refuses_before_paying(runway, monkeypatch):
    money = scene("It costs $5.50, about 3 km away.")  # said as "five dollars and fifty cents", longer than written
    spoken = spoken_text(money.narration, "en")[0]
    assert len(spoken) > 50 > len(money.narration)
    assert estimate_voice_credits(money, Settings()) == 2 == math.ceil(len(spoken) / 50)
    assert speak(money).cost.credits <= estimate_voice_credits(money, Settings())
    assert REGISTRY["voice"]["runway"].estimate_credits is estimate_voice_credits
    assert list(REGISTRY["voice"]).index("runway") == list(REGISTRY["voice"]).index("openai") + 1

    monkeypatch.setenv("SHORTS_RUNWAY_VOICE_CREDITS_PER_50_CHARACTERS", "3")
    assert estimate_voice_credits(money, Settings()) == 6
    other = scene("Another scene, never spoken before, and longer than fifty characters.")
    monkeypatch.setenv("SHORTS_MAX_CREDITS_PER_SHORT", "5")
    with pytest.raises(
        ConfigError,
        match=r"One narration with eleven_multilingual_v2 is estimated at 6 credits, over "
        r"SHORTS_MAX_CREDITS_PER_SHORT=5.*Nothing was submitted",
    ):
        speak(other)
    monkeypatch.setenv("SHORTS_MAX_CREDITS_PER_SHORT", "200")
    monkeypatch.setenv("SHORTS_MAX_CREDITS_PER_DAY", "7")  # 2 spent today, 6 more would pass it
    with pytest.raises(ConfigError, match=r"This narration would bring the last 24 hours' runway spend to 8 credits"):
        speak(other)
    assert len(runway.seen("POST", SPEECH)) == 1


def test_a_short_whose_narrations_together_pass_the_cap_is_refused_before_anything_is_spoken(runway, monkeypatch):
    script = Script(
        title="t", description="d", tags=[], hook="h", scenes=[scene(), scene("Two.").model_copy(update={"index": 2})]
    )
    choices = {
        step: ProviderChoice(step=step, name="runway" if step == "voice" else "offline", reason="test")
        for step in ("script", "image", "video", "voice")
    }
    monkeypatch.setenv("SHORTS_MAX_CREDITS_PER_SHORT", "2.5")  # each scene alone (2 and 1 credits) is under it
    assert estimate_cost(script, choices, Settings()).credits == 3
    with pytest.raises(ConfigError, match=r"estimated at up to 3 credits, over SHORTS_MAX_CREDITS_PER_SHORT=2.5"):
        check_budget(script, choices, Settings())
    assert runway.requests == []


def test_voices_lists_runways_presets_without_a_call(runway):
    result = CliRunner().invoke(app, ["voices", "--provider", "runway"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"runway ({len(PRESETS)} voices; --voice runway --voice-name NAME):"
    assert "  Maya (any)  the default; needs RUNWAYML_API_SECRET, about 1 credit per 50 characters" in lines
    assert set(preset_voices()) == PRESETS and runway.requests == []

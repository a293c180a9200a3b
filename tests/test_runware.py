"""Runware clips through our plain-httpx client, against a strict fake Runware on 127.0.0.1."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from clip_runs import animate_with, assert_secret_kept, kill_mid_wait, ledger, scene, store, wait_in_thread
from fakes.runware import KEY, FakeRunware
from pydantic import ValidationError

from pipeline import (
    ConfigError,
    FrameAsset,
    ProviderChoice,
    ProviderError,
    Scene,
    Script,
    Settings,
    ShortRequest,
    build_provider,
    cancel_in_flight,
    check_budget,
    choose_providers,
    estimate_cost,
    make_first_frame,
)
from pipeline.media.probe import video_size
from pipeline.providers.offline.image import OfflineImageMaker
from pipeline.providers.paid.download import CONNECT_TIMEOUT, DOWNLOAD_TIMEOUT, fetch
from pipeline.providers.runware.client import VIDEO_MODELS, clip_duration
from pipeline.state.ledger import DONE, FAILED, GONE, IN_FLIGHT, REJECTED, UNCONFIRMED, USD, Ledger

VIDEOS = "videoInference"


@pytest.fixture
def runware(monkeypatch):
    """A fake Runware the pipeline reaches through RUNWARE_BASE_URL, polled every 10-20 ms instead of 2-10 s."""
    with FakeRunware() as fake:
        monkeypatch.setenv("RUNWARE_API_KEY", KEY)
        monkeypatch.setenv("RUNWARE_BASE_URL", fake.url)
        monkeypatch.setenv("SHORTS_RUNWARE_POLL_SECONDS", "0.01")
        monkeypatch.setenv("SHORTS_RUNWARE_MAX_POLL_SECONDS", "0.02")
        monkeypatch.setenv("SHORTS_RUNWARE_UNCONFIRMED_WAIT_SECONDS", "0.2")  # 180 s by default
        yield fake


@pytest.fixture
def frame(tiny) -> FrameAsset:
    return make_first_frame(scene(), "neon", tiny, OfflineImageMaker(), store())


def animate(the_scene: Scene, frame: FrameAsset):
    return animate_with("runware", the_scene, frame)


def test_clip_is_one_async_video_task_whose_uuid_is_recorded_before_it_is_sent(runware, frame):
    recorded = []
    runware.on_submit = lambda task: recorded.append(ledger().tasks()[-1])  # what the ledger held at that moment
    clip = animate(scene(), frame)

    (task,) = runware.seen(VIDEOS)
    assert {k: v for k, v in task.items() if k != "inputs"} == {
        "taskType": "videoInference",
        "taskUUID": clip.task_id,
        "model": "klingai:6@1",
        "positivePrompt": "slow push in over the reef",
        "duration": 5,
        "deliveryMethod": "async",
        "outputType": "URL",
        "outputFormat": "MP4",
        "includeCost": True,
    }  # no width/height: the frame sets them
    (image,) = task["inputs"]["frameImages"]
    assert image["frame"] == "first" and image["image"].startswith("data:image/png;base64,")
    assert base64.b64decode(image["image"].split(",", 1)[1]) == frame.path.read_bytes()
    assert uuid.UUID(clip.task_id).version == 4
    assert recorded[0].task_id == clip.task_id and recorded[0].status == "submitting"

    assert runware.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"
    assert len(runware.seen("getResponse")) == 3  # processing twice, then success
    assert video_size(clip.path) == (1080, 1920)  # verified; the render scales it to the Short's size
    assert (clip.provider, clip.model, clip.cost.usd, clip.cost.credits) == ("runware", "klingai:6@1", 0.35, 0)
    (row,) = ledger().tasks()
    assert (row.status, row.task_id, row.unit, row.amount_spent, row.remote_status) == (
        DONE,
        clip.task_id,
        USD,
        0.35,
        "success",
    )
    assert not [r for r in runware.requests if r["method"] == "GET" and "Authorization" in r["headers"]]

    before = len(runware.requests)
    assert animate(scene(), frame).path == clip.path  # the store answers: no request at all
    assert len(runware.requests) == before


def test_a_failed_task_is_one_sentence_with_runwares_reason_and_is_not_retried(runware, frame):
    runware.outcomes = ["error:contentModeration:The input image was flagged by the provider's safety filter."]
    with pytest.raises(ProviderError) as caught:
        animate(scene(), frame)
    (task,) = runware.seen(VIDEOS)
    assert str(caught.value) == (
        f"Scene 1: Runware failed the clip (task {task['taskUUID']}, contentModeration: The input image was flagged "
        "by the provider's safety filter); rerun to try again or rerun with --video offline."
    )
    assert caught.value.retry_safe is False and caught.value.step == "clips"
    assert ledger().tasks()[0].status == FAILED


def test_a_failure_reported_as_an_error_to_the_poll_fails_the_task_but_a_refused_poll_does_not(runware, frame):
    runware.poll_faults = ["failed"]
    with pytest.raises(
        ProviderError,
        match=r"Runware failed the clip \(task .*, providerError: The provider could "
        r"not generate the video\)",
    ):
        animate(scene(), frame)
    assert ledger().tasks()[0].status == FAILED

    runware.poll_faults = ["refused"]
    with pytest.raises(ProviderError, match=r"Runware rejected checking task .*: Malformed task\.$"):
        animate(scene(motion="another move"), frame)
    assert ledger().tasks()[1].status == IN_FLIGHT  # the task may still be running: the rerun collects it
    assert animate(scene(motion="another move"), frame).cost.usd == 0.35 and len(runware.seen(VIDEOS)) == 2


def test_a_request_level_error_names_the_parameter_and_nothing_is_billed(runware, frame):
    runware.submit_faults = ["400"]
    with pytest.raises(
        ProviderError,
        match=r"^Scene 1: Runware rejected submitting the clip: positivePrompt: The "
        r"prompt was flagged by the content filter\.$",
    ) as caught:
        animate(scene(), frame)
    assert caught.value.retry_safe is False and runware.tasks == {} and runware.seen("getResponse") == []
    (row,) = ledger().tasks()
    assert row.status == REJECTED and ledger().spent_since(row.created_at, USD) == 0


def test_out_of_credit_says_so(runware, frame):
    runware.submit_faults = ["402"]
    with pytest.raises(
        ProviderError,
        match=r"Runware refused submitting the clip because the account is out of "
        r"credit \(402: Insufficient credits.*add funds at my.runware.ai",
    ):
        animate(scene(), frame)
    assert runware.tasks == {} and ledger().tasks()[0].status == REJECTED


def test_a_full_queue_is_waited_out_and_sent_again_as_the_same_task(runware, frame):
    runware.submit_faults = ["429"]
    clip = animate(scene(), frame)
    first, second = runware.seen(VIDEOS)
    assert first == second and len(runware.tasks) == 1 and clip.task_id == first["taskUUID"]


def test_a_wrong_key_is_a_config_error_that_never_shows_the_key(runware, frame, monkeypatch):
    monkeypatch.setenv("RUNWARE_API_KEY", "rw_wrong_" + "e" * 30)
    with pytest.raises(
        ConfigError,
        match=r"refused the API key while submitting the clip \(401\); check "
        r"RUNWARE_API_KEY",
    ) as caught:
        animate(scene(), frame)
    assert_secret_kept("e" * 20, caught.value)


def test_missing_key_says_which_variable_to_set():
    with pytest.raises(ConfigError, match="--video runware needs RUNWARE_API_KEY"):
        build_provider("video", "runware", Settings())


def test_a_run_killed_after_submitting_is_resumed_by_the_rerun_which_submits_nothing(runware, frame, tmp_path):
    runware.outcomes = ["hold"]
    kill_mid_wait("runware", frame, scene(), tmp_path, lambda: len(runware.seen("getResponse")) >= 3)
    (task,) = runware.tasks.values()
    assert ledger().tasks()[0].status == IN_FLIGHT and ledger().tasks()[0].task_id == task.uuid

    runware.finish(task.uuid)
    clip = animate(scene(), frame)
    assert len(runware.seen(VIDEOS)) == 1  # the rerun polled the recorded taskUUID and sent no new task
    assert clip.task_id == task.uuid and clip.cost.usd == 0.35
    assert ledger().tasks()[0].status == DONE and len(ledger().tasks()) == 1


@pytest.mark.parametrize("fault", ["lost", "drop"])
def test_a_submit_whose_answer_is_lost_is_found_by_its_uuid_not_sent_again(runware, frame, fault):
    runware.submit_faults = [fault]  # the task was made, then the answer was a 502 or nothing
    clip = animate(scene(), frame)
    assert len(runware.seen(VIDEOS)) == 1 and clip.task_id in runware.tasks and clip.cost.usd == 0.35
    assert ledger().tasks()[0].status == DONE


def test_a_submit_that_made_nothing_is_submitted_again_only_by_a_rerun_that_finds_no_trace(runware, frame):
    runware.submit_faults = ["500"]
    with pytest.raises(
        ProviderError,
        match="did not confirm the clip request and has no trace of task .*submits a "
        "new one only if Runware still has none",
    ) as caught:
        animate(scene(), frame)
    assert caught.value.retry_safe is False and runware.tasks == {}
    assert ledger().tasks()[0].status == UNCONFIRMED

    clip = animate(scene(), frame)
    first, second = runware.seen(VIDEOS)
    assert first["taskUUID"] != second["taskUUID"] == clip.task_id
    assert [t.status for t in ledger().tasks()] == [GONE, DONE]


@pytest.mark.parametrize("code", ["taskFailedOrNotFound", "taskCancelled", "taskExpired"])
def test_a_confirmed_task_runware_drops_is_a_failure_at_once_not_still_queued(runware, frame, code, monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWARE_DEADLINE_MINUTES", "5")
    runware.outcomes = [f"gone:{code}"]
    with pytest.raises(ProviderError) as caught:
        animate(scene(), frame)
    (task,) = runware.seen(VIDEOS)
    assert str(caught.value).startswith(f"Scene 1: Runware no longer has task {task['taskUUID']} ({code}: ")
    assert str(caught.value).endswith(
        "it failed, was cancelled or expired, so no clip will come; rerun to submit it "
        "again or rerun with --video offline."
    )
    assert len(runware.seen("getResponse")) == 3  # processing twice, then the code: no waiting for the deadline
    assert ledger().tasks()[0].status == FAILED

    clip = animate(scene(), frame)  # nothing will come of the dropped task, so a rerun buys the clip
    assert len(runware.seen(VIDEOS)) == 2 and clip.task_id != task["taskUUID"] and clip.cost.usd == 0.35


def test_an_unconfirmed_task_that_reaches_runware_late_is_found_not_bought_again(runware, frame, monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWARE_UNCONFIRMED_WAIT_SECONDS", "30")
    runware.submit_faults = ["late:0.5"]  # a 502, and the task shows up in Runware's queue half a second later
    clip = animate(scene(), frame)
    (task,) = runware.seen(VIDEOS)
    assert clip.task_id == task["taskUUID"] and clip.cost.usd == 0.35
    polls = runware.seen("getResponse")
    assert len(polls) > 3  # more than the 3 "no trace" answers after which it used to buy the clip again
    assert [t.status for t in ledger().tasks()] == [DONE]


def test_a_retired_model_is_one_sentence_naming_the_served_ones(monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWARE_VIDEO_MODEL", "klingai:5@3")
    with pytest.raises(
        ValidationError,
        match=r"klingai:5@3 \(KlingAI 2.1 Master\) is no longer offered by Runware; "
        r"set SHORTS_RUNWARE_VIDEO_MODEL to klingai:6@1",
    ):
        Settings()


def test_the_deadline_stops_waiting_and_the_rerun_collects_the_same_task(runware, frame, monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWARE_DEADLINE_MINUTES", "0.003")  # 0.18 s
    runware.outcomes = ["hold"]
    with pytest.raises(
        ProviderError,
        match=r"had not finished the clip after 0.003 minutes .*last processing\); it "
        r"cannot be cancelled, so rerun the same command",
    ) as caught:
        animate(scene(), frame)
    assert caught.value.retry_safe is True and ledger().tasks()[0].status == IN_FLIGHT
    (task,) = runware.tasks.values()
    runware.finish(task.uuid)
    assert animate(scene(), frame).task_id == task.uuid and len(runware.seen(VIDEOS)) == 1


def test_passing_poll_failures_are_ridden_out(runware, frame):
    runware.poll_faults = ["503", "503"]
    assert animate(scene(), frame).cost.usd == 0.35 and len(runware.seen("getResponse")) == 5


def test_downloads_are_retried_and_a_rerun_fetches_without_paying(runware, frame):
    runware.download_faults = ["short", "404"]
    clip = animate(scene(), frame)
    assert video_size(clip.path) == (1080, 1920)

    runware.download_faults = ["404"] * 3
    with pytest.raises(ProviderError, match="rerun the same command to fetch it again without a new charge") as e:
        animate(scene(motion="a different move"), frame)
    assert e.value.retry_safe is True
    again = animate(scene(motion="a different move"), frame)
    assert len(runware.seen(VIDEOS)) == 2 and again.cost.usd == 0.35


def test_a_download_waits_long_for_bytes_but_briefly_to_connect(tmp_path):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, content=b"clip")

    # The client's one number would also be its connect timeout; the download sets its own, short connect.
    with httpx.Client(transport=httpx.MockTransport(handler), timeout=600.0) as http:
        assert fetch(http, "https://files.example/clip.mp4", tmp_path / "clip.mp4") is None
    assert (seen[0]["read"], seen[0]["connect"]) == (DOWNLOAD_TIMEOUT, CONNECT_TIMEOUT) == (120.0, 10.0)


def test_cancel_in_flight_stops_waiting_and_leaves_the_task_for_the_next_run(runware, frame):
    runware.outcomes = ["hold"]
    worker, errors = wait_in_thread(lambda: animate(scene(), frame), lambda: len(runware.seen("getResponse")) >= 2)
    (task,) = runware.tasks.values()
    assert cancel_in_flight() == [task.uuid]
    worker.join(10)
    assert "Stopped waiting on Runware task" in str(errors[0]) and "without a new charge" in str(errors[0])
    assert ledger().tasks()[0].status == IN_FLIGHT  # Runware cannot cancel it: the next run collects it


def test_per_short_and_daily_dollar_caps_refuse_before_any_task(runware, frame, monkeypatch):
    monkeypatch.setenv("SHORTS_MAX_USD_PER_SHORT", "0.2")
    with pytest.raises(ConfigError, match=r"estimated at \$0.35, over SHORTS_MAX_USD_PER_SHORT=0.2"):
        animate(scene(), frame)
    assert runware.requests == [] and ledger().tasks() == []

    monkeypatch.setenv("SHORTS_MAX_USD_PER_SHORT", "10")
    monkeypatch.setenv("SHORTS_MAX_USD_PER_DAY", "0.5")
    animate(scene(), frame)  # $0.35
    with pytest.raises(
        ConfigError,
        match=r"runware spend to \$0.70, over SHORTS_MAX_USD_PER_DAY=0.5.*nothing was "
        r"submitted",
    ):
        animate(scene(motion="another move"), frame)
    assert len(runware.seen(VIDEOS)) == 1


def test_the_other_model_sends_its_required_size_and_durations(runware, frame, monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWARE_VIDEO_MODEL", "runway:1@2")
    clip = animate(scene(seconds=6), frame)
    (task,) = runware.seen(VIDEOS)
    assert (task["model"], task["duration"], task["width"], task["height"]) == ("runway:1@2", 8, 720, 1280)
    assert video_size(clip.path) == (720, 1280) and clip.cost.usd == 0.96


@pytest.mark.parametrize(
    "model, seconds, expected",
    [
        ("klingai:6@1", 2.5, 5),
        ("klingai:6@1", 5.2, 10),
        ("klingai:6@1", 14, 10),
        ("runway:1@2", 5, 5),
        ("runway:1@2", 7.5, 8),
    ],
)
def test_durations_stay_in_each_models_allowed_set(model, seconds, expected):
    assert clip_duration(model, seconds) == expected


def test_settings_offer_exactly_the_models_the_provider_knows():
    assert set(Settings.model_fields["runware_video_model"].annotation.__args__) == set(VIDEO_MODELS)


def test_auto_picks_runware_for_clips_when_only_its_key_is_set(monkeypatch):
    monkeypatch.setenv("RUNWARE_API_KEY", KEY)
    choices = choose_providers(ShortRequest(topic="octopus"), Settings())
    assert (choices["video"].name, choices["video"].reason) == ("runware", "RUNWARE_API_KEY is set")


def test_budget_counts_dollars_beside_credits_and_refuses_over_the_dollar_caps(monkeypatch):
    script = Script(
        title="t",
        description="d",
        tags=[],
        hook="h",
        scenes=[Scene(index=i, narration="n", first_frame_prompt="f", motion_prompt="m", seconds=5) for i in (1, 2, 3)],
    )
    choices = {
        step: ProviderChoice(step=step, name=name, reason="test")
        for step, name in {"script": "offline", "image": "runway", "video": "runware", "voice": "offline"}.items()
    }
    assert check_budget(script, choices, Settings()).credits == 15  # Runway's first frames, in credits
    assert estimate_cost(script, choices, Settings()).usd == pytest.approx(1.05)
    monkeypatch.setenv("SHORTS_MAX_USD_PER_SHORT", "1")
    with pytest.raises(ConfigError, match=r"estimated at up to \$1.05, over SHORTS_MAX_USD_PER_SHORT=1"):
        check_budget(script, choices, Settings())
    monkeypatch.setenv("SHORTS_MAX_USD_PER_SHORT", "10")
    Ledger(Settings().paths.ledger).reserve(
        key="k", provider="runware", kind="clip", model="m", estimate=49, daily_cap=50, unit=USD
    )
    with pytest.raises(ConfigError, match=r"spend to \$50.05, over SHORTS_MAX_USD_PER_DAY=50"):
        check_budget(script, choices, Settings())
    day_ago = datetime.now(UTC) - timedelta(days=1)
    assert Ledger(Settings().paths.ledger).spent_since(day_ago) == 0  # dollars never count as credits

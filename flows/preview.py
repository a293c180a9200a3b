"""The first half of a Short, up to the storyboard (checks, source, script, moderation and budget, footage, first
frames, the sheet), which make_short runs before its review; and preview_short, that half alone, for a person to look
at before any clip is bought (`shorts make --review`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from flows.bootstrap.flow import pydantic_flow

from prefect import Task, unmapped
from prefect.futures import PrefectFuture, PrefectFutureList
from prefect.task_runners import ThreadPoolTaskRunner

from flows.artifacts import record_storyboard
from flows.review import caller_limits, from_deployment
from flows.tasks import (
    footage_task,
    frame_task,
    moderation_task,
    narration_task,
    on_this_machine,
    run_options,
    script_task,
    storyboard_task,
)
from pipeline import (
    Footage,
    FrameAsset,
    ModerationCheck,
    ProviderChoice,
    Script,
    Settings,
    ShortRequest,
    ShortsError,
    Source,
    Storyboard,
    VideoFormat,
    cancel_in_flight,
    check_budget,
    check_music,
    check_providers,
    choose_providers,
    describe_pick,
    disk_error,
    find_source,
    footage_line,
    near_copy,
    open_store,
    picks_footage,
    plan_script,
    prepare_output_dir,
    provider_spec,
    recent_scripts,
    scene_pictures,
    scene_takes,
    short_folder,
)

log = logging.getLogger("shorts")
T = TypeVar("T")


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
    checked: bool  # the caller ran the checks already (`shorts make`, before Prefect started)
    timings: dict[str, float] = field(default_factory=dict)
    provider: dict[str, str] = field(init=False)  # step -> provider name
    fmt: VideoFormat = field(init=False)
    making: ShortRequest = field(init=False)
    options: dict[str, Any] = field(init=False)  # the cached steps' options for this run
    common: dict[str, Any] = field(init=False)  # what every mapped step takes

    def __post_init__(self) -> None:
        self.provider = {step: choice.name for step, choice in self.choices.items()}
        self.fmt = self.settings.video_format
        # Where the Short goes must not change what is made, so the making steps cache on the request without it.
        self.making = self.request.model_copy(update={"upload": False, "channel": None, "review": False, "music": None})
        self.options = run_options(self.settings, self.fresh)
        self.common = dict(settings=unmapped(self.settings), fresh=unmapped(self.fresh))

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


@pydantic_flow(
    name="preview-short",
    flow_run_name="{request.topic}",
    task_runner=ThreadPoolTaskRunner(max_workers=4),
)
def preview_short(
    request: ShortRequest,
    fresh: bool = False,
    out_dir: str | None = None,
    redo_scene: int | None = None,
    checked: bool = False,
) -> Storyboard:
    """Make a Short up to its storyboard (the script and first frames) for a person to look at before any clip is
    bought; make_short then reuses all of it. The arguments are make_short's."""
    settings = Settings()
    _, chosen_dir = caller_limits("pause", out_dir, settings)  # a deployment's caller writes only where allowed
    run = start_run(request, settings, fresh, chosen_dir, checked)
    return up_to_storyboard(run, redo_scene, speak_now=False).board


def start_run(request: ShortRequest, settings: Settings, fresh: bool, out_dir: Path | None, checked: bool) -> Run:
    """Choose the providers (said in one line each) and prepare the output folder. `checked`: the caller ran the
    checks already; a run started from a deployment runs them whatever its parameters say."""
    choices = choose_providers(request, settings)
    for choice in choices.values():
        log.info("%-7s provider: %s (%s)", choice.step, choice.name, choice.reason)
    output = prepare_output_dir(out_dir or settings.output_dir / short_folder(request.topic))
    return Run(request, settings, fresh, choices, output, checked and not from_deployment())


def up_to_storyboard(run: Run, redo_scene: int | None, speak_now: bool, board: Storyboard | None = None) -> Drawn:
    """Checks, source, script, moderation and budget, footage, first frames and the storyboard (`board`, when one was
    approved already); a free voice starts speaking alongside the frames when `speak_now`."""
    request, settings, provider = run.request, run.settings, run.provider
    with step("checks", run.timings):  # before the first paid call, the script's included
        if run.checked:
            log.info("  done before the run started")
        else:
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
        narrations = narrate_scenes(run, script) if speak_now else future_list([])
        frames = on_this_machine(wait_for(frame_runs), settings)
        if board is None:
            drawing = storyboard_task.submit(script, frames, run.choices, settings, run.output, footage.get("video"))
            board = result_of(drawing)
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
    script = result_of(write.submit(run.making, plan, provider, run.settings, run.fresh, source))
    recent = recent_scripts(run.settings.output_dir, run.output)
    if (copy := near_copy(script, recent)) and provider != "offline":
        log.warning("  %s is too like %r; asking for another once", copy.part, copy.earlier.title)
        asked = run.making.model_copy(update={"learnings": f"{run.making.learnings} {copy.ask()}".strip()[:2000]})
        script = result_of(write.submit(asked, plan, provider, run.settings, run.fresh, source))
        copy = near_copy(script, recent)
    if copy:
        log.warning("  %s", copy.line())
    log.info("  %r, %d scenes at %.3g words a second", script.title, len(script.scenes), plan.words_per_second)
    return script


def _moderate_and_estimate(script: Script, choices: dict[str, ProviderChoice], settings: Settings) -> ModerationCheck:
    """Check the prompts, then refuse a Short over the credit, dollar or character caps; nothing is paid for before
    this."""
    moderation = result_of(moderation_task.submit(script, settings))
    log.info("  %s", f"skipped: {moderation.skipped}" if moderation.skipped else f"{moderation.checked} prompts passed")
    estimate = check_budget(script, choices, settings)
    log.info(
        "  estimated cost: up to %g credits%s%s",
        estimate.credits,
        f" and ${estimate.usd:.2f}" if estimate.usd else "",
        f" and {estimate.characters} characters of speech" if estimate.characters else "",
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
        picks = result_of(picking)
        log.info("  %s", footage_line(picks))
        for pick in filter(None, picks):
            log.info("  %s", describe_pick(pick))
    return picks


def _draw_frames(run: Run, script: Script, takes: list[int], footage: list[Footage | None] | None) -> PrefectFutureList:
    """The first frames, drawn at once; with SHORTS_RUNWAY_REFERENCE_FIRST_FRAME, Runway draws scene 1's first and
    the others to look like it."""
    frame, provider = run.cached(frame_task), run.provider["image"]
    common = (unmapped(run.request.style), unmapped(run.fmt), unmapped(provider))
    if not provider_spec("image", provider).draws_alike(run.settings):
        return frame.map(script.scenes, *common, take=takes, footage=footage or unmapped(None), **run.common)
    first = frame.submit(script.scenes[0], run.request.style, run.fmt, provider, run.settings, run.fresh, take=takes[0])
    rest = frame.map(script.scenes[1:], *common, take=takes[1:], reference=unmapped(first), **run.common)
    return future_list([first, *rest])


def narrate_scenes(run: Run, script: Script) -> PrefectFutureList:
    """Every scene's narration, started at once; each hears its neighbours, and the Short's caps hold across them."""
    return run.cached(narration_task).map(
        unmapped(run.making), script.scenes, unmapped(run.provider["voice"]), script=unmapped(script), **run.common
    )


def future_list(futures: list[PrefectFuture[T]]) -> PrefectFutureList[T]:
    """Submitted tasks as Prefect's list of futures, as its task runner builds one from its own."""
    return PrefectFutureList(futures)  # type: ignore[abstract]  # Prefect's list also subclasses Iterator, no __next__


def wait_for(futures: PrefectFutureList[T]) -> list[T]:
    """Wait for submitted tasks' results; worker threads never see Ctrl-C, so stop the paid tasks they wait on (those
    not started are cancelled; started ones are left to finish, for the next run to collect)."""
    try:
        return futures.result() if futures else []
    except KeyboardInterrupt:
        cancel_in_flight()
        raise


def result_of(future: PrefectFuture[T]) -> T:
    """One submitted task's result, saying when it came from an earlier run."""
    (result,) = wait_for(future_list([future]))
    if future.state.name == "Cached":
        log.info("  reused from an earlier run")
    return result

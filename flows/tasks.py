"""One thin Prefect task per pipeline step: retries, caching and logging live here."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import State, Task, task
from prefect.cache_policies import Inputs
from prefect.client.schemas.objects import TaskRun
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError  # the public re-export of the one sync raises
from prefect.concurrency.sync import concurrency
from prefect.context import TaskRunContext
from prefect.utilities.hashing import hash_objects
from pydantic import BaseModel

from flows.locking import FlockLockManager
from flows.prefect_env import result_storage
from pipeline import (
    AssetStore,
    ClipAsset,
    ConfigError,
    Footage,
    FrameAsset,
    ModerationCheck,
    Narration,
    PostOutcome,
    ProviderChoice,
    ProviderError,
    Published,
    RenderedShort,
    RenderOptions,
    Scene,
    ScenePlan,
    Script,
    Settings,
    ShortRequest,
    ShortsError,
    Source,
    Storyboard,
    VideoFormat,
    animate_scene,
    build_provider,
    file_digest,
    intact,
    make_first_frame,
    moderate_script,
    narrate,
    open_store,
    pick_footage,
    plan_storyboard,
    post_everywhere,
    provider_spec,
    publish_short,
    render_short,
    write_script,
    write_storyboard,
)

log = logging.getLogger("shorts")


@dataclass
class LiveFiles(Inputs):
    """Cache on the inputs and the content of the files they name; miss when a cached output file has gone or no
    longer matches what the store recorded of it."""

    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        key = super().compute_key(task_ctx, inputs, flow_parameters, **kwargs)
        if not key:
            return None
        # Prefect hashes a Path by its string; a file remade with other bytes must change the key.
        used = {name: value for name, value in inputs.items() if name not in self.exclude}
        key = hash_objects(key, sorted((str(p), file_digest(p)) for p in _paths(used) if p.is_file()))
        store = task_ctx.result_store
        # A record another machine made names its files: with object storage they count as here if stored there.
        assets = open_store(inputs["settings"]) if isinstance(inputs.get("settings"), Settings) else None
        if key and store.exists(key) and not _all_intact(_paths(store.read(key).result), assets):
            return None  # run again; the store path is content-addressed, so the old record heals too
        return key


def _all_intact(paths: list[Path], assets: AssetStore | None) -> bool:
    """Whether a cached result's files are all here and as the store wrote them (size and sha256): a damaged one is
    a miss, so the step's own look in the store remakes it, or stops on a paid one."""
    try:
        return all(intact(assets.local(p) if assets else p) for p in paths)
    except ShortsError:  # a damaged paid file fetched from object storage: the step says so in its sentence
        return False


def _paths(value: Any) -> list[Path]:
    if isinstance(value, Path):
        return [value]
    if isinstance(value, BaseModel):
        value = dict(value)
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [p for item in value for p in _paths(item)]
    return []


def retry_safe(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry surprises and safe provider errors; never bad input, never a maybe-paid call."""
    try:
        state.result()
    except ProviderError as exc:
        return exc.retry_safe
    except ShortsError:
        return False
    except Exception:
        return True
    return False


# SERIALIZABLE: a run that reaches a step another run (another `shorts make`, the daily flow) is doing with the same
# inputs waits for it and reuses its result, instead of paying for it too; see flows/locking.py for why flock.
CACHE = LiveFiles(exclude=["settings", "fresh"]).configure(
    isolation_level="SERIALIZABLE", lock_manager=FlockLockManager()
)
STEP: dict[str, Any] = dict(cache_policy=CACHE, retries=2, retry_delay_seconds=[1, 5], retry_condition_fn=retry_safe)


def run_options(settings: Settings, fresh: bool) -> dict[str, Any]:
    """The cached steps' options for one run (`task.with_options(**run_options(...))`): --fresh reruns each step and
    overwrites its record, and the records live in object storage when there is one."""
    return dict(refresh_cache=fresh or None, result_storage=result_storage(settings))


def on_this_machine(assets: list[Any], settings: Settings) -> list[Any]:
    """The assets with their files on this machine: a result record another machine made (shared object storage)
    names that machine's cache, so the files are fetched into this one's."""
    store = open_store(settings)
    if not store.remote:
        return assets
    return [
        asset.model_copy(
            update={
                name: store.local(getattr(asset, name))
                for name in ("path", "video", "captions")
                if getattr(asset, name, None)
            }
        )
        for asset in assets
    ]


@contextmanager
def _vendor_slot(step: str, provider: str, settings: Settings) -> Iterator[None]:
    """A slot of the provider's shared limit when one is named: its vendor caps tasks per account, not per machine."""
    spec = provider_spec(step, provider)
    name = spec.shared_limit(settings)
    if not name:
        yield
        return
    try:
        slot = concurrency(name, occupy=1, strict=True)  # a named but missing limit must not mean "unlimited"
        slot.__enter__()
    except ConcurrencySlotAcquisitionError as exc:  # not retried: waiting will not create the limit
        variable = f"SHORTS_{spec.limit_setting}".upper()
        raise ConfigError(
            f"The Prefect concurrency limit {name!r} ({variable}) does not exist or cannot "
            f"be reached; create it with `prefect gcl create {name} --limit 2` or unset the setting.",
            step="limits",
        ) from exc
    try:
        yield
    finally:
        slot.__exit__(None, None, None)


@task(name="script", **STEP)
def script_task(
    request: ShortRequest,
    plan: ScenePlan,
    provider: str,
    settings: Settings,
    fresh: bool = False,
    source: Source | None = None,
) -> Script:
    return write_script(request, build_provider("script", provider, settings), plan, source)


@task(name="moderation", retries=2, retry_delay_seconds=[1, 5], retry_condition_fn=retry_safe)
def moderation_task(script: Script, settings: Settings) -> ModerationCheck:
    return moderate_script(script, settings)  # free, so never cached: a changed policy applies at once


@task(name="footage", task_run_name="footage-{step}", **STEP)
def footage_task(
    script: Script, step: str, provider: str, fmt: VideoFormat, settings: Settings, fresh: bool = False
) -> list[Footage | None]:
    # One task for all scenes, so that no two scenes pick the same clip; the clips are then made in parallel.
    return pick_footage(script, fmt, build_provider(step, provider, settings), open_store(settings), fresh)


@task(name="first-frame", task_run_name="first-frame-{scene.index}", **STEP)
def frame_task(
    scene: Scene,
    style: str,
    fmt: VideoFormat,
    provider: str,
    settings: Settings,
    fresh: bool = False,
    take: int = 1,
    footage: Footage | None = None,
    reference: FrameAsset | None = None,
) -> FrameAsset:
    started = time.perf_counter()
    with _vendor_slot("image", provider, settings):
        maker = build_provider("image", provider, settings)
        frame = make_first_frame(
            scene, style, fmt, maker, open_store(settings), fresh, reference=reference, take=take, footage=footage
        )
    log.info("  frame %d ready (%.1f s)", scene.index, time.perf_counter() - started)
    return frame


@task(name="storyboard")
def storyboard_task(
    script: Script,
    frames: list[FrameAsset],
    choices: dict[str, ProviderChoice],
    settings: Settings,
    out_dir: Path,
    footage: list[Footage | None] | None = None,
) -> Storyboard:
    # No Prefect cache: the sheet must be in this run's output folder, and write_storyboard keeps one already there
    # that shows the same board.
    return write_storyboard(plan_storyboard(script, frames, choices, settings, footage), out_dir / "storyboard.png")


@task(name="clip", task_run_name="clip-{scene.index}", **STEP)
def clip_task(
    scene: Scene,
    frame: FrameAsset,
    fmt: VideoFormat,
    provider: str,
    settings: Settings,
    fresh: bool = False,
    footage: Footage | None = None,
) -> ClipAsset:
    started = time.perf_counter()
    with _vendor_slot("video", provider, settings):
        clip = animate_scene(
            scene, frame, fmt, build_provider("video", provider, settings), open_store(settings), fresh, footage
        )
    log.info("  clip %d ready (%.1f s)", scene.index, time.perf_counter() - started)
    return clip


@task(name="narration", task_run_name="narration-{scene.index}", **STEP)
def narration_task(
    request: ShortRequest,
    scene: Scene,
    provider: str,
    settings: Settings,
    fresh: bool = False,
    script: Script | None = None,
) -> Narration:
    # With the script, the voice hears the neighbouring scenes and holds the per-Short cap across the mapped tasks.
    started = time.perf_counter()
    with _vendor_slot("voice", provider, settings):  # Runway's voice is a Runway task like the clips
        narration = narrate(
            request, scene, build_provider("voice", provider, settings), open_store(settings), fresh, script=script
        )
    how = "voiced" if narration.path else "no voice, timed at reading pace"
    log.info("  narration %d ready, %s (%.1f s)", scene.index, how, time.perf_counter() - started)
    return narration


@task(name="render", **STEP)
def render_task(
    script: Script,
    clips: list[ClipAsset],
    narrations: list[Narration],
    fmt: VideoFormat,
    options: RenderOptions,
    settings: Settings,
    fresh: bool = False,
) -> RenderedShort:
    return render_short(
        script,
        clips,
        narrations,
        fmt,
        options,
        open_store(settings),
        fresh,
        progress=lambda pct: log.info("  render %d%%", pct),
    )


@task(name="publish", retries=2, retry_delay_seconds=[1, 5], retry_condition_fn=retry_safe)
def publish_task(out_dir: Path, script: Script, request: ShortRequest, settings: Settings) -> Published:
    return publish_short(out_dir, script, request, settings)


@task(name="post")
def post_task(video: Path, script: Script, platforms: list[str], settings: Settings) -> list[PostOutcome]:
    """Instagram, Facebook and TikTok; no task retries: each platform retries what is safe, and a failed one is left
    for the next run, which resumes it from the ledger."""
    return post_everywhere(video, script, platforms, settings)

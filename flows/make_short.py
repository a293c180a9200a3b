"""The make_short flow: script -> first frames -> storyboard (flows/preview.py) -> review -> clips (+ narration) ->
render -> package -> publish."""

from __future__ import annotations

import logging
import runpy
import sys
from pathlib import Path

from flows.bootstrap.flow import pydantic_flow

from prefect import unmapped
from prefect.artifacts import create_link_artifact
from prefect.futures import PrefectFuture, wait
from prefect.task_runners import ThreadPoolTaskRunner

from flows.artifacts import record_run
from flows.preview import Drawn, Run, narrate_scenes, result_of, start_run, step, up_to_storyboard, wait_for
from flows.review import Approval, caller_limits, describe, rejected, review_storyboard
from flows.tasks import (
    clip_task,
    on_this_machine,
    post_task,
    publish_task,
    render_task,
)
from pipeline import (
    ClipAsset,
    Manifest,
    Narration,
    Platform,
    PostOutcome,
    Published,
    RenderOptions,
    Settings,
    ShortRequest,
    ShortResult,
    ShortsError,
    Storyboard,
    build_manifest,
    choose_music,
    is_paid,
    no_voice_warning,
    open_store,
    parse_platforms,
    record_upload,
    slug,
    used_source,
    write_package,
)

log = logging.getLogger("shorts")


@pydantic_flow(
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
    board: Storyboard | None = None,
    checked: bool = False,
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
        checked: The caller ran the free checks of providers and music already (`shorts make` does, before Prefect
            starts); a run started from a deployment runs them whatever this says.
    """
    settings = Settings()
    platforms = parse_platforms(settings.post if post is None else post)  # a bad name fails before anything is made
    approval, chosen_dir = caller_limits(approval, out_dir, settings)  # a deployment's caller cannot loosen settings
    run = start_run(request, settings, fresh, chosen_dir, checked)
    # A free voice speaks alongside, even while a person looks at the storyboard; a paid one (ElevenLabs, OpenAI,
    # Runway) waits for the approval, like the clips.
    speak_now = not is_paid("voice", run.provider["voice"])
    made = up_to_storyboard(run, redo_scene, speak_now, board if approval == "given" else None)
    with step("review", run.timings):  # the gate: no clip is bought before this
        review = review_storyboard(made.board, request, settings, approval)
        log.info("  %s", describe(review))
    if review and not review.approved:
        wait(made.narrations)
        return rejected(review)  # type: ignore[return-value]  # Prefect ends the run in a returned state
    with step("clips and narration", run.timings):
        clips, narrations = _clips_and_narration(run, made)
    with step("render", run.timings):
        music = choose_music(request.music or settings.music, made.script.mood, request.topic)
        log.info("  music: %s", f"{music.path.name} ({music.package or 'your own'})" if music else "none")
        options = RenderOptions.from_settings(settings, music.path if music else None)
        render = run.cached(render_task).submit(made.script, clips, narrations, run.fmt, options, settings, fresh)
        rendered = on_this_machine([result_of(render)], settings)[0]
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
    narration_runs = made.narrations or narrate_scenes(run, made.script)
    clips = on_this_machine(wait_for(clip_runs), run.settings)
    narrations = on_this_machine(wait_for(narration_runs), run.settings)
    _say_reused([*made.frame_runs, *narration_runs, *clip_runs])
    if warning := no_voice_warning(run.provider["voice"], narrations):
        log.warning("  %s", warning)
    return clips, narrations


def _say_reused(futures: list[PrefectFuture]) -> None:
    reused = sum(f.state.is_completed() and f.state.name == "Cached" for f in futures)
    if reused:
        log.info("  %d of %d scene steps reused from earlier runs", reused, len(futures))


def _publish_and_post(
    run: Run, manifest: Manifest, files: dict[str, Path], platforms: list[str]
) -> tuple[Published, list[PostOutcome]]:
    """Publish (YouTube, or the outbox), then post to the other platforms; a platform that fails never stops the
    others: a YouTube failure is said and raised after them."""
    request, settings = run.request, run.settings
    with step("publish", run.timings):
        if "youtube" in platforms:
            request = request.model_copy(update={"upload": True})
        others = [name for name in platforms if name != "youtube"]
        youtube_failed: ShortsError | None
        try:
            published = result_of(publish_task.submit(run.output, manifest.script, request, settings))
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
        posts = result_of(post_task.submit(files["final.mp4"], manifest.script, others, settings))
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
        cost=manifest.cost,
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

"""`shorts make`: one Short, start to finish, from the command line."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from flows.cli.errors import fail, flags_of, log_to_stderr, notice_ctrl_c, one_line_errors
from pipeline import (
    Settings,
    ShortRequest,
    check_free_space,
    check_music,
    check_post_ready,
    check_providers,
    check_upload_ready,
    choose_providers,
    parse_platforms,
    plan_script,
    prepare_output_dir,
    short_folder,
)

log = logging.getLogger("shorts")


def make(
    topic: Annotated[str, typer.Argument(help="What the Short is about (1-200 characters).")],
    seconds: Annotated[int, typer.Option(help="Target length, 5-180 seconds.")] = 30,
    scenes: Annotated[int | None, typer.Option(help="Number of scenes (default: one per ~5 s).")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: SHORTS_OUTPUT_DIR/<topic>).")] = None,
    script_provider: Annotated[str | None, typer.Option("--script", help="Script provider.")] = None,
    image_provider: Annotated[str | None, typer.Option("--image", help="First-frame provider.")] = None,
    video_provider: Annotated[str | None, typer.Option("--video", help="Clip provider.")] = None,
    voice_provider: Annotated[str | None, typer.Option("--voice", help="Narration provider.")] = None,
    voice: Annotated[str | None, typer.Option("--voice-name", help="Voice to speak with (provider-specific).")] = None,
    style: Annotated[str | None, typer.Option(help="Visual style of the frames.")] = None,
    language: Annotated[str, typer.Option(help="Narration language.")] = "en",
    source: Annotated[
        str | None,
        typer.Option(
            metavar="wikipedia|none",
            help="Where the facts come from: wikipedia (the best matching article in the "
            "narration language, credited in the description) or none (default: SHORTS_SOURCE, wikipedia).",
        ),
    ] = None,
    music: Annotated[
        str | None,
        typer.Option(
            metavar="auto|none|MOOD|PATH",
            help="Music under the voice: auto (a track of the script's mood), none, a mood "
            "(calm, energetic, happy, nostalgic, tender), or a file or folder of your own (default: SHORTS_MUSIC, "
            "auto).",
        ),
    ] = None,
    upload: Annotated[
        bool, typer.Option("--upload/--no-upload", help="Upload to YouTube when done (else drop it in the outbox).")
    ] = False,
    channel: Annotated[
        str | None,
        typer.Option(
            help="YouTube channel, as named by `shorts auth youtube` (default: SHORTS_YOUTUBE_CHANNEL or main)."
        ),
    ] = None,
    post: Annotated[
        str | None,
        typer.Option(
            "--post",
            metavar="PLATFORMS",
            help="Post when done, each at most once: a comma-separated list of youtube, "
            "instagram, facebook, tiktok (default: SHORTS_POST).",
        ),
    ] = None,
    fresh: Annotated[bool, typer.Option(help="Ignore caches and make everything again.")] = False,
    review: Annotated[
        bool | None,
        typer.Option(
            "--review/--no-review",
            help="Show a storyboard and the estimate, and ask before buying any clip (default: SHORTS_REVIEW).",
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Approve the clips in advance; with --review, no question.")
    ] = False,
    redo_scene: Annotated[
        int | None,
        typer.Option(
            metavar="N", help="Draw scene N's first frame again (a new take), and then its clip; reuse everything else."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout, nothing else.")] = False,
    verbose: Annotated[bool, typer.Option(help="Also show Prefect's own logs.")] = False,
) -> None:
    """Make one Short about TOPIC."""
    log_to_stderr()
    notice_ctrl_c()
    started = time.perf_counter()
    values = dict(
        topic=topic,
        seconds=seconds,
        scenes=scenes,
        language=language,
        voice=voice,
        style=style,
        script_provider=script_provider,
        image_provider=image_provider,
        video_provider=video_provider,
        voice_provider=voice_provider,
        upload=upload,
        channel=channel,
        music=music,
        source=source,
    )
    with one_line_errors(code=2, flags=flags_of(make)):
        if source not in (None, "wikipedia", "none"):
            fail(f"--source must be wikipedia or none (got {source!r}).", code=2)
        settings = Settings()
        check_free_space(settings.home_dir)
        asker = "--review" if review else "SHORTS_REVIEW=true"
        review = settings.review if review is None else review
        if review and not yes and not sys.stdin.isatty():  # say so now, before anything is made or paid for
            fail(
                f"{asker} asks before buying the clips, but no terminal is attached to answer; add --yes to "
                "approve in advance, or run it in a terminal.",
                code=2,
            )
        request = ShortRequest(**{k: v for k, v in values.items() if v is not None}, review=review)
        choices = choose_providers(request, settings)
        count = len(plan_script(request, choices, settings).seconds)  # a paid clip model can ask for more scenes
        if redo_scene is not None and not 1 <= redo_scene <= count:
            fail(f"--redo-scene must be a scene of this Short, 1 to {count} (got {redo_scene}).", code=2)
        # A bad provider setting, a missing key, a model no longer served or a voice the provider lacks fails now,
        # with exit code 2, before Prefect starts; the flow is told so (it checks runs started elsewhere).
        check_providers(request, choices, settings)
        check_music(request.music or settings.music)
        platforms = parse_platforms(settings.post if post is None else post)
        if "youtube" in platforms:
            request = request.model_copy(update={"upload": True})
        if request.upload:
            check_upload_ready(settings, request.channel)  # so does a missing token or a bad schedule
        check_post_ready(settings, platforms)
        out_dir = prepare_output_dir(out or settings.output_dir / short_folder(request.topic))

    from flows.prefect_env import configure_prefect
    from flows.prefect_server import ensure_server

    with one_line_errors():
        ensure_server(settings)  # before Prefect's import, which reads PREFECT_API_URL
    configure_prefect(settings, quiet=not verbose)
    from flows.make_short import make_short
    from flows.preview import preview_short

    def run(flow: Callable[..., Any], **options: Any) -> Any:
        kept = "Interrupted; everything finished so far is kept and the next run reuses it."
        with (
            one_line_errors(interrupted=kept, name_step=True, prefect=True),
            contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext(),
        ):
            return flow(request, out_dir=str(out_dir), checked=True, **options)

    if review and not yes:
        # The flow runs in this process, and a question asked from inside it would hold a Prefect run open while a
        # person thinks, or need a callable parameter a deployment cannot carry. So: preview up to the storyboard,
        # ask here, then make the Short with that storyboard as approved (not drawn again). It takes the script and
        # frames from the caches (--fresh and --redo-scene apply once, to the preview), so what is bought is exactly
        # what was shown.
        board = run(preview_short, fresh=fresh, redo_scene=redo_scene)
        typer.echo(
            f"Storyboard: {board.path}\nEstimate: {board.cost_line()}; clips by {board.clip_provider} "
            f"{board.clip_model}.",
            err=True,
        )
        if not _ask_yes("Buy the clips and finish the Short?"):
            fail(
                "Not approved: no clip was bought; the script and first frames are kept for the next run "
                "(--redo-scene N draws a scene again)."
            )
        result = run(make_short, approval="given", post=platforms, board=board)
    else:
        result = run(make_short, fresh=fresh, redo_scene=redo_scene, approval="given", post=platforms)
    log.info("Done in %.0f s: %s", time.perf_counter() - started, result.video)
    if as_json:
        payload = result.model_dump(mode="json")
        payload["published"] = result.published.location
        payload["youtube_id"], payload["youtube_url"] = result.published.youtube_id, result.published.youtube_url
        print(json.dumps(payload))


def _ask_yes(question: str) -> bool:
    """Ask on stderr and read the answer from the terminal; anything but yes is no (click's prompt writes to stdout,
    which --json keeps for its one object)."""
    typer.echo(f"{question} [y/N]: ", err=True, nl=False)
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        answer = ""
    typer.echo("" if answer.endswith("\n") else "\n", err=True, nl=False)
    return answer.strip().lower() in ("y", "yes")

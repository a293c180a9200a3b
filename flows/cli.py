"""The `shorts` command. The one place that turns errors into a line on stderr and an exit code."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError

from flows.auth_cli import auth_app
from flows.doctor_cli import doctor
from flows.schedule_cli import daily, serve, topics_app
from flows.server_cli import server_app
from pipeline import (
    Settings, ShortRequest, ShortsError, check_upload_ready, choose_providers, prepare_output_dir, provider_names, slug,
)

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Turn a topic into a publish-ready YouTube Short.")
app.add_typer(auth_app, name="auth")
log = logging.getLogger("shorts")

FLAG_NAMES = {"seconds": "--seconds", "scenes": "--scenes", "topic": "TOPIC", "voice": "--voice-name",
              "style": "--style", "language": "--language", "script_provider": "--script",
              "image_provider": "--image", "video_provider": "--video", "voice_provider": "--voice",
              "channel": "--channel"}


@app.callback()
def _root() -> None:
    """Turn a topic into a publish-ready YouTube Short."""


@app.command()
def make(
    topic: Annotated[str, typer.Argument(help="What the Short is about (1-200 characters).")],
    seconds: Annotated[int, typer.Option(help="Target length, 5-180 seconds.")] = 30,
    scenes: Annotated[Optional[int], typer.Option(help="Number of scenes (default: one per ~5 s).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: SHORTS_OUTPUT_DIR/<topic>).")] = None,
    script: Annotated[Optional[str], typer.Option("--script", help="Script provider.")] = None,
    image: Annotated[Optional[str], typer.Option("--image", help="First-frame provider.")] = None,
    video: Annotated[Optional[str], typer.Option("--video", help="Clip provider.")] = None,
    voice: Annotated[Optional[str], typer.Option("--voice", help="Narration provider.")] = None,
    voice_name: Annotated[Optional[str], typer.Option(help="Voice to speak with (provider-specific).")] = None,
    style: Annotated[Optional[str], typer.Option(help="Visual style of the frames.")] = None,
    language: Annotated[str, typer.Option(help="Narration language.")] = "en",
    upload: Annotated[bool, typer.Option("--upload/--no-upload",
                                         help="Upload to YouTube when done (else drop it in the outbox).")] = False,
    channel: Annotated[Optional[str], typer.Option(
        help="YouTube channel, as named by `shorts auth youtube` (default: SHORTS_YOUTUBE_CHANNEL or main).")] = None,
    fresh: Annotated[bool, typer.Option(help="Ignore caches and make everything again.")] = False,
    review: Annotated[Optional[bool], typer.Option(
        "--review/--no-review", help="Show a storyboard and the estimate, and ask before buying any clip "
                                     "(default: SHORTS_REVIEW).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve the clips in advance; with --review, no question.")
                   ] = False,
    redo_scene: Annotated[Optional[int], typer.Option(
        metavar="N", help="Draw scene N's first frame again (a new take), and then its clip; reuse everything else.")
                          ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout, nothing else.")] = False,
    verbose: Annotated[bool, typer.Option(help="Also show Prefect's own logs.")] = False,
) -> None:
    """Make one Short about TOPIC."""
    _log_to_stderr()
    started = time.perf_counter()
    values = dict(topic=topic, seconds=seconds, scenes=scenes, language=language, voice=voice_name, style=style,
                  script_provider=script, image_provider=image, video_provider=video, voice_provider=voice,
                  upload=upload, channel=channel)
    try:
        settings = Settings()
        asker = "--review" if review else "SHORTS_REVIEW=true"
        review = settings.review if review is None else review
        if review and not yes and not sys.stdin.isatty():  # say so now, before anything is made or paid for
            _fail(f"{asker} asks before buying the clips, but no terminal is attached to answer; add --yes to "
                  "approve in advance, or run it in a terminal.", code=2)
        request = ShortRequest(**{k: v for k, v in values.items() if v is not None}, review=review)
        if redo_scene is not None and not 1 <= redo_scene <= request.scene_count:
            _fail(f"--redo-scene must be a scene of this Short, 1 to {request.scene_count} (got {redo_scene}).", code=2)
        choose_providers(request, settings)  # a bad provider setting fails now, not after Prefect starts
        if request.upload:
            check_upload_ready(settings, request.channel)  # so does a missing token or a bad schedule
        out_dir = prepare_output_dir(out or settings.output_dir / slug(request.topic))
    except ValidationError as exc:
        _fail(_explain(exc), code=2)
    except ShortsError as exc:
        _fail(str(exc), code=2)

    from flows.local_server import ensure_server
    from flows.prefect_env import configure_prefect

    try:
        ensure_server(settings)  # before Prefect's import, which reads PREFECT_API_URL
    except ShortsError as exc:
        _fail(str(exc))
    configure_prefect(settings, quiet=not verbose)
    from flows.make_short import make_short

    def run(**options) -> object:
        try:
            with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
                return make_short(request, out_dir=str(out_dir), **options)
        except KeyboardInterrupt:
            _fail("Interrupted; everything finished so far is kept and the next run reuses it.", code=130)
        except ShortsError as exc:
            _fail(f"{exc.step or 'run'} failed: {exc}")
        except Exception as exc:  # Prefect itself failing (start-up, database): still one line, no traceback
            first_line = (str(exc).strip().splitlines() or [""])[0]
            _fail(f"Prefect failed to run the flow ({type(exc).__name__}: {first_line}); set SHORTS_DEBUG=1 for "
                  "details.")

    if review and not yes:
        # The flow runs in this process, and a question asked from inside it would hold a Prefect run open while a
        # person thinks, or need a callable parameter a deployment cannot carry. So: run up to the storyboard, ask
        # here, then run again approved. The second run takes the script and frames from the caches (--fresh and
        # --redo-scene apply once, to the first), so what is bought is exactly what was shown.
        board = run(fresh=fresh, redo_scene=redo_scene, approval="preview")
        typer.echo(f"Storyboard: {board.path}\nEstimate: {board.cost_line()}; clips by {board.clip_provider} "
                   f"{board.clip_model}.", err=True)
        if not _ask_yes("Buy the clips and finish the Short?"):
            _fail("Not approved: no clip was bought; the script and first frames are kept for the next run "
                  "(--redo-scene N draws a scene again).")
        result = run(approval="given")
    else:
        result = run(fresh=fresh, redo_scene=redo_scene, approval="given")
    log.info("Done in %.0f s: %s", time.perf_counter() - started, result.video)
    if as_json:
        payload = result.model_dump(mode="json")
        payload["published"] = result.published.location
        payload["youtube_id"], payload["youtube_url"] = result.published.youtube_id, result.published.youtube_url
        print(json.dumps(payload))


app.add_typer(topics_app, name="topics")
app.add_typer(server_app, name="server")
app.command()(doctor)
app.command()(daily)
app.command()(serve)


def _explain(exc: ValidationError) -> str:
    """One sentence for the first problem pydantic found."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    flag = FLAG_NAMES.get(field, field)
    if error["type"] == "literal_error":
        choices = ", ".join(provider_names(ShortRequest.model_fields[field].annotation))
        return f"{flag}: unknown provider {error['input']!r}; choose one of {choices}."
    if error["type"] in ("greater_than_equal", "less_than_equal") and field in ShortRequest.model_fields:
        bounds = {type(m).__name__: m for m in ShortRequest.model_fields[field].metadata}
        low, high = bounds["Ge"].ge, bounds["Le"].le
        return f"{flag} must be between {low} and {high} (got {error['input']})."
    if error["type"] == "value_error":
        return f"{flag}: {error['ctx']['error']}."
    if field in Settings.model_fields:
        return f"The setting SHORTS_{field.upper()} is invalid: {error['msg'].lower()}."
    return f"{flag}: {error['msg'].lower()}."


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


def _fail(message: str, code: int = 1) -> None:
    if os.environ.get("SHORTS_DEBUG"):
        raise
    typer.echo(f"shorts: {message}", err=True)
    raise typer.Exit(code)


def _log_to_stderr() -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `shorts` console command."""
    try:
        app(args=argv, prog_name="shorts", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0

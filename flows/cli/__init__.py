"""The `shorts` command: each subcommand lives in its own module here, behind the one error boundary of
`flows.cli.errors`. Prefect is imported inside the commands that run a flow, so `--help` and `shorts topics` stay fast.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys

_EXIT_CODE: list[int] = []  # set by run(): the command is over, and its process can end without the teardown


def _end_without_teardown() -> None:
    """The last exit handler (registered here, before Prefect is imported): with the threads joined, Prefect's logs
    and events sent (its exit hooks run first) and every stream flushed, end the process at once. The interpreter's
    own teardown frees every module Prefect, numpy and moviepy loaded one by one: 0.3-0.9 s of `shorts make`'s wait,
    for nothing a finished command needs."""
    if not _EXIT_CODE:
        return  # main() called in-process (tests), or a crash: the usual exit
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`shorts ... | head`) or stream
            stream.flush()
    os._exit(_EXIT_CODE[0])


atexit.register(_end_without_teardown)
# Exit handlers are called last first, so this one comes after Prefect's unless Prefect was imported before this
# module (`python -m flows.make_short`): then the usual exit.
_CALLED_LAST = "prefect" not in sys.modules

import typer  # noqa: E402

from flows.cli.auth import auth_app  # noqa: E402
from flows.cli.doctor import doctor  # noqa: E402
from flows.cli.make import make  # noqa: E402
from flows.cli.schedule import daily, serve, topics_app  # noqa: E402
from flows.cli.server import server_app  # noqa: E402
from flows.cli.stats import stats_app  # noqa: E402
from flows.cli.voices import voices  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Turn a topic into a publish-ready YouTube Short.")


@app.callback()
def _root() -> None:
    """Turn a topic into a publish-ready YouTube Short."""


app.command()(make)
app.add_typer(auth_app, name="auth")
app.add_typer(topics_app, name="topics")
app.add_typer(server_app, name="server")
app.add_typer(stats_app, name="stats")
app.command()(doctor)
app.command()(voices)
app.command()(daily)
app.command()(serve)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `shorts` console command."""
    try:
        app(args=argv, prog_name="shorts", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def run() -> None:
    """The `shorts` console command: main(), then the exit without the interpreter's teardown."""
    code = main()
    if _CALLED_LAST:
        _EXIT_CODE.append(code)
    sys.exit(code)

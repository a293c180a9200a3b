"""The `shorts` command: each subcommand lives in its own module here, behind the one error boundary of
`flows.cli.errors`. Prefect is imported inside the commands that run a flow, so `--help` and `shorts topics` stay fast.
"""

from __future__ import annotations

import typer

from flows.cli.auth import auth_app
from flows.cli.doctor import doctor
from flows.cli.make import make
from flows.cli.schedule import daily, serve, topics_app
from flows.cli.server import server_app
from flows.cli.voices import voices

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Turn a topic into a publish-ready YouTube Short.")


@app.callback()
def _root() -> None:
    """Turn a topic into a publish-ready YouTube Short."""


app.command()(make)
app.add_typer(auth_app, name="auth")
app.add_typer(topics_app, name="topics")
app.add_typer(server_app, name="server")
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

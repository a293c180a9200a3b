"""`shorts server status|start|stop`: the background Prefect server that `shorts make` starts and reuses."""

from __future__ import annotations

import typer

from flows.cli.errors import log_to_stderr, one_line_errors
from flows.local_server import ensure_server, running_server, stop_server
from pipeline import Settings

server_app = typer.Typer(no_args_is_help=True, help="The background Prefect server `shorts make` uses.")


@server_app.command()
def status() -> None:
    """Say whether this SHORTS_HOME's server runs, and where."""
    with one_line_errors(code=2):
        settings = Settings()
    state = running_server(settings)
    typer.echo(f"running: {state['api_url']} (pid {state['pid']})" if state else "not running")


@server_app.command()
def start() -> None:
    """Start it now, so the next `shorts make` does not wait for it."""
    log_to_stderr()
    with one_line_errors():
        typer.echo(f"running: {ensure_server(Settings())}")


@server_app.command()
def stop() -> None:
    """Stop it (the next `shorts make` starts it again)."""
    with one_line_errors(code=2):
        settings = Settings()
    pid = stop_server(settings)
    typer.echo(f"stopped (pid {pid})" if pid else "not running")

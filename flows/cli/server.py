"""`shorts server status|start|stop`: the background Prefect server that `shorts make` starts and reuses."""

from __future__ import annotations

import os

import typer

from flows.cli.errors import log_to_stderr, one_line_errors
from flows.prefect_server import ensure_server, orphaned, recorded, running_server, setting_up, stop_server
from flows.server_access import login
from pipeline import ConfigError, Settings

server_app = typer.Typer(no_args_is_help=True, help="The background Prefect server `shorts make` uses.")


@server_app.command()
def status() -> None:
    """Say whether this SHORTS_HOME's server runs, where, and the login its UI asks for."""
    with one_line_errors(code=2):
        settings = Settings()
        try:
            state = running_server(settings)
            found = recorded(settings) if state is None else None
        except OSError as exc:
            raise ConfigError(
                f"Cannot read {settings.paths.background_server} ({exc.strerror}); check that SHORTS_HOME is yours."
            ) from exc
        if os.environ.get("PREFECT_API_URL"):
            typer.echo(f"PREFECT_API_URL is set: `shorts make` uses {os.environ['PREFECT_API_URL']}, not this one.")
        if state:
            typer.echo(f"running: {state['api_url']} (pid {state['server']['pid']})")
            typer.echo(f"UI: {state['api_url'].removesuffix('/api')}  login: {login(settings)}")
        elif found and found.get("legacy") and found.get("watchdog"):
            typer.echo(
                f"running: {found['api_url']} (started by an older shorts, watchdog pid "
                f"{found['watchdog']['pid']}); `shorts server stop` ends it, the next command starts a new one"
            )
        elif setting_up(found):
            typer.echo(
                f"starting (pid {found['watchdog']['pid']}): it sets up its database; log: "
                f"{settings.paths.background_server / 'server.log'}"
            )
        elif orphaned(found):
            typer.echo("running without its watchdog, so it would not stop when idle; `shorts server stop` ends it")
        else:
            typer.echo("not running")
            if settings.paths.server_login.exists():  # `shorts serve`'s server asks for the same login
                typer.echo(f"login (for `shorts serve`'s UI): {login(settings)}")


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
        try:
            pid = stop_server(settings)
        except PermissionError as exc:
            raise ConfigError("The recorded server belongs to another user; it was left alone.") from exc
        except OSError as exc:
            raise ConfigError(
                f"Cannot stop the server in {settings.paths.background_server} ({exc.strerror})."
            ) from exc
    typer.echo(f"stopped (pid {pid})" if pid else "not running")

"""`python -m flows.guarded_server PORT [PUBLIC_URL]`: Prefect's server (API and UI) on 127.0.0.1:PORT, as
`prefect server start` runs it, behind a check of the Host and Origin headers, with files created private.

Prefect checks the login (PREFECT_SERVER_API_AUTH_STRING), CORS and CSRF itself; it has no check of the Host a
request names, so a web page on another name that resolves to 127.0.0.1 (DNS rebinding) could reach it. The check
here answers 421 to any Host but ours, and 403 to a browser request from any origin but ours. The server also stops
when the process that started it is gone (a killed watchdog or `shorts serve`), so none is left running unwatched.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HOST = "127.0.0.1"
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


class HostAndOriginCheck:
    """ASGI middleware: only requests that name one of our hosts, and come from no browser or from our origins."""

    def __init__(self, app: ASGIApp, hosts: set[str], origins: set[str]) -> None:
        self.app, self.hosts, self.origins = app, hosts, origins

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
    ) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)  # lifespan
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if headers.get("host", "").lower() not in self.hosts:
            return await _refuse(scope, receive, send, 421, "This server answers only to its own address.")
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in self.origins:
            return await _refuse(scope, receive, send, 403, "Requests from other sites are refused.")
        return await self.app(scope, receive, send)


async def _refuse(
    scope: Scope,
    receive: Callable[[], Awaitable[Any]],
    send: Callable[[Any], Awaitable[None]],
    status: int,
    message: str,
) -> None:
    if scope["type"] == "websocket":
        await receive()  # the connect event, then a close before accepting: the handshake is refused (403)
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def origins(port: int, public_url: str | None = None) -> list[str]:
    """The origins a browser may call the server from: its own two loopback names, and the public URL if any."""
    found = [f"http://{HOST}:{port}", f"http://localhost:{port}"]
    if public_url:
        parts = urlsplit(public_url)
        found.append(f"{parts.scheme}://{parts.netloc}")
    return found


def allowed(port: int, public_url: str | None) -> tuple[set[str], set[str]]:
    """The Host values and the Origin values the server answers."""
    hosts = {f"{HOST}:{port}", f"localhost:{port}"}
    if public_url:
        hosts.add(urlsplit(public_url).netloc.lower())
    return hosts, {o.lower() for o in origins(port, public_url)}


def _stop_with_parent() -> None:
    """SIGTERM ourselves (uvicorn's graceful stop) once the process that started us is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stop-with-parent", daemon=True).start()


def _private_database() -> None:
    """Prefect's SQLite database, and its journal files, readable by their owner only (also when made earlier)."""
    from prefect.settings import get_current_settings

    secret = get_current_settings().server.database.connection_url
    url = secret.get_secret_value() if secret else ""
    if not url.startswith("sqlite"):
        return
    path = Path(urlsplit(url).path)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def main(port: int, public_url: str | None) -> None:
    _stop_with_parent()
    import uvicorn
    from prefect.server.api.server import create_app
    from prefect.settings import get_current_settings

    # What `prefect server start` runs in the foreground (prefect/cli/_server_utils.py), wrapped in the check.
    app = create_app(final=True)  # may copy the UI's files into Prefect's package folder, for every user: umask as is
    os.umask(0o077)  # the database (migrated when uvicorn starts the app) and its journals: owner only
    _private_database()
    server = get_current_settings().server
    hosts, origins_ = allowed(port, public_url)
    uvicorn.run(
        HostAndOriginCheck(app, hosts, origins_),
        host=HOST,
        port=port,
        timeout_keep_alive=server.api.keepalive_timeout,
        ws_ping_interval=server.api.websocket_ping_interval,
        ws_ping_timeout=server.api.websocket_ping_timeout,
        log_level=server.logging_level.lower(),
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None)

"""The base of the vendor fakes: an HTTP/1.1 server on 127.0.0.1 in a daemon thread that calls `answer`."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackFake:
    """Start with `start()` or `with`; `stop()` ends the server. Subclasses implement `answer(handler)`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        # A short poll interval keeps `stop()` fast; serve_forever's default makes shutdown wait up to 0.5 s.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError


def send(h: BaseHTTPRequestHandler, status: int, body: dict | None, headers: dict | None = None) -> None:
    """Answer with `body` as JSON (none for None) and any extra headers."""
    data = json.dumps(body).encode() if body is not None else b""
    h.send_response(status)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    if body is not None:
        h.send_header("content-type", "application/json")
    h.send_header("content-length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def send_unless_lost(h: BaseHTTPRequestHandler, fault: str, body: dict, lost: dict) -> None:
    """Answer `body`, unless `fault` loses the answer after the work is done: "lost" answers 502 with `lost`,
    "drop" closes the connection without a word."""
    if fault == "lost":
        return send(h, 502, lost)
    if fault == "drop":
        h.close_connection = True
        return None
    return send(h, 200, body)


def send_file(h: BaseHTTPRequestHandler, data: bytes, media_type: str, cut_short: bool = False) -> None:
    """Answer with a file; `cut_short` drops the connection half way, as a flaky network does."""
    h.send_response(200)
    h.send_header("content-type", media_type)
    h.send_header("content-length", str(len(data)))
    h.end_headers()
    h.wfile.write(data[: len(data) // 2] if cut_short else data)
    h.close_connection = cut_short


def _handler(fake: LoopbackFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each small answer waits ~40 ms for a delayed ACK

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        do_GET = do_POST = do_DELETE = lambda self: fake.answer(self)  # noqa: E731

    return Handler

"""Benchmark: what looking for a local Ollama costs a keyless run, where nothing answers and where one does.

    python benchmarks/ollama_probe.py [--repeat 20]

Times `choose_provider("script", ...)` with no key, as `shorts make` calls it, against: a refused port (no
Ollama: the common case), a listener that never answers (bounded by SHORTS_OLLAMA_PROBE_SECONDS), and a
minimal Ollama-like server on 127.0.0.1. Each case uses a fresh address, so the per-run memo does not hide it."""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipeline import Settings, ShortRequest
from pipeline.providers import choose_provider
from pipeline.providers import ollama as ollama_module

TAGS = json.dumps({"models": [{"name": "llama3.2:latest", "details": {"family": "llama"}}]}).encode()


class _Tags(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(TAGS)))
        self.end_headers()
        self.wfile.write(TAGS)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.pop("OPENAI_API_KEY", None)
    refused, silent = socket.socket(), socket.socket()
    refused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tags)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cases = {
        "refused port (no Ollama)": refused.getsockname()[1],
        "silent listener": silent.getsockname()[1],
        "Ollama answering": server.server_address[1],
    }
    for label, port in cases.items():
        times = []
        for _ in range(args.repeat if label != "silent listener" else 3):
            ollama_module._seen.clear()  # measure the probe itself, not the memo that spares a run a second one
            os.environ["OLLAMA_HOST"] = f"127.0.0.1:{port}"
            settings = Settings()
            started = time.perf_counter()
            choice = choose_provider("script", ShortRequest(topic="x"), settings)
            times.append(time.perf_counter() - started)
        print(
            f"{label}: {choice.name}, median {1000 * statistics.median(times):.1f} ms "
            f"(slowest {1000 * max(times):.1f}); load average {os.getloadavg()[0]:.1f}"
        )
    server.shutdown()


if __name__ == "__main__":
    main()

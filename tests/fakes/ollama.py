"""A fake Ollama on 127.0.0.1: its model list (`GET /api/tags`) and its OpenAI-compatible chat API.

The chat answers come from `FakeOpenAI` (queued scripts, structured output that can be switched off as older
Ollama builds lack it), so the real openai SDK talks to this server over HTTP as it would to Ollama.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import httpx

from fakes.loopback import LoopbackFake, send
from fakes.openai import FakeOpenAI

LLAMA = {
    "name": "llama3.2:latest",
    "model": "llama3.2:latest",
    "size": 2019393189,
    "details": {"format": "gguf", "family": "llama", "families": ["llama"], "parameter_size": "3.2B"},
}
EMBEDDER = {
    "name": "nomic-embed-text:latest",
    "model": "nomic-embed-text:latest",
    "size": 274302450,
    "details": {"format": "gguf", "family": "nomic-bert", "families": ["nomic-bert"]},
}
QWEN = {
    "name": "qwen2.5:7b",
    "model": "qwen2.5:7b",
    "size": 4683087332,
    "details": {"format": "gguf", "family": "qwen2", "families": ["qwen2"], "parameter_size": "7.6B"},
}


class FakeOllama(LoopbackFake):
    """Installed `models` as /api/tags lists them (newest first); `openai` answers /v1/chat/completions."""

    def __init__(self, models: list[dict] | None = None) -> None:
        super().__init__()
        self.models = [EMBEDDER, LLAMA] if models is None else models
        self.openai = FakeOpenAI()

    @property
    def host(self) -> str:
        """What OLLAMA_HOST would say: host:port, without a scheme."""
        return self.root.removeprefix("http://")

    def paths(self) -> list[str]:
        with self.lock:
            return [r["path"] for r in self.requests]

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        body = h.rfile.read(int(h.headers.get("content-length") or 0))
        with self.lock:
            self.requests.append({"method": h.command, "path": h.path})
        if h.command == "GET" and h.path == "/api/tags":
            return send(h, 200, {"models": self.models})
        if h.command == "POST" and h.path == "/v1/chat/completions":
            request = json.loads(body or b"{}")
            if request.get("model") not in {m["name"] for m in self.models} | {
                m["name"].removesuffix(":latest") for m in self.models
            }:
                return send(
                    h,
                    404,
                    {
                        "error": {
                            "message": f'model "{request.get("model")}" not found, try pulling it first',
                            "type": "api_error",
                            "param": None,
                            "code": None,
                        }
                    },
                )
            answer = self.openai.handle(httpx.Request("POST", f"{self.root}{h.path}", content=body))
            return send(h, answer.status_code, answer.json())
        return send(h, 404, {"error": "404 page not found"})

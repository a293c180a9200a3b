"""A fake OpenAI-compatible server behind `httpx.MockTransport`: the real SDK talks to it over HTTP.

It speaks in tone bursts, one per word, and remembers where each burst is. The transcription endpoint reads
the uploaded WAV's samples and answers with those times only when the samples are the ones it spoke, so a
test's word timings travel the whole way: speech bytes, our WAV rewrite, the upload and the alignment.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import threading
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np
from PIL import Image

BASE_URL = "http://fake-openai.test/v1"
RATE = 24_000
CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


def good_script(scenes: int = 2, words: int = 10, **changes: object) -> dict:
    """A script answer that keeps every rule, with `changes` applied to the top level."""
    script = {
        "title": "Octopus camouflage in seconds",
        "description": "How an octopus vanishes in plain sight. #octopus #ocean",
        "tags": ["octopus", "camouflage", "ocean life", "marine biology"],
        "hook": "This animal can vanish in a blink.",
        "scenes": [
            {
                "narration": " ".join(["word"] * (words - 1) + [f"scene{n}."]),
                "first_frame_prompt": f"an octopus on a reef, scene {n}",
                "motion_prompt": "slow push in",
            }
            for n in range(1, scenes + 1)
        ],
    }
    script.update(changes)
    return script


# What GET /v1/models lists: id -> announced shutdown date (None: none announced), as of the SDK's notes (3.57).
MODELS = {
    "gpt-5.4-mini": None,
    "gpt-image-2": None,
    "omni-moderation-latest": None,
    "gpt-4o-mini-tts": "2027-01-06",
    "tts-1": "2027-01-06",
    "whisper-1": "2027-02-26",
}
FIXED_IMAGE_SIZES = {"1024x1024", "1024x1536", "1536x1024", "auto"}


def image_size_problem(model: str, size: str) -> str | None:
    """Why `model` would refuse `size`: gpt-image-2 and later take WxH with sides divisible by 16 and a ratio within
    1:3..3:1 (up to 3840x2160 pixels); older GPT image models only the fixed sizes."""
    if size in FIXED_IMAGE_SIZES:
        return None
    if not model.startswith("gpt-image-2"):
        return f"Invalid size '{size}'. Supported sizes are {', '.join(sorted(FIXED_IMAGE_SIZES))}."
    try:
        width, height = (int(v) for v in size.split("x"))
    except ValueError:
        return f"Invalid size '{size}'."
    if width % 16 or height % 16 or not 1 / 3 <= width / height <= 3 or width * height > 3840 * 2160:
        return f"Invalid size '{size}': sides must be multiples of 16 with an aspect ratio between 1:3 and 3:1."
    return None


def error(status: int, message: str, code: str | None = None) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    )


class FakeOpenAI:
    """Routes /v1/chat/completions, /moderations, /images/generations, /audio/speech, /audio/transcriptions,
    GET /v1/models (with each model's announced shutdown date) and GET /v1/models/{id}."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []  # (path, parsed body) per request
        self.chat: list[Callable[[dict], httpx.Response] | dict | str] = []  # queued answers
        self.structured_output = True
        self.flag: dict[str, str] = {}  # substring of a text -> moderation category
        self.image_as_url = False
        self.image_size = (1024, 1536)
        self.wav_style = "streamed"  # streamed (sizes 0xFFFFFFFF), plain, or float32 (needs ffmpeg)
        self.failures: dict[str, list[httpx.Response]] = {}  # path -> responses to give before working
        # path -> transport errors: a ConnectError never reaches the server, any other is raised after the work
        self.broken: dict[str, list[Exception]] = {}
        self.images_made = 0  # each one billed
        self.timeouts: dict[str, dict] = {}  # path -> the timeouts the client gave its transport (MockTransport only)
        self.models = dict(MODELS)
        # What the "recogniser" hears: (word, start, end) from the spoken words and their burst times.
        self.heard: Callable[[list[str], list[tuple[float, float]]], list[tuple[str, float, float]]] = (
            lambda words, times: [(w, s, e) for w, (s, e) in zip(words, times, strict=False)]
        )
        self.spoken: dict[str, tuple[list[str], list[tuple[float, float]]]] = {}  # frames digest -> words, times

    @staticmethod
    def no_route(path: str) -> httpx.Response:
        """What a compatible server without `path` answers."""
        return httpx.Response(404, text=f"404 page not found: {path}")

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]

    def bodies(self, path: str) -> list:
        return [body for p, body in self.calls if p == path]

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1")
        self.timeouts[path] = request.extensions.get("timeout", {})
        if request.method == "GET" and request.url.host == "files.fake-openai.test":
            self.calls.append((path, None))
            return httpx.Response(200, content=self._png(), headers={"content-type": "image/png"})
        if path == "/audio/transcriptions":
            body: object = _multipart(request)
        else:
            body = json.loads(request.content or b"{}")
        self.calls.append((path, body))
        if self.failures.get(path):
            return self.failures[path].pop(0)
        broken = self.broken[path].pop(0) if self.broken.get(path) else None
        if isinstance(broken, (httpx.ConnectError, httpx.ConnectTimeout)):
            raise broken  # the request never reached the server
        if request.method == "GET" and path == "/models":
            return httpx.Response(
                200,
                json={
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": 0, "owned_by": "openai", "shutdown_date": date}
                        for m, date in self.models.items()
                    ],
                },
            )
        if request.method == "GET" and path.startswith("/models/"):  # models.retrieve: gone models answer 404
            model = path.removeprefix("/models/")
            if model not in self.models:
                return error(404, f"The model '{model}' does not exist", code="model_not_found")
            return httpx.Response(
                200,
                json={
                    "id": model,
                    "object": "model",
                    "created": 0,
                    "owned_by": "openai",
                    "shutdown_date": self.models[model],
                },
            )
        route = {
            "/chat/completions": self._chat,
            "/moderations": self._moderate,
            "/images/generations": self._image,
            "/audio/speech": self._speech,
            "/audio/transcriptions": self._transcribe,
        }.get(path)
        response = route(body) if route else error(404, f"no route {path}")
        if broken:
            raise broken  # the work is done (and billed), and the answer is lost
        return response

    def _chat(self, body: dict) -> httpx.Response:
        kind = (body.get("response_format") or {}).get("type")
        if kind == "json_schema" and not self.structured_output:
            return error(400, "response_format json_schema is not supported by this server")
        answer = self.chat.pop(0)
        if callable(answer):
            return answer(body)
        message = (
            answer
            if isinstance(answer, dict) and "content" in answer
            else {"content": answer if isinstance(answer, str) else json.dumps(answer)}
        )
        return httpx.Response(
            200,
            json={
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "refusal": None, **message}}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            },
        )

    def _moderate(self, body: dict) -> httpx.Response:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        results = []
        for text in texts:
            hits = {cat for needle, cat in self.flag.items() if needle in text}
            results.append(
                {
                    "flagged": bool(hits),
                    "categories": {c: c in hits for c in CATEGORIES},
                    "category_scores": {c: 0.9 if c in hits else 0.001 for c in CATEGORIES},
                    "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
                }
            )
        return httpx.Response(200, json={"id": "modr-fake", "model": body.get("model"), "results": results})

    def _png(self) -> bytes:
        """Portrait picture, green, with blue edge columns; a wider than 9:16 picture also has red bands on the sides
        (cropped away for 9:16). A 9:16 picture is fitted whole, so its blue edges survive."""
        w, h = self.image_size
        pixels = np.zeros((h, w, 3), np.uint8)
        pixels[:, :, 1] = 200
        band = (w - h * 9 // 16) // 2
        if band > 4:
            pixels[:, : band - 4] = (220, 0, 0)
            pixels[:, w - band + 4 :] = (220, 0, 0)
        else:
            edge = max(w // 30, 2)
            pixels[:, :edge] = pixels[:, w - edge :] = (0, 0, 220)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        return buffer.getvalue()

    def _image(self, body: dict) -> httpx.Response:
        if problem := image_size_problem(body["model"], body.get("size", "auto")):
            return error(400, problem)
        if body.get("size", "auto") != "auto":
            self.image_size = tuple(int(v) for v in body["size"].split("x"))
        self.images_made += 1
        item = (
            {"url": "https://files.fake-openai.test/img/1.png"}
            if self.image_as_url
            else {"b64_json": base64.b64encode(self._png()).decode()}
        )
        return httpx.Response(200, json={"created": 0, "data": [item]})

    def _speech(self, body: dict) -> httpx.Response:
        words = body["input"].split()
        samples, times, t = [np.zeros(int(0.2 * RATE))], [], 0.2  # 0.2 s of silence first
        for i, word in enumerate(words):
            length = 0.08 + 0.03 * len(word)
            tone = 0.5 * np.sin(2 * np.pi * (300 + 40 * i) * np.arange(int(length * RATE)) / RATE)
            samples += [tone, np.zeros(int(0.1 * RATE))]
            times.append((round(t, 3), round(t + length, 3)))
            t += length + 0.1
        pcm = (np.concatenate(samples + [np.zeros(int(0.2 * RATE))]) * 32767).astype("<i2").tobytes()
        # Known by its length: the narration step changes the loudness of what it stores, never the length.
        self.spoken[len(pcm) // 2] = (words, times)
        return httpx.Response(200, content=_wav(pcm, self.wav_style), headers={"content-type": "audio/wav"})

    def _transcribe(self, body: dict) -> httpx.Response:
        with wave.open(io.BytesIO(body["file"]), "rb") as w:
            frames = w.getnframes()
        spoken = self.spoken.get(frames)
        if spoken is None:
            return error(400, "audio does not match anything this server spoke")
        heard = self.heard(*spoken)
        return httpx.Response(
            200,
            json={
                "task": "transcribe",
                "language": "english",
                "duration": frames / RATE,
                "text": " ".join(w for w, _, _ in heard),
                "words": [{"word": w, "start": s, "end": e} for w, s, e in heard],
            },
        )


@contextmanager
def serving(fake: FakeOpenAI, port: int = 0) -> Iterator[str]:
    """Serve `fake` on 127.0.0.1 (on `port`, else any free one) for the SDK's own HTTP client; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            request = httpx.Request(
                self.command,
                f"http://{self.headers['host']}{self.path}",
                headers=dict(self.headers.items()),
                content=body,
            )
            response = fake.handle(request)
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "content-encoding"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    # A short poll interval keeps the shutdown fast; serve_forever's default makes it wait up to 0.5 s.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _wav(pcm: bytes, style: str) -> bytes:
    if style == "float32":
        data = (np.frombuffer(pcm, "<i2").astype("<f4") / 32768).tobytes()
        fmt = struct.pack("<HHIIHH", 3, 1, RATE, RATE * 4, 4, 32)
        return (
            b"RIFF"
            + struct.pack("<I", 36 + len(data))
            + b"WAVEfmt "
            + struct.pack("<I", 16)
            + fmt
            + b"data"
            + struct.pack("<I", len(data))
            + data
        )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)
    data = bytearray(buffer.getvalue())
    if style == "streamed":  # what a streaming TTS server sends: sizes unknown when the header went out
        data[4:8] = data[40:44] = b"\xff\xff\xff\xff"
    return bytes(data)


def _multipart(request: httpx.Request) -> dict:
    raw = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n" + request.read()
    fields: dict[str, object] = {}
    for part in BytesParser(policy=email_policy).parsebytes(raw).iter_parts():
        name = part.get_param("name", header="content-disposition")
        value = part.get_payload(decode=True)
        value = value if part.get_filename() else value.decode()
        if name.endswith("[]"):
            fields.setdefault(name, []).append(value)
        else:
            fields[name] = value
    return fields

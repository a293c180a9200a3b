"""A strict fake of Runway's developer API on 127.0.0.1, for driving the real `runwayml` SDK in tests.

Like the real one it checks the key and version header, each model's ratios and durations, the prompt's length
in UTF-16 units, the image URIs and the speech models' preset voices; it runs a task clock (PENDING, THROTTLED, RUNNING, then an outcome), hands
out signed output URLs that can expire, and takes injected faults (429, 5xx, a create whose answer is lost
after the task was made, a moderation failure, an expired or cut-short download).
"""

from __future__ import annotations

import base64
import functools
import io
import json
import math
import re
import subprocess
import tempfile
import uuid
import wave
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from fakes.loopback import LoopbackFake, send_file, send_unless_lost
from fakes.loopback import send as _send

KEY = "key_" + "0123456789abcdef" * 8
VERSION = "2024-11-06"
# model: (ratios, durations, credits a second, credits a second with audio; None where the model takes no `audio`)
VIDEO_MODELS = {
    "gen4_turbo": ({"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"}, set(range(2, 11)), 5, None),
    "gen4.5": ({"1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672"}, set(range(2, 11)), 12, None),
    "veo3.1": ({"1280:720", "720:1280", "1080:1920", "1920:1080"}, {4, 6, 8}, 20, 40),
    "veo3.1_fast": ({"1280:720", "720:1280", "1080:1920", "1920:1080"}, {4, 6, 8}, 10, 15),
}
IMAGE_RATIOS = {
    "1024:1024",
    "1080:1080",
    "1168:880",
    "1360:768",
    "1440:1080",
    "1080:1440",
    "1808:768",
    "1920:1080",
    "1080:1920",
    "2112:912",
    "1280:720",
    "720:1280",
    "720:720",
    "960:720",
    "720:960",
    "1680:720",
}
TAG = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,15}$")
# text_to_speech: the ElevenLabs models and the preset voices (runwayml 5.24 text_to_speech_create_params.py).
SPEECH_MODELS = {"eleven_multilingual_v2", "eleven_v3", "eleven_v4"}
PRESETS = {
    "Maya",
    "Arjun",
    "Serene",
    "Bernard",
    "Billy",
    "Mark",
    "Clint",
    "Mabel",
    "Chad",
    "Leslie",
    "Eleanor",
    "Elias",
    "Elliot",
    "Grungle",
    "Brodie",
    "Sandra",
    "Kirk",
    "Kylie",
    "Lara",
    "Lisa",
    "Malachi",
    "Marlene",
    "Martin",
    "Miriam",
    "Monster",
    "Paula",
    "Pip",
    "Rusty",
    "Ragnar",
    "Xylar",
    "Maggie",
    "Jack",
    "Katie",
    "Noah",
    "James",
    "Rina",
    "Ella",
    "Mariah",
    "Frank",
    "Claudia",
    "Niki",
    "Vincent",
    "Kendrick",
    "Myrna",
    "Tom",
    "Wanda",
    "Benjamin",
    "Kiana",
    "Rachel",
}
SPEECH_RATE = 24_000
CLOCK = ["PENDING", "THROTTLED", "RUNNING", "RUNNING"]


@functools.cache
def video_bytes(width: int, height: int, seconds: int, fps: int = 4) -> bytes:
    """A real H.264 MP4, small because it is flat colour with a moving bar."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.mp4"
        writer = imageio_ffmpeg.write_frames(
            str(path),
            (width, height),
            fps=fps,
            codec="libx264",
            macro_block_size=8,
            output_params=["-preset", "ultrafast"],
            ffmpeg_log_level="error",
        )
        writer.send(None)
        for i in range(seconds * fps):
            frame = np.full((height, width, 3), 40, np.uint8)
            frame[:, (i * 16) % width : (i * 16) % width + 16] = 220
            writer.send(frame)
        writer.close()
        return path.read_bytes()


@functools.cache
def image_bytes(width: int, height: int, seed: int = 0) -> bytes:
    """A flat picture; as with a real model, another seed draws another one."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, (160 + seed) % 256)).save(buffer, format="PNG")
    return buffer.getvalue()


def speech_words(text: str) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """`text` "spoken": a tone per word, a short gap between words and a long one after punctuation (so the pauses
    say where the phrases are, as in real speech); the samples and each word's (onset, end) in seconds."""
    parts, times, t = [np.zeros(int(0.2 * SPEECH_RATE))], [], 0.2
    for i, word in enumerate(text.split()):
        length, gap = 0.1 + 0.03 * len(word), 0.35 if word[-1] in ".,;:!?" else 0.04
        tone = np.arange(int(length * SPEECH_RATE)) / SPEECH_RATE
        parts += [0.5 * np.sin(2 * np.pi * (220 + 30 * (i % 7)) * tone), np.zeros(int(gap * SPEECH_RATE))]
        times.append((t, t + length))
        t += length + gap
    return np.concatenate(parts + [np.zeros(int(0.2 * SPEECH_RATE))]), times


@functools.cache
def speech_mp3(text: str) -> bytes:
    """The spoken `text` as an MP3, as Runway's speech may well come back."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SPEECH_RATE)
        w.writeframes((speech_words(text)[0] * 32767).astype("<i2").tobytes())
    return subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "wav",
            "-i",
            "pipe:0",
            "-f",
            "mp3",
            "-b:a",
            "64k",
            "pipe:1",
        ],
        input=buffer.getvalue(),
        capture_output=True,
        check=True,
    ).stdout


@dataclass
class Task:
    id: str
    kind: str
    body: dict
    credits: int
    outcome: str  # SUCCEEDED, FAILED:<code>, CANCELLED or HOLD (RUNNING until finished by the test)
    clock: list[str] = field(default_factory=lambda: list(CLOCK))
    status: str = "PENDING"
    token: int = 0
    expired: set[int] = field(default_factory=set)
    billed: bool = False  # a task cancelled after it started is still billed in full


class FakeRunway(LoopbackFake):
    """The server's state; tests read `requests` and queue outcomes and faults."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[str, Task] = {}
        self.outcomes: list[str] = []  # for the next clip and image tasks; default SUCCEEDED
        self.speech_outcomes: list[str] = []  # the same for speech tasks, which run beside the others
        self.create_faults: list[str] = []  # "429", "429:<retry-after>", "500", "400", "lost", "drop"
        self.download_faults: list[str] = []  # "expire" (403 and a new URL on re-fetch), "404", "short"
        self.delete_status = 204  # what DELETE /v1/tasks/{id} answers; anything else leaves the task running
        self.uploads: set[str] = set()
        self.upload_faults: list[str] = []  # for the presigned bucket: "403" (expired policy), "drop"
        self.clock = list(CLOCK)  # the statuses each new task goes through before its outcome
        self.on_poll = None  # called with the task after each GET of it

    @property
    def url(self) -> str:
        return self.root

    def seen(self, method: str, prefix: str = "") -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["method"] == method and r["path"].startswith(prefix)]

    def finish(self, task_id: str, outcome: str = "SUCCEEDED") -> None:
        with self.lock:
            self.tasks[task_id].outcome = outcome

    def answer(self, h: BaseHTTPRequestHandler) -> None:  # noqa: C901 - one router, read top to bottom
        length = int(h.headers.get("content-length") or 0)
        raw = h.rfile.read(length) if length else b""
        path = h.path
        record = dict(method=h.command, path=path, headers=dict(h.headers), raw=raw)
        if "json" in (h.headers.get("content-type") or ""):
            record["body"] = json.loads(raw or b"{}")
        with self.lock:
            self.requests.append(record)
        if path.startswith("/outputs/"):
            return self._download(h, path)
        if path.startswith("/bucket/"):
            fault = self.upload_faults.pop(0) if self.upload_faults else ""
            if fault == "403":  # what a storage bucket says to a presigned POST whose policy has expired
                return _send(h, 403, {"error": "Invalid according to Policy: Policy expired."})
            if fault == "drop":
                h.close_connection = True
                return None
            if b'name="file"' not in raw or len(raw) < 512:
                return _send(h, 400, {"error": "no file, or under 512 bytes"})
            self.uploads.add(f"runway://uploads/{path.rsplit('/', 1)[1]}")
            return _send(h, 204, None)
        if h.headers.get("authorization") != f"Bearer {KEY}":
            return _send(h, 401, {"error": "Invalid API key."})
        if h.headers.get("x-runway-version") != VERSION:
            return _send(h, 400, {"error": "A valid X-Runway-Version header is required."})
        if h.command == "GET" and path == "/v1/organization":
            return _send(
                h,
                200,
                {
                    "creditBalance": 4321,
                    "tier": {
                        "maxMonthlyCreditSpend": 10000,
                        "models": {"gen4_turbo": {"maxConcurrentGenerations": 3, "maxDailyGenerations": 50}},
                    },
                    "usage": {"models": {"gen4_turbo": {"dailyGenerations": 7}}},
                },
            )
        if h.command == "POST" and path == "/v1/uploads":
            upload = uuid.uuid4().hex
            return _send(
                h,
                200,
                {
                    "uploadUrl": f"{self.url}/bucket/{upload}",
                    "fields": {"key": upload},
                    "runwayUri": f"runway://uploads/{upload}",
                },
            )
        if h.command == "POST" and path in ("/v1/image_to_video", "/v1/text_to_image", "/v1/text_to_speech"):
            return self._create(h, path, record.get("body", {}))
        match = re.fullmatch(r"/v1/tasks/([\w-]+)", path)
        task = self.tasks.get(match.group(1)) if match else None
        if task is None:
            return _send(h, 404, {"error": "Task not found."})
        if h.command == "DELETE":
            if self.delete_status != 204:
                return _send(h, self.delete_status, {"error": "Internal error."}, {"x-should-retry": "false"})
            with self.lock:
                if task.status in ("SUCCEEDED", "FAILED", "CANCELLED"):
                    del self.tasks[task.id]  # deleting a finished task deletes it and its output
                else:  # cancelling refunds a task only while it has not started
                    task.billed = task.status == "RUNNING"
                    task.status, task.clock = "CANCELLED", []
            return _send(h, 204, None)
        with self.lock:
            self._tick(task)
            view = self._view(task)
        if self.on_poll:
            self.on_poll(task)
        return _send(h, 200, view)

    def _create(self, h: BaseHTTPRequestHandler, path: str, body: dict) -> None:
        fault = self.create_faults.pop(0) if self.create_faults else ""
        if fault.startswith("429"):
            headers = {"retry-after": fault.split(":")[1]} if ":" in fault else {}
            return _send(h, 429, {"error": "You have exceeded the daily task limit for this model."}, headers)
        if fault == "500":
            return _send(h, 500, {"error": "Internal error."}, {"x-should-retry": "false"})
        if fault == "400":
            return _issue(h, "promptText", "Too long for this model")
        kind = path.rsplit("/", 1)[1]
        check = {"image_to_video": _check_video, "text_to_image": _check_image, "text_to_speech": _check_speech}[kind]
        if problem := check(body):
            return _issue(h, *problem)
        for uri in _image_uris(body):
            if uri.startswith("runway://") and uri not in self.uploads:
                return _issue(h, "promptImage", "Unknown upload")
        credits = {"image_to_video": _video_credits, "text_to_image": lambda _: 5, "text_to_speech": _speech_credits}[
            kind
        ](body)
        outcomes = self.speech_outcomes if kind == "text_to_speech" else self.outcomes
        with self.lock:
            outcome = outcomes.pop(0) if outcomes else "SUCCEEDED"
        task = Task(
            id=str(uuid.uuid4()), kind=kind, body=body, credits=credits, outcome=outcome, clock=list(self.clock)
        )
        with self.lock:
            self.tasks[task.id] = task
        # The task exists and will be billed, even when the answer never arrives intact.
        return send_unless_lost(
            h, fault, {"id": task.id, "estimatedCost": {"credits": credits}}, {"error": "Bad gateway."}
        )

    def _tick(self, task: Task) -> None:
        if task.status in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return
        if task.clock:
            task.status = task.clock.pop(0)
        elif task.outcome != "HOLD":
            task.status = task.outcome.split(":")[0]

    def _view(self, task: Task) -> dict:
        view = {"id": task.id, "createdAt": "2026-01-01T00:00:00.000Z", "status": task.status}
        if task.status in ("PENDING", "THROTTLED", "RUNNING"):
            view["estimatedCost"] = {"credits": task.credits}
            if task.status == "RUNNING":
                view["progress"] = 0.4
            return view
        view["cost"] = {"credits": task.credits if task.status == "SUCCEEDED" or task.billed else 0}
        if task.status == "FAILED":
            view.update(failure="The generation failed.", failureCode=task.outcome.split(":", 1)[1])
        if task.status == "SUCCEEDED":
            if task.token in task.expired:
                task.token += 1  # a fresh signed URL, as re-fetching a task gives
            ext = {"image_to_video": "mp4", "text_to_image": "png", "text_to_speech": "mp3"}[task.kind]
            view["output"] = [f"{self.url}/outputs/{task.id}/{task.token}.{ext}"]
        return view

    def _download(self, h: BaseHTTPRequestHandler, path: str) -> None:
        _, _, task_id, name = path.split("/")
        task, token = self.tasks[task_id], int(name.split(".")[0])
        fault = self.download_faults.pop(0) if self.download_faults else ""
        if fault == "expire":
            task.expired.add(token)
        if token in task.expired:
            return _send(h, 403, {"error": "Request has expired"})
        if fault == "404":
            return _send(h, 404, {"error": "Not found"})
        if task.kind == "text_to_speech":
            return send_file(h, speech_mp3(task.body["promptText"]), "audio/mpeg", cut_short=fault == "short")
        width, height = (int(v) for v in task.body["ratio"].split(":"))
        data = (
            video_bytes(width, height, task.body.get("duration", 5))
            if task.kind == "image_to_video"
            else image_bytes(width, height, task.body.get("seed") or 0)
        )
        media_type = "video/mp4" if task.kind == "image_to_video" else "image/png"
        return send_file(h, data, media_type, cut_short=fault == "short")


def _video_credits(body: dict) -> int:
    _, _, silent, with_audio = VIDEO_MODELS[body["model"]]
    rate = with_audio if with_audio and body.get("audio", True) else silent  # veo makes sound unless told not to
    return rate * body.get("duration", 8 if with_audio else 5)


def _speech_credits(body: dict) -> int:
    return math.ceil(len(body["promptText"]) / 50)  # about 1 credit per 50 characters


def _check_speech(body: dict) -> tuple[str, str] | None:
    model = body.get("model")
    if model not in SPEECH_MODELS:
        return "model", "Invalid model"
    voice = body.get("voice") or {}
    if voice.get("type") != "runway-preset" or voice.get("presetId") not in PRESETS:
        return "voice", "Must be a runway-preset voice with a known presetId"
    if "languageCode" in body and model == "eleven_multilingual_v2":
        return "languageCode", f"Not a parameter of {model}"
    if unknown := set(body) - {"model", "promptText", "voice", "languageCode", "previousText", "nextText", "seed"}:
        return sorted(unknown)[0], "Unrecognized key"
    text = body.get("promptText") or ""
    if not text.strip() or model == "eleven_multilingual_v2" and _utf16(text) > 1000:
        return "promptText", "String must contain between 1 and 1000 character(s)"
    return None


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _image_uris(body: dict) -> list[str]:
    image = body.get("promptImage")
    uris = [image] if isinstance(image, str) else [i.get("uri", "") for i in image or []]
    return uris + [r.get("uri", "") for r in body.get("referenceImages", [])]


def _check_uri(uri: str) -> str | None:
    if uri.startswith("data:"):
        if not re.match(r"^data:image/(png|jpeg|webp);base64,", uri):
            return "Data URIs need an image media type and base64"
        if len(uri) > 5 * 1024 * 1024:
            return "Data URIs are limited to 5MB"
        try:
            base64.b64decode(uri.split(",", 1)[1], validate=True)
        except ValueError:
            return "Invalid base64"
        return None
    return None if uri.startswith(("https://", "runway://")) else "Must be an HTTPS URL, upload URI or data URI"


def _check_prompt(body: dict, required: bool) -> tuple[str, str] | None:
    text = body.get("promptText")
    if text is None:
        return ("promptText", "Required") if required else None
    if not text or _utf16(text) > 1000:
        return "promptText", "String must contain between 1 and 1000 character(s)"
    return None


def _check_seed(body: dict) -> tuple[str, str] | None:
    seed = body.get("seed")
    if seed is not None and not (isinstance(seed, int) and 0 <= seed <= 4294967295):
        return "seed", "Must be an integer from 0 to 4294967295"
    return None


def _check_video(body: dict) -> tuple[str, str] | None:
    if body.get("model") not in VIDEO_MODELS:
        return "model", "Invalid model"
    ratios, durations, _, with_audio = VIDEO_MODELS[body["model"]]
    if "audio" in body and (with_audio is None or not isinstance(body["audio"], bool)):
        return "audio", f"Not a parameter of {body['model']}" if with_audio is None else "Expected boolean"
    if body.get("ratio") not in ratios:
        return "ratio", f"Invalid enum value for {body['model']}"
    if "duration" in body and body["duration"] not in durations or body["model"] == "gen4.5" and "duration" not in body:
        return "duration", f"Invalid duration for {body['model']}"
    if not body.get("promptImage"):
        return "promptImage", "Required"
    for uri in _image_uris(body):
        if problem := _check_uri(uri):
            return "promptImage", problem
    return _check_prompt(body, required=body["model"] == "gen4.5") or _check_seed(body)


def _check_image(body: dict) -> tuple[str, str] | None:
    if body.get("model") != "gen4_image":
        return "model", "Invalid model"
    if body.get("ratio") not in IMAGE_RATIOS:
        return "ratio", "Invalid enum value"
    references = body.get("referenceImages", [])
    if len(references) > 3 or any(not TAG.match(r.get("tag", "ok_tag")) for r in references):
        return "referenceImages", "Up to 3 images, tags of 3-16 letters, digits or _"
    for uri in _image_uris(body):
        if problem := _check_uri(uri):
            return "referenceImages", problem
    return _check_prompt(body, required=True) or _check_seed(body)


def _issue(h: BaseHTTPRequestHandler, path: str, message: str) -> None:
    _send(h, 400, {"error": "Validation of body failed", "issues": [{"path": [path], "message": message}]})

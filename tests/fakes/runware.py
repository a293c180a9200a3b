"""A strict fake of Runware's REST API on 127.0.0.1, for driving our plain-httpx Runware client in tests.

Like the real one it takes a JSON array of tasks at one URL, checks the bearer key, each model's schema (unknown
fields are refused, durations and sizes per model, a first frame that is a 9:16 image), acknowledges async
`videoInference` tasks, answers `getResponse` polls from a task clock (processing, then success or error; a task it
does not have, or no longer has, is answered with taskFailedOrNotFound, taskCancelled or an expiry code), and serves
the MP4 at a temporary URL. Tests queue outcomes and faults (402, 429, 5xx before or after the task is made, a
dropped connection, a task that reaches the queue late, failing polls and downloads)."""

from __future__ import annotations

import base64
import binascii
import io
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from PIL import Image

from fakes.loopback import LoopbackFake, send_file, send_unless_lost
from fakes.loopback import send as _send
from fakes.runway import video_bytes

KEY = "rw_test_" + "5f3a9c" * 6
# model: (durations, 9:16 output size, whether width/height are required, dollars per second, prompt limit)
MODELS = {
    "klingai:6@1": ({5, 10}, (1080, 1920), False, 0.07, 2500),
    "runway:1@2": ({5, 8, 10}, (720, 1280), True, 0.12, 1000),
}
ALLOWED = {
    "taskType",
    "taskUUID",
    "model",
    "positivePrompt",
    "duration",
    "inputs",
    "deliveryMethod",
    "outputType",
    "outputFormat",
    "outputQuality",
    "includeCost",
    "width",
    "height",
    "seed",
    "numberResults",
}
CLOCK = ["processing", "processing"]


@dataclass
class Task:
    uuid: str
    body: dict
    outcome: str  # "success", "error:<code>:<message>", "gone:<code>" (dropped by Runware), or "hold" (processing
    # until finished by the test)
    clock: list[str] = field(default_factory=lambda: list(CLOCK))
    status: str = "processing"
    video_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def cost(self) -> float:
        return round(MODELS[self.body["model"]][3] * self.body["duration"], 4)


class FakeRunware(LoopbackFake):
    """The server's state; tests read `requests`/`seen()` and queue outcomes and faults."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[str, Task] = {}
        self.outcomes: list[str] = []  # for the next tasks; default success
        # "400", "402", "429", "500" (nothing made), "lost", "drop" (task made), "late:<s>" (502, made s seconds later)
        self.submit_faults: list[str] = []
        self.poll_faults: list[str] = []  # "503"; "failed" (the task's failure as an error); "refused" (the poll's)
        self.download_faults: list[str] = []  # "404", "short"
        self.on_submit: Callable[[dict], None] | None = None  # called with the task before it is made
        self.on_poll: Callable[[Task], None] | None = None

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    def seen(self, task_type: str) -> list[dict]:
        """Every task of this type the server was sent, in order."""
        with self.lock:
            return [t for r in self.requests for t in r.get("tasks", []) if t.get("taskType") == task_type]

    def finish(self, task_uuid: str, outcome: str = "success") -> None:
        with self.lock:
            self.tasks[task_uuid].outcome = outcome

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        raw = h.rfile.read(length) if length else b""
        record: dict = dict(method=h.command, path=h.path, headers=dict(h.headers))
        if h.command == "GET":
            with self.lock:
                self.requests.append(record)
            return self._download(h)
        try:
            record["tasks"] = tasks = json.loads(raw)
            assert isinstance(tasks, list) and tasks and all(isinstance(t, dict) for t in tasks)
        except (ValueError, AssertionError):
            return _errors(h, 400, "invalidRequest", "The body must be a JSON array of task objects.")
        with self.lock:
            self.requests.append(record)
        if h.path != "/v1":
            return _send(h, 404, {"message": "Not found"})
        if h.headers.get("authorization") != f"Bearer {KEY}":
            return _errors(
                h, 401, "invalidApiKey", "Invalid API key. Get one at https://my.runware.ai/signup", parameter="apiKey"
            )
        task = tasks[0]
        if task.get("taskType") == "getResponse":
            return self._poll(h, task)
        if task.get("taskType") == "videoInference":
            return self._submit(h, task)
        return _errors(h, 400, "unsupportedTaskType", "Unknown taskType.", parameter="taskType")

    def _submit(self, h: BaseHTTPRequestHandler, body: dict) -> None:
        fault = self.submit_faults.pop(0) if self.submit_faults else ""
        if fault == "402":
            return _errors(h, 402, "insufficientCredits", "Insufficient credits to process this request.")
        if fault == "429":
            return _errors(h, 429, "queueFull", "Too many tasks in the queue; retry later.")
        if fault == "500":
            return _errors(h, 500, "internalError", "Internal server error.")
        if fault == "400":
            return _errors(
                h,
                400,
                "invalidPositivePrompt",
                "The prompt was flagged by the content filter.",
                parameter="positivePrompt",
            )
        if problem := _check(body):
            return _errors(h, 400, *problem)
        if fault.startswith("late:"):  # the answer is lost and the task only reaches the queue some time later
            timer = threading.Timer(float(fault.split(":")[1]), self._make, (body,))
            timer.daemon = True
            timer.start()
            return _errors(h, 502, "badGateway", "Bad gateway")
        with self.lock:
            if body["taskUUID"] in self.tasks:
                return _errors(
                    h, 400, "duplicateTaskUUID", "A task with this taskUUID already exists.", parameter="taskUUID"
                )
        task = self._make(body)
        # The task exists and will be billed, even when the answer never arrives intact.
        ack = {"data": [{"taskType": "videoInference", "taskUUID": task.uuid}]}
        return send_unless_lost(h, fault, ack, {"message": "Bad gateway"})

    def _make(self, body: dict) -> Task:
        if self.on_submit:
            self.on_submit(body)
        task = Task(body["taskUUID"], body, self.outcomes.pop(0) if self.outcomes else "success")
        with self.lock:
            self.tasks[task.uuid] = task
        return task

    def _poll(self, h: BaseHTTPRequestHandler, body: dict) -> None:
        fault = self.poll_faults.pop(0) if self.poll_faults else ""
        if fault == "503":
            return _errors(h, 503, "serviceUnavailable", "Try again shortly.")
        if fault in ("failed", "refused"):
            task_type = "videoInference" if fault == "failed" else "getResponse"
            return _errors(
                h,
                400,
                "providerError" if fault == "failed" else "invalidRequest",
                "The provider could not generate the video." if fault == "failed" else "Malformed task.",
                task_type=task_type,
                task_uuid=body.get("taskUUID"),
            )
        with self.lock:
            task = self.tasks.get(body.get("taskUUID", ""))
            if task is not None and task.status == "processing":
                if task.clock:
                    task.clock.pop(0)
                elif task.outcome != "hold":
                    task.status = task.outcome.split(":")[0]
            if task is None or task.status == "gone":
                code = task.outcome.split(":")[1] if task else "taskFailedOrNotFound"
                return _errors(
                    h,
                    400,
                    code,
                    "The task failed or was not found."
                    if code == "taskFailedOrNotFound"
                    else f"The task is no longer available ({code}).",
                    task_type="getResponse",
                    task_uuid=body.get("taskUUID"),
                )
            item = self._item(task)
        if self.on_poll:
            self.on_poll(task)
        return _send(h, 200, {"data": [item]})

    def _item(self, task: Task) -> dict:
        item = {"taskType": "videoInference", "taskUUID": task.uuid, "status": task.status}
        if task.status == "success":
            item.update(videoUUID=task.video_uuid, videoURL=f"{self.root}/videos/{task.video_uuid}.mp4")
        if task.status == "error":
            _, code, message = task.outcome.split(":", 2)
            item["error"] = {"code": code, "message": message}
        if task.status != "processing" and task.body.get("includeCost"):
            item["cost"] = task.cost if task.status == "success" else 0
        return item

    def _download(self, h: BaseHTTPRequestHandler) -> None:
        name = h.path.rsplit("/", 1)[-1].removesuffix(".mp4")
        with self.lock:
            task = next((t for t in self.tasks.values() if t.video_uuid == name and t.status == "success"), None)
        fault = self.download_faults.pop(0) if self.download_faults else ""
        if task is None or fault == "404":
            return _send(h, 404, {"message": "Not found"})
        width, height = MODELS[task.body["model"]][1]
        return send_file(h, video_bytes(width, height, task.body["duration"]), "video/mp4", cut_short=fault == "short")


def _check(body: dict) -> tuple[str, str, str] | None:
    """The first way `body` breaks the model's schema, as (code, message, parameter)."""
    if unknown := sorted(set(body) - ALLOWED):
        return "unsupportedParameter", f"Unsupported parameter: {unknown[0]}", unknown[0]
    try:
        assert uuid.UUID(body.get("taskUUID", "")).version == 4
    except (ValueError, AssertionError, AttributeError):
        return "invalidTaskUUID", "taskUUID must be a UUID v4", "taskUUID"
    if body.get("model") not in MODELS:
        return "invalidModel", "Unknown model", "model"
    durations, size, needs_size, _, prompt_limit = MODELS[body["model"]]
    if body.get("duration") not in durations:
        return "invalidDuration", f"Duration must be one of {sorted(durations)}", "duration"
    if needs_size and (body.get("width"), body.get("height")) != size:
        return "invalidDimensions", f"width and height must be {size[0]}x{size[1]}", "width"
    if not needs_size and ("width" in body or "height" in body):
        return "unsupportedParameter", "width and height are not supported with frameImages", "width"
    prompt = body.get("positivePrompt")
    if not isinstance(prompt, str) or not 2 <= len(prompt) <= prompt_limit:
        return "invalidPositivePrompt", f"positivePrompt must be 2-{prompt_limit} characters", "positivePrompt"
    for name, value in (("deliveryMethod", "async"), ("outputFormat", "MP4"), ("outputType", "URL")):
        if body.get(name, value) != value:
            return f"invalid{name[0].upper()}{name[1:]}", f"{name} must be {value} for this model", name
    frames = (body.get("inputs") or {}).get("frameImages")
    if not isinstance(frames, list) or len(frames) != 1 or frames[0].get("frame") != "first":
        return "invalidFrameImages", "One frame image with frame 'first' is required", "inputs.frameImages"
    return _check_image(frames[0].get("image"))


def _check_image(image: object) -> tuple[str, str, str] | None:
    text = image if isinstance(image, str) else ""
    encoded = text.split(",", 1)[1] if text.startswith("data:image/") and ";base64," in text else text
    try:
        with Image.open(io.BytesIO(base64.b64decode(encoded, validate=True))) as img:
            width, height = img.size
    except (binascii.Error, ValueError, OSError):
        return "invalidFrameImage", "image must be a data URI or base64 of a PNG, JPEG or WEBP", "inputs.frameImages"
    if abs(width * 16 - height * 9) > 0.01 * height * 9:
        return "invalidFrameImage", "The first frame must be 9:16 for a 9:16 video", "inputs.frameImages"
    return None


def _errors(
    h: BaseHTTPRequestHandler,
    status: int,
    code: str,
    message: str,
    parameter: str | None = None,
    task_type: str | None = None,
    task_uuid: str | None = None,
) -> None:
    error = {"code": code, "message": message, "documentation": "https://runware.ai/docs"}
    for name, value in (("parameter", parameter), ("taskType", task_type), ("taskUUID", task_uuid)):
        if value:
            error[name] = value
    _send(h, status, {"errors": [error]})

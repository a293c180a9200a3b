"""A voice engine in a process of its own, spoken to in JSON lines over stdin and stdout.

Piper and eSpeak NG are GPL-3.0; this MIT project never imports them. Each engine module (`piper_engine`,
`espeak_engine`) runs as `python -m pipeline.providers.offline.<engine>` and is the only code that loads its engine. The
worker stays up for the whole run, so the voice loads once and every scene after the first is fast.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from pipeline.errors import ProviderError
from pipeline.models import Speech, WordTiming

Request = dict[str, Any]  # text, voice, speed, dest (a WAV path the engine writes)
Reply = dict[str, Any]  # words ([start, end] per whitespace word of text), voice, package, license; or error


class VoiceWorker:
    """One engine process; requests are answered one at a time, in order."""

    def __init__(self, engine: str, *args: str) -> None:
        self.engine, self.args = engine, args
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self.about: Reply = {}  # what the engine said when it started (package, licence, seconds to load)

    def speak(self, request: Request) -> Reply:
        """Send one request and wait for its reply; start (or restart) the process when needed."""
        with self._lock:
            process = self._start()
            try:
                process.stdin.write(json.dumps(request) + "\n")  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
                reply = self._read(process)
            except (BrokenPipeError, OSError):
                reply = None
            if reply is None:
                self._process = None
                raise ProviderError(
                    f"the {self.engine} voice process stopped unexpectedly; run again, or pick "
                    "another voice with --voice."
                )
        if "error" in reply:
            raise ProviderError(reply["error"])
        return reply

    def start(self) -> Reply:
        """Start the process now if it is not running; returns what the engine said of itself."""
        with self._lock:
            self._start()
            return self.about

    def close(self) -> None:
        """End the process: it exits when its stdin closes."""
        with self._lock:
            if self._process:
                self._process.stdin.close()  # type: ignore[union-attr]
                self._process.wait(timeout=10)
                self._process = None

    def _start(self) -> subprocess.Popen[str]:
        if self._process and self._process.poll() is None:
            return self._process
        module = f"pipeline.providers.offline.{self.engine}_engine"
        # Its own session: a terminal's Ctrl-C reaches the run, not the worker (even while it is still importing);
        # the run closes the worker's stdin as it stops, and the worker ends, as it does when the run is killed.
        process = subprocess.Popen(
            [sys.executable, "-m", module, *self.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )
        about = self._read(process)
        if about is None or "error" in about:
            process.kill()
            raise ProviderError((about or {}).get("error") or f"the {self.engine} voice could not start.")
        self._process, self.about = process, about
        return process

    @staticmethod
    def _read(process: subprocess.Popen[str]) -> Reply | None:
        line = process.stdout.readline()  # type: ignore[union-attr]
        return json.loads(line) if line else None


_WORKERS: dict[str, VoiceWorker] = {}
_WORKERS_LOCK = threading.Lock()


def voice_worker(engine: str, *args: str) -> VoiceWorker:
    """The process-wide worker of an engine, shared by every scene (and every narrator) of the run.

    `args` only start it: a narrator configured otherwise (another SHORTS_HOME for the patched voice) speaks
    through the running worker, whose voice is the same.
    """
    with _WORKERS_LOCK:
        if engine not in _WORKERS:
            _WORKERS[engine] = VoiceWorker(engine, *args)
        return _WORKERS[engine]


def speak_within(
    worker: VoiceWorker, text: str, voice: str | None, max_seconds: float, max_speed: float, dest: Path
) -> Speech:
    """Speak at the voice's own pace, faster (up to `max_speed`) when that overruns the scene's seconds."""
    speed = 1.0
    for _ in range(3):
        reply = worker.speak({"text": text, "voice": voice, "speed": speed, "dest": str(dest)})
        with wave.open(str(dest), "rb") as w:
            seconds = w.getnframes() / w.getframerate()
        if seconds <= max_seconds or speed >= max_speed:
            break
        speed = min(max_speed, speed * seconds / max_seconds * 1.02)
    words = [
        WordTiming(word=word, start=round(a, 3), end=round(b, 3))
        for word, (a, b) in zip(text.split(), reply["words"], strict=False)
    ]
    return Speech(
        words=words,
        voice=reply.get("voice") or worker.about.get("voice"),
        package=worker.about.get("package"),
        license=worker.about.get("license"),
    )


@atexit.register
def _close_workers() -> None:
    for worker in list(_WORKERS.values()):
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            worker.close()


def serve(load: Callable[[], tuple[Reply, Callable[[Request], Reply]]]) -> None:
    """The engine side: load the engine, say so, then answer each request line until stdin closes.

    `load` returns what to announce (package, licence) and the function that answers a request. An engine error is
    sent back as {"error": sentence}, so one bad scene does not end the worker.
    """
    # A Ctrl-C sent to the worker anyway is the run's to handle (it closes our stdin, and we end): the worker neither
    # dies mid-reply nor prints a traceback of its own into the person's terminal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = sys.stdout
    sys.stdout = sys.stderr  # an engine that prints must not corrupt the replies
    try:
        try:
            about, answer = load()
        except Exception as exc:  # noqa: BLE001  the parent turns this into one sentence
            _reply(out, {"error": str(exc)})
            return
        _reply(out, about)
        for line in sys.stdin:
            request = json.loads(line)
            try:
                reply = answer(request)
            except Exception as exc:  # noqa: BLE001
                reply = {"error": str(exc)}
            _reply(out, reply)
    except BrokenPipeError:  # the run was killed (SIGKILL) while we answered: nobody is left to tell
        os._exit(0)


def _reply(out: TextIO, reply: Reply) -> None:
    out.write(json.dumps(reply) + "\n")
    out.flush()

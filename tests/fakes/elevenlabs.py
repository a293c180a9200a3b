"""A fake ElevenLabs on 127.0.0.1, for the real `elevenlabs` SDK (ELEVENLABS_BASE_URL).

Its text-to-speech "with timestamps" speaks a tone burst per word on an uneven clock (words long and short, pauses
long and short, characters bunched at the start of each word), and answers with the times of every character, as
ElevenLabs does, billing `multiplier` credits a character (its `character-cost` header). Every request's JSON body
(text, model_id, seed, previous_text, next_text) is kept in `requests`. `spoken` remembers each word's true onset and
end, so a test can check captions follow that clock.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from http.server import BaseHTTPRequestHandler

import numpy as np

from fakes.loopback import LoopbackFake, send

KEY = "el-test-not-a-real-key"
RATE = 24_000
VOICES = [
    {
        "voice_id": "JBFqnCBsd6RMkjVDRZzb",
        "name": "George",
        "category": "premade",
        "labels": {"accent": "british", "gender": "male"},
        "verified_languages": [{"language": "en", "model_id": "eleven_multilingual_v2", "locale": "en-GB"}],
    },
    {
        "voice_id": "EXAVITQu4vr4xnSDxMaL",
        "name": "Sarah - Confident",
        "category": "premade",
        "labels": {"accent": "american"},
        "verified_languages": [
            {"language": "en", "model_id": "eleven_multilingual_v2", "locale": "en-US"},
            {"language": "fr", "model_id": "eleven_multilingual_v2", "locale": "fr-FR"},
        ],
    },
]
# The uneven clock: each word's length and the pause after it cycle through these (seconds).
WORD_SECONDS = (0.22, 0.61, 0.35, 0.9, 0.18, 0.47)
PAUSES = (0.05, 0.42, 0.12, 0.03, 0.7, 0.2)


class FakeElevenLabs(LoopbackFake):
    """Answers GET /v1/voices and POST /v1/text-to-speech/{voice}/with-timestamps; `faults` holds answers to give
    instead of speech, in order: an HTTP status (int) or "drop" (close the connection without a word)."""

    def __init__(self) -> None:
        super().__init__()
        self.faults: list[int | str] = []
        self.spoken: list[tuple[list[str], list[tuple[float, float]]]] = []
        self.request_id: str | None = None  # the id every answer carries; None: a new one each, as ElevenLabs does
        self.request_ids: list[str] = []  # the ids answered, in order
        self.multiplier = 1.0  # credits billed per character sent (a Voice Library voice can cost more), flash half
        self.delay = 0.0  # seconds each speech takes, so that requests sent at once are in flight together

    def posts(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST"]

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.rfile.read(int(h.headers.get("content-length") or 0)) or b"null")
        path, _, query = h.path.partition("?")
        with self.lock:
            self.requests.append({"method": h.command, "path": path, "query": query, "body": body})
            fault = self.faults.pop(0) if self.faults and h.command == "POST" else None
        if h.headers.get("xi-api-key") != KEY:
            return send(h, 401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}})
        if h.command == "GET" and path == "/v1/voices":
            return send(h, 200, {"voices": VOICES})
        found = re.fullmatch(r"/v1/text-to-speech/([^/]+)/with-timestamps", path)
        if h.command != "POST" or not found:
            return send(h, 404, {"detail": "Not Found"})
        if fault == "drop":
            h.close_connection = True
            return None
        if fault is not None:
            return send(
                h,
                int(fault),
                {"detail": {"status": "busy", "message": f"fault {fault}"}},
                {"retry-after": "0"} if fault == 429 else None,
            )
        if found.group(1) not in {v["voice_id"] for v in VOICES}:
            return send(
                h, 404, {"detail": {"status": "voice_not_found", "message": "A voice with that id was not found."}}
            )
        if query != "output_format=pcm_24000":
            return send(h, 422, {"detail": [{"msg": f"this fake speaks pcm_24000 only, not {query}"}]})
        text = body["text"]
        time.sleep(self.delay)
        pcm, alignment = self._speak(text)
        half = any(word in (body.get("model_id") or "") for word in ("flash", "turbo"))
        billed = math.ceil(len(text) * self.multiplier) // (2 if half else 1)
        return send(
            h,
            200,
            {"audio_base64": base64.b64encode(pcm).decode(), "alignment": alignment, "normalized_alignment": alignment},
            {"character-cost": str(billed), "request-id": self._next_id()},
        )

    def _next_id(self) -> str:
        with self.lock:
            self.request_ids.append(self.request_id or uuid.uuid4().hex)
            return self.request_ids[-1]

    def _speak(self, text: str) -> tuple[bytes, dict]:
        chars, starts, ends, samples, spans = [], [], [], [np.zeros(int(0.15 * RATE))], []
        t, n = 0.15, 0
        for piece in re.split(r"(\s+)", text):
            if not piece:
                continue
            if piece.isspace():
                pause = PAUSES[(n - 1) % len(PAUSES)]
                chars += list(piece)
                starts += [round(t, 3)] * len(piece)
                ends += [round(t + pause, 3)] * len(piece)
                samples.append(np.zeros(int(pause * RATE)))
                t += pause
                continue
            length = WORD_SECONDS[n % len(WORD_SECONDS)]
            # Characters bunch at the start of a word: the k-th of m begins at length * (k/m)^2.
            edges = [t + length * (k / len(piece)) ** 2 for k in range(len(piece) + 1)]
            chars += list(piece)
            starts += [round(e, 3) for e in edges[:-1]]
            ends += [round(e, 3) for e in edges[1:]]
            count = int(length * RATE)
            samples.append(0.5 * np.sin(2 * np.pi * (260 + 35 * n) * np.arange(count) / RATE))
            spans.append((round(t, 3), round(t + length, 3)))
            t += count / RATE
            n += 1
        samples.append(np.zeros(int(0.2 * RATE)))
        self.spoken.append((text.split(), spans))
        pcm = (np.concatenate(samples) * 32767).astype("<i2").tobytes()
        return pcm, {"characters": chars, "character_start_times_seconds": starts, "character_end_times_seconds": ends}

"""A fake of Microsoft Edge's read-aloud service on 127.0.0.1, speaking its WebSocket protocol to the real `edge-tts`.

The client sends `speech.config` and then `ssml` text frames; the service answers `turn.start`, binary `audio`
frames (a 2-byte header length, headers, MP3 bytes) interleaved with `audio.metadata` WordBoundary events (offsets
in 100 ns ticks), and `turn.end`. The fake's MP3 holds a tone burst per word at the times its events give, so a
test can check the word timings against the audio. GET /voices/list answers the voice list.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import subprocess
import threading

import imageio_ffmpeg
import numpy as np
from aiohttp import WSMsgType, web

RATE = 24_000
TICKS = 10_000_000
VOICES = [
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (en-US, EmmaMultilingualNeural)",
        "ShortName": "en-US-EmmaMultilingualNeural",
        "Gender": "Female",
        "Locale": "en-US",
        "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3",
        "FriendlyName": "Microsoft Emma Online (Natural)",
        "Status": "GA",
        "VoiceTag": {"ContentCategories": ["General"], "VoicePersonalities": ["Friendly"]},
    },
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (fr-FR, DeniseNeural)",
        "ShortName": "fr-FR-DeniseNeural",
        "Gender": "Female",
        "Locale": "fr-FR",
        "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3",
        "FriendlyName": "Microsoft Denise Online (Natural)",
        "Status": "GA",
    },
]
KNOWN = {v["Name"] for v in VOICES}


class FakeEdge:
    """Start with `with`; `ws_url` and `voices_url` are what SHORTS_EDGE_URL and SHORTS_EDGE_VOICES_URL take."""

    def __init__(self) -> None:
        self.spoken: list[tuple[str, list[str], list[tuple[float, float]]]] = []  # voice, words, their spans
        self.configs: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/consumer/speech/synthesize/readaloud/edge/v1?TrustedClientToken=fake"

    @property
    def voices_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/consumer/speech/synthesize/readaloud/voices/list?trustedclienttoken=fake"

    def __enter__(self) -> FakeEdge:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/consumer/speech/synthesize/readaloud/edge/v1", self._speech)
        app.router.add_get("/consumer/speech/synthesize/readaloud/voices/list", self._voices)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    async def _voices(self, request: web.Request) -> web.Response:
        return web.json_response(VOICES)

    async def _speech(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            head, _, body = message.data.partition("\r\n\r\n")
            if "Path:speech.config" in head:
                self.configs.append(body)
            elif "Path:ssml" in head:
                await self._answer(ws, body)
                break
        await ws.close()
        return ws

    async def _answer(self, ws: web.WebSocketResponse, ssml: str) -> None:
        voice = re.search(r"<voice name='([^']+)'>", ssml).group(1)
        text = html.unescape(re.sub(r"<[^>]+>", "", ssml))
        await ws.send_str("X-RequestId:1\r\nContent-Type:application/json; charset=utf-8\r\nPath:turn.start\r\n\r\n{}")
        if voice in KNOWN:  # Edge answers an unknown voice with no audio at all
            mp3, words, spans = _speak(text)
            self.spoken.append((voice, words, spans))
            header = b"X-RequestId:1\r\nContent-Type:audio/mpeg\r\nX-StreamId:1\r\nPath:audio\r\n"
            step = len(mp3) // 3 + 1
            for i, (word, (start, end)) in enumerate(zip(words, spans, strict=False)):
                event = {
                    "Metadata": [
                        {
                            "Type": "WordBoundary",
                            "Data": {
                                "Offset": round(start * TICKS),
                                "Duration": round((end - start) * TICKS),
                                "text": {
                                    "Text": word.strip(",.;:!?"),
                                    "Length": len(word),
                                    "BoundaryType": "WordBoundary",
                                },
                            },
                        }
                    ]
                }
                await ws.send_str(
                    "X-RequestId:1\r\nContent-Type:application/json; charset=utf-8\r\n"
                    f"Path:audio.metadata\r\n\r\n{json.dumps(event)}"
                )
                if i < 3:
                    await ws.send_bytes(len(header).to_bytes(2, "big") + header + mp3[i * step : (i + 1) * step])
        await ws.send_str("X-RequestId:1\r\nContent-Type:application/json; charset=utf-8\r\nPath:turn.end\r\n\r\n{}")


def _speak(text: str) -> tuple[bytes, list[str], list[tuple[float, float]]]:
    """MP3 (48 kbps, as Edge sends) with a tone burst per word; the words and their spans in seconds."""
    words, spans, samples, t = text.split(), [], [np.zeros(int(0.3 * RATE))], 0.3
    for i, word in enumerate(words):
        length, pause = 0.12 + 0.04 * len(word), (0.35 if word[-1] in ",.;!?" else 0.08)
        count = int(length * RATE)
        samples += [0.5 * np.sin(2 * np.pi * (300 + 30 * i) * np.arange(count) / RATE), np.zeros(int(pause * RATE))]
        spans.append((round(t, 3), round(t + count / RATE, 3)))
        t += count / RATE + int(pause * RATE) / RATE
    pcm = (np.concatenate(samples + [np.zeros(int(0.3 * RATE))]) * 32767).astype("<i2").tobytes()
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-v",
        "error",
        "-f",
        "s16le",
        "-ar",
        str(RATE),
        "-ac",
        "1",
        "-i",
        "-",
        "-codec:a",
        "libmp3lame",
        "-b:a",
        "48k",
        "-f",
        "mp3",
        "-",
    ]
    return subprocess.run(cmd, input=pcm, capture_output=True, check=True).stdout, words, spans

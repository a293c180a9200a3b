"""The eSpeak NG worker (GPL-3.0 engine, run as its own process): the library and voice data from the
`espeakng-loader` wheel through ctypes; its word events give each word's first sample. Run as
`python -m pipeline.providers.offline.espeak_engine`; see `voice_worker`."""

from __future__ import annotations

import ctypes
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.providers.offline.voice_worker import Reply, Request, serve
from pipeline.timing import write_wav

BASE_RATE = 150  # words per minute, the 2.5 words per second the scripts are paced for
SYNCHRONOUS, POS_CHARACTER, CHARS_UTF8, RATE = 0x02, 1, 1, 1  # espeak_AUDIO_OUTPUT, espeak_POSITION_TYPE, flags
WORD, END, TERMINATED = 1, 5, 0  # espeak_EVENT_TYPE


class Event(ctypes.Structure):
    """espeak_EVENT from speak_lib.h."""

    # fmt: off
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]
    # fmt: on


class Voice(ctypes.Structure):
    """espeak_VOICE from speak_lib.h: what SetVoiceByProperties matches on."""

    # fmt: off
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_char_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]
    # fmt: on


Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(Event))


def load() -> tuple[Reply, Any]:
    """Load libespeak-ng from the wheel and answer requests."""
    started = time.perf_counter()
    import espeakng_loader

    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    rate = lib.espeak_Initialize(SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
    if rate <= 0:
        raise RuntimeError("eSpeak NG from espeakng-loader could not start; reinstall espeakng-loader.")
    samples: list[np.ndarray] = []
    events: list[tuple[int, int, int]] = []  # type, text position (1-based characters), sample

    def collect(wav: Any, count: int, event: Any) -> int:
        if wav and count > 0:
            samples.append(np.frombuffer(ctypes.string_at(wav, count * 2), dtype=np.int16))
        i = 0
        while event[i].type != TERMINATED:
            events.append((event[i].type, event[i].text_position, event[i].sample))
            i += 1
        return 0

    # Held by `lib`, which `answer` holds: never collected while in use. (typeshed's CDLL declares no attributes of
    # its own, though a CDLL takes any.)
    lib.synth_callback = Callback(collect)  # type: ignore[attr-defined]
    lib.espeak_SetSynthCallback(lib.synth_callback)

    def answer(request: Request) -> Reply:
        text, voice = request["text"], request.get("voice") or "en-us"
        # A voice name ("en-us", "fr") or else a language ("en-gb" has no voice file of that name in 1.52)
        if (
            lib.espeak_SetVoiceByName(voice.encode()) != 0
            and lib.espeak_SetVoiceByProperties(ctypes.byref(Voice(languages=voice.encode()))) != 0
        ):
            raise RuntimeError(f"eSpeak NG has no voice {voice!r}; use a language code such as en-us, en-gb, fr or de.")
        lib.espeak_SetParameter(RATE, int(BASE_RATE * request.get("speed", 1.0)), 0)
        samples.clear()
        events.clear()
        encoded = text.encode()
        lib.espeak_Synth(encoded, len(encoded) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        audio = np.concatenate(samples) if samples else np.zeros(0, dtype=np.int16)
        if not audio.size:
            raise RuntimeError("eSpeak NG made no audio for this narration; check that it has words.")
        write_wav(Path(request["dest"]), audio / 32768.0, rate)
        return {"words": [[a / rate, b / rate] for a, b in word_samples(text, events, audio.size)], "voice": voice}

    about = {
        "voice": "en-us",
        "package": f"espeakng-loader {version('espeakng-loader')} (eSpeak NG 1.52)",
        "license": "GPL-3.0-or-later (engine and voices; the speech it makes is yours to use)",
        "load_seconds": round(time.perf_counter() - started, 3),
    }
    return about, answer


def word_samples(text: str, events: list[tuple[int, int, int]], total: int) -> list[tuple[int, int]]:
    """(first, end sample) per whitespace word of `text` from eSpeak's events.

    A word eSpeak splits ("5.50") has several events: the first counts. One it joins to the one before it
    ("of the") or skips has none: it starts where the next word does, or halfway if that leaves the gap empty.
    """
    owner, k = [], -1  # owner[c]: the word index of character c
    for c, ch in enumerate(text):
        if not ch.isspace() and (c == 0 or text[c - 1].isspace()):
            k += 1
        owner.append(k)
    count = k + 1
    starts: list[int | None] = [None] * count
    ends = []  # clause ends
    for kind, position, sample in events:
        if kind == WORD and 0 < position <= len(text) and starts[owner[position - 1]] is None:
            starts[owner[position - 1]] = sample
        elif kind == END:
            ends.append(sample)
    known = [s for s in starts if s is not None]
    filled: list[int] = []
    for i, start in enumerate(starts):
        if start is None:
            after = next((s for s in starts[i + 1 :] if s is not None), total)
            start = (filled[-1] + after) // 2 if filled else (known[0] if known else 0)
        filled.append(max(start, filled[-1]) if filled else start)
    spans = []
    for i, start in enumerate(filled):
        following = filled[i + 1] if i + 1 < count else total
        clause_end = next((e for e in ends if e > start), total)
        spans.append((start, max(start, min(following, clause_end))))
    return spans


if __name__ == "__main__":
    serve(load)

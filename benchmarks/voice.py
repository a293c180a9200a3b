"""Benchmark: the offline voices (Piper's Joe voice, eSpeak NG from espeakng-loader) on this machine.

    python benchmarks/voice.py [--repeat 3] [--json]

Each voice runs in its worker process, as in a run. We report the start (process, imports, loading the voice;
Piper's first start also patches a copy of the voice for timings, reported apart), the first call and the median
of later calls on the same 43-word narration, the real-time factor (seconds of compute per second of audio) and the
worker's peak RSS (VmHWM from /proc)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import wave
from pathlib import Path

from pipeline.providers.offline.voice_worker import VoiceWorker

TEXT = (
    "Octopuses can change colour in a blink, without seeing colour at all. Their skin holds thousands of "
    "tiny sacs of pigment, each ringed by muscles that stretch it open or squeeze it shut. Scientists think "
    "the skin itself may sense light, so the whole animal works a little like an eye."
)


def bench(engine: str, args: tuple[str, ...], repeat: int, workdir: Path) -> dict:
    worker = VoiceWorker(engine, *args)
    started = time.perf_counter()
    worker.start()
    start = time.perf_counter() - started
    calls, audio = [], 0.0
    for i in range(repeat + 1):
        dest = workdir / f"{engine}-{i}.wav"
        t = time.perf_counter()
        worker.speak({"text": TEXT, "dest": str(dest)})
        calls.append(time.perf_counter() - t)
        with wave.open(str(dest), "rb") as w:
            audio = w.getnframes() / w.getframerate()
    status = Path(f"/proc/{worker._process.pid}/status").read_text()  # type: ignore[union-attr]
    peak_mb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
    worker.close()
    later = statistics.median(calls[1:])
    return {
        "voice": engine,
        "words": len(TEXT.split()),
        "audio_seconds": round(audio, 2),
        "start_seconds": round(start, 2),
        "load_seconds": worker.about.get("load_seconds"),
        "first_call_seconds": round(calls[0], 3),
        "call_seconds": round(later, 3),
        "real_time_factor": round(later / audio, 3),
        "peak_rss_mb": round(peak_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cache = str(workdir / "voices")
        t = time.perf_counter()
        VoiceWorker("piper", cache).start()  # the one-off patch (and a warm file cache) before timing
        patch = time.perf_counter() - t
        results = [bench("piper", (cache,), args.repeat, workdir), bench("espeak", (), args.repeat, workdir)]
    report = {"cores": os.cpu_count(), "first_start_with_patch_seconds": round(patch, 2), "voices": results}
    if args.json:
        print(json.dumps(report))
        return
    print(
        f"{report['cores']} cores; Piper's first start, patching the voice: "
        f"{report['first_start_with_patch_seconds']} s"
    )
    for r in results:
        print(
            f"{r['voice']:>6}: start {r['start_seconds']} s (voice load {r['load_seconds']} s), first call "
            f"{r['first_call_seconds']} s, then {r['call_seconds']} s for {r['audio_seconds']} s of audio "
            f"(real-time factor {r['real_time_factor']}), peak RSS {r['peak_rss_mb']} MB"
        )


if __name__ == "__main__":
    main()

"""Benchmark: when each caption highlight appears against when its word is heard, from a finished MP4 alone.

    python benchmarks/caption_timing.py OUTPUT_FOLDER [...] [--json]

An output folder holds final.mp4 and captions.srt (whose text gives the words in order). The words are
force-aligned to the MP4's own audio with pocketsphinx (as tests/test_offline_voice.py does); the highlight's
changes are found in the MP4's frames (pixels of the highlight colour beside the caption's black outline). Both
clocks are the MP4's presentation times, so an audio stream that starts late (an encoder's priming left in) counts.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from scipy import ndimage

HIGHLIGHT = (255, 214, 10)  # CaptionStyle().highlight
RATE = 16000  # pocketsphinx's model
ROWS = (0.52, 0.72)  # CaptionStyle().centre_y, give or take a tenth of the height
SCALE = 360  # frames are read this wide: enough to see the letters, a quarter of the pixels to look at


def stream_start(mp4: Path, kind: str) -> float:
    """When the first video frame or audio sample of `mp4` is presented, in seconds (after any edit list)."""
    show = ["-vf", "showinfo", "-frames:v", "1"] if kind == "v" else ["-af", "ashowinfo", "-t", "0.05"]
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-i", str(mp4), "-map", f"0:{kind}:0", *show, "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    found = re.search(r"pts_time:\s*(-?[\d.]+)", result.stderr)
    if not found:
        raise RuntimeError(f"no {kind} stream in {mp4}")
    return float(found.group(1))


def srt_words(srt: str) -> list[str]:
    """The words of a SubRip file, in order."""
    blocks = [b.splitlines()[2:] for b in srt.strip().split("\n\n")]
    return [w for lines in blocks for line in lines for w in line.split()]


def word_onsets(mp4: Path, words: list[str]) -> list[float | None]:
    """Where pocketsphinx, aligning `words` to the MP4's audio, says each one starts; None for a word it cannot say
    (no letters, or none of the dictionary's words make it up)."""
    from pocketsphinx import Decoder

    pcm = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(mp4),
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            str(RATE),
            "-f",
            "s16le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    decoder = Decoder(samprate=RATE, loglevel="ERROR")
    said = [_sayable(decoder, w) for w in words]
    decoder.set_align_text(" ".join(w for w in said if w))
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    starts = iter([s.start_frame / 100 for s in decoder.seg() if not s.word.startswith(("<", "["))])
    offset = stream_start(mp4, "a")
    return [next(starts) + offset if w else None for w in said]


def _sayable(decoder, word: str) -> str | None:
    """`word` as pocketsphinx's dictionary knows it; a word it lacks gets the phones of dictionary words that spell
    it ("octopuses" = "octopus" + "es"), close enough to find where it starts."""
    plain = re.sub(r"[^a-z']", "", word.lower()).strip("'")
    if not plain:
        return None
    if decoder.lookup_word(plain):
        return plain
    best: list[list[str] | None] = [[]] + [None] * len(plain)  # fewest pieces spelling each prefix
    for end in range(1, len(plain) + 1):
        for start in range(end):
            piece = plain[start:end]
            if (
                best[start] is not None
                and (end - start > 1 or start == end - 1)
                and decoder.lookup_word(piece)
                and (best[end] is None or len(best[start]) + 1 < len(best[end]))
            ):
                best[end] = best[start] + [piece]
    if not best[-1]:
        return None
    decoder.add_word(plain, " ".join(decoder.lookup_word(p) for p in best[-1]), True)
    return plain


def highlight_changes(
    mp4: Path, highlight: tuple[int, int, int] = HIGHLIGHT, rows: tuple[float, float] = ROWS
) -> list[float]:
    """The presentation times of the frames where the highlighted word changes: it appears, or moves. Only the
    caption's `rows` (shares of the height) are looked at: a title card's yellow letters move with the picture."""
    width, height = _size(mp4)
    w = min(width, SCALE) // 2 * 2
    h = round(height * w / width) // 2 * 2
    fps, start = _fps(mp4), stream_start(mp4, "v")
    near = max(2, round(0.012 * w))  # a letter's stroke and its outline, at this width
    changes, before, n = [], None, 0
    with subprocess.Popen(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(mp4),
            "-map",
            "0:v:0",
            "-vf",
            f"scale={w}:{h}",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        stdout=subprocess.PIPE,
    ) as reader:
        while chunk := reader.stdout.read(w * h * 3):
            frame = np.frombuffer(chunk, np.uint8).reshape(h, w, 3)[round(rows[0] * h) : round(rows[1] * h)]
            frame = frame.astype(np.int16)
            lit = np.abs(frame - np.array(highlight, np.int16)).max(axis=2) < 60
            dark = frame.max(axis=2) < 60
            lit &= ndimage.maximum_filter(dark, size=2 * near + 1)  # the caption's, not a yellow in the picture
            box = _box(lit) if lit.sum() >= 4 else None
            if box and (before is None or max(abs(a - b) for a, b in zip(box, before, strict=False)) > 1):
                changes.append(start + n / fps)
            before, n = box, n + 1
    return changes


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    cols, rows = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
    return int(cols[0]), int(cols[-1]), int(rows[0]), int(rows[-1])


def _probe(mp4: Path) -> str:
    return subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-i", str(mp4)], capture_output=True, text=True
    ).stderr


def _size(mp4: Path) -> tuple[int, int]:
    found = re.search(r"Video: .*?(\d{2,5})x(\d{2,5})", _probe(mp4))
    return int(found.group(1)), int(found.group(2))


def _fps(mp4: Path) -> float:
    return float(re.search(r"([\d.]+) fps", _probe(mp4)).group(1))


def match(onsets: list[float | None], changes: list[float], worst: float = 0.5) -> list[float | None]:
    """Each word's highlight time: the changes paired with the words in order (a monotone alignment that pays
    `worst` for a word or change left unpaired), or None for a word without one."""
    timed = [(i, t) for i, t in enumerate(onsets) if t is not None]
    n, m = len(timed), len(changes)
    cost = np.full((n + 1, m + 1), np.inf)
    cost[0, :] = np.arange(m + 1) * worst
    cost[:, 0] = np.arange(n + 1) * worst
    for i in range(1, n + 1):
        t = timed[i - 1][1]
        for j in range(1, m + 1):
            cost[i, j] = min(
                cost[i - 1, j - 1] + min(abs(changes[j - 1] - t), worst), cost[i - 1, j] + worst, cost[i, j - 1] + worst
            )
    out: list[float | None] = [None] * len(onsets)
    i, j = n, m
    while i and j:
        t = timed[i - 1][1]
        if cost[i, j] == cost[i - 1, j - 1] + min(abs(changes[j - 1] - t), worst):
            if abs(changes[j - 1] - t) < worst:
                out[timed[i - 1][0]] = changes[j - 1]
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + worst:
            i -= 1
        else:
            j -= 1
    return out


def measure(mp4: Path, words: list[str]) -> dict:
    """Highlight time minus word onset over the words pocketsphinx could align: median (signed: positive is late)
    and median absolute in ms, share late, share within 0.1 s (a word whose highlight never appears counts as not)."""
    onsets = word_onsets(mp4, words)
    shown = match(onsets, highlight_changes(mp4))
    pairs = [(t, s) for t, s in zip(onsets, shown, strict=False) if t is not None]
    errors = [s - t for t, s in pairs if s is not None]
    if not errors:
        raise RuntimeError(f"no highlight in {mp4} matched a spoken word")
    return {
        "words": len(words),
        "aligned": len(pairs),
        "unmatched": len(pairs) - len(errors),
        "median_ms": round(1000 * statistics.median(errors), 1),
        "median_abs_ms": round(1000 * statistics.median(map(abs, errors)), 1),
        "late": round(sum(e > 0 for e in errors) / len(pairs), 3),
        "within_0.1s": round(sum(abs(e) <= 0.1 for e in errors) / len(pairs), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for folder in args.folders:
        words = srt_words((folder / "captions.srt").read_text(encoding="utf-8"))
        result = {"folder": str(folder), **measure(folder / "final.mp4", words)}
        print(
            json.dumps(result)
            if args.json
            else f"{folder}: {result['aligned']} words, highlight minus onset median {result['median_ms']} ms "
            f"(|median| {result['median_abs_ms']} ms), late on {result['late']:.1%}, within 0.1 s "
            f"{result['within_0.1s']:.1%}, {result['unmatched']} without a highlight"
        )


if __name__ == "__main__":
    main()

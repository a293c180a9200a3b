"""Benchmark: how watchable the README's keyless Short is, measured from the finished MP4s alone.

    python benchmarks/watchability.py [--seconds 30 60 120] [--full-hd] [--json] [--workdir DIR]
    python benchmarks/watchability.py --mp4 out/a/final.mp4[,out/a-quiet/final.mp4] ...   # measure, make nothing

It makes "How octopuses change colour" with `shorts make` (keyless, a fresh SHORTS_HOME in the work folder) at each
length, and measures each finished MP4 with ffmpeg and numpy. When `shorts make` has `--music`, each length is made
twice: as a user gets it (loudness, quiet share, picture) and with `--music none` (silences, dead air, forced
alignment), from the same cache, so only the render differs; without the flag both are the one MP4. With `--mp4`, a
second path after a comma is the same Short with music off. `captions.srt` beside an MP4 says what was said and
when each caption group is on screen; `manifest.json` beside it gives the length asked for.

How each figure is found (every function below can be swapped for another that returns the same thing):

- loudness: ffmpeg `ebur128=peak=true`, the summary's integrated loudness and true peak. Quiet share: the share of
  50 ms windows of the mono soundtrack whose RMS is below -45 dBFS.
- silences: ffmpeg `silencedetect=noise=-45dB:d=0.05` on the music-off MP4. "Between words" counts only silences
  after the first sound and before the last; dead air at a cut is the part of a silence that runs up to the cut;
  the tail is the video's end minus the end of the last aligned word.
- highlight timing: pocketsphinx aligns the SRT's words to the music-off soundtrack (a word missing from its
  dictionary gets a pronunciation from a dictionary stem and a suffix, "octopus" + "IH Z", or is left out). A
  highlight onset is the first frame where a word turns highlight yellow (255,214,10: high luma, low Cb, high Cr):
  a band of rows with enough yellow that was not next to last frame's yellow, whose surroundings (2-4 px out) are
  nearly all black, i.e. the caption outline. A title card's yellow disc or word has no black outline, and when the
  camera moves it, it only adds thin slivers. Onsets are paired with words in order by a monotone matching (an
  unmatched item costs 0.5 s), so one missed or extra onset does not shift the rest.
- caption boxes: white caption letters cannot be told from white letters of the picture on a dark ground, pixel by
  pixel, but the highlight can be: every word of a group turns yellow once. So a group's letters are the union of
  its words' onset patches (an onset belongs to the group the SRT shows at that frame); in the group's middle frame
  the bright pixels there are its letters, white or yellow, and the dark run outside the outermost letters (per row
  and column, median, at most 0.4 letter height) is the outline, counted in the box. Lines per group are the bands
  of rows its letters fill. Checked against the boxes the renderer draws (pipeline.render.captions.draw_caption) for
  the 30 s Short at 720x1280: every group found, every edge within 0.4 % of the frame, every line count right.
- shots: a cut is a frame whose mean absolute luma change (on frames shrunk to 90 blocks across, the caption band
  left out) is over 3 grey levels and 5 times the median change of the half second around it (a cut between two
  title cards changes 8-39 levels in these Shorts, a 1.15-1.5x punch-in on one card 15-27, anything else under 1.4; a
  cross-fade is not a cut). Picture change: the median of that change per frame. Without captions.srt no band is
  known, and a caption change can count as a cut.
  Freezes: ffmpeg `freezedetect=n=-60dB:d=0.4`.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from pocketsphinx import Decoder

TOPIC = "How octopuses change colour"
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
QUIET_DBFS, SILENCE_DB, MIN_SILENCE = -45.0, -45, 0.05
SHOT_LIMIT, FREEZE = 3.0, "freezedetect=n=-60dB:d=0.4"
GRID = 90  # picture change is measured on frames shrunk to 90 blocks across, so every frame size compares alike


# ---------------------------------------------------------------- making the Shorts


@dataclass
class ShortFiles:
    """One Short to measure: the MP4 a user gets, and the same Short with music off (or the same file)."""

    video: Path
    quiet: Path
    requested: float | None = None


def has_music_flag() -> bool:
    """Whether this checkout's `shorts make` takes `--music` (being added alongside this benchmark)."""
    out = subprocess.run([_shorts(), "make", "--help"], capture_output=True, text=True).stdout
    return "--music" in out


def make_shorts(lengths: list[int], full_hd: bool, root: Path) -> list[ShortFiles]:
    """Make the README's Short at each length through the real CLI, keyless and with default settings (no key or
    SHORTS_ setting from the environment, and run in `root`, so no .env is read), in a SHORTS_HOME under `root`."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SHORTS_") and not k.endswith(("_API_KEY", "_API_SECRET", "_TOKEN"))
    }
    env.update(SHORTS_HOME=str(root / "home"), SHORTS_OUTPUT_DIR=str(root / "out"))
    env.setdefault("SHORTS_PREFECT_STARTUP_TIMEOUT", "900")  # a new server's database, on a busy machine
    if full_hd:
        env.update(SHORTS_WIDTH="1080", SHORTS_HEIGHT="1920")
    music = has_music_flag()
    made = []
    try:
        for seconds in lengths:
            video = _make(env, root, f"s{seconds}", seconds, [])
            quiet = _make(env, root, f"s{seconds}-quiet", seconds, ["--music", "none"]) if music else video
            made.append(ShortFiles(video=video, quiet=quiet, requested=float(seconds)))
    finally:
        subprocess.run([_shorts(), "server", "stop"], env=env, cwd=root, capture_output=True)
    return made


def _make(env: dict[str, str], root: Path, out: str, seconds: int, extra: list[str]) -> Path:
    cmd = [_shorts(), "make", TOPIC, "--seconds", str(seconds), "--out", str(root / out), "--json", *extra]
    result = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"shorts make failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return Path(json.loads(result.stdout)["video"])


def _shorts() -> str:
    return str(Path(sys.executable).with_name("shorts"))


# ---------------------------------------------------------------- sound


def loudness(video: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) from ffmpeg's ebur128 summary."""
    err = _ffmpeg_log(video, ["-vn", "-af", "ebur128=peak=true"])
    summary = err[err.rfind("Summary:") :]
    lufs = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return lufs, peak


def soundtrack(video: Path, rate: int = 16000) -> np.ndarray:
    """The soundtrack as mono float samples in [-1, 1] at `rate`."""
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-i", str(video), "-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, "<i2") / 32768.0


def quiet_share(samples: np.ndarray, rate: int = 16000) -> float:
    """Share of 50 ms windows whose RMS is below QUIET_DBFS."""
    n = rate // 20
    windows = samples[: len(samples) // n * n].reshape(-1, n)
    rms = np.sqrt(np.mean(windows**2, axis=1))
    return float(np.mean(rms < 10 ** (QUIET_DBFS / 20)))


def silences(video: Path) -> list[tuple[float, float]]:
    """Silent stretches (start, end) as ffmpeg's silencedetect finds them; one running to the end ends there."""
    err = _ffmpeg_log(video, ["-vn", "-af", f"silencedetect=noise={SILENCE_DB}dB:d={MIN_SILENCE}"])
    starts = [float(x) for x in re.findall(r"silence_start: (-?[\d.]+)", err)]
    ends = [float(x) for x in re.findall(r"silence_end: (-?[\d.]+)", err)]
    ends += [_duration(err)] * (len(starts) - len(ends))
    return list(zip(starts, ends, strict=False))


def _duration(log: str) -> float:
    h, m, s = re.findall(r"time=(\d+):(\d+):([\d.]+)", log)[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def _ffmpeg_log(video: Path, args: list[str]) -> str:
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-stats", "-i", str(video), *args, "-f", "null", "-"]
    return subprocess.run(cmd, capture_output=True, text=True).stderr


# ---------------------------------------------------------------- what was said, and when


@dataclass
class Group:
    """A caption group as the SRT gives it."""

    start: float
    end: float
    words: list[str]


def read_srt(path: Path) -> list[Group]:
    """The caption groups of a SubRip file, in order."""
    groups = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        lines = block.strip().splitlines()
        a, b = (_srt_time(t) for t in lines[1].split(" --> "))
        groups.append(Group(a, b, " ".join(lines[2:]).split()))
    return groups


def _srt_time(stamp: str) -> float:
    h, m, s = stamp.strip().replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def word_onsets(samples: np.ndarray, words: list[str]) -> list[tuple[float, float] | None]:
    """Per word, (start, end) in seconds from pocketsphinx's forced alignment at 16 kHz; None for a word it cannot
    say (not in its dictionary, and no stem of it is)."""
    decoder = Decoder(samprate=16000, loglevel="ERROR")
    plain = [re.sub(r"[^a-z0-9']", "", w.lower()) for w in words]
    for word in {w for w in plain if w and decoder.lookup_word(w) is None}:
        _add_word(decoder, word)
    spoken = [w for w in plain if w and decoder.lookup_word(w) is not None]
    decoder.set_align_text(" ".join(spoken))
    decoder.start_utt()
    decoder.process_raw((samples * 32767).astype("<i2").tobytes(), full_utt=True)
    decoder.end_utt()
    # No alignment at all (speech its English model cannot follow, such as French): no word is timed.
    segs = iter(
        (s.start_frame / 100, (s.end_frame + 1) / 100) for s in decoder.seg() or [] if not s.word.startswith(("<", "["))
    )
    known = {w for w in set(plain) if w and decoder.lookup_word(w) is not None}
    return [next(segs, None) if w in known else None for w in plain]


def _add_word(decoder: Decoder, word: str) -> None:
    """A pronunciation for a word the dictionary lacks, from a dictionary stem and a suffix, if it has one."""
    suffixes = {"es": "IH Z", "s": "Z", "'s": "Z", "ed": "D", "ing": "IH NG", "ly": "L IY", "er": "ER"}
    for suffix, phones in suffixes.items():
        stem = word.removesuffix(suffix)
        if stem != word and (base := decoder.lookup_word(stem)):
            decoder.add_word(word, f"{base} {phones}", True)
            return


# ---------------------------------------------------------------- pictures


@dataclass
class FrameScan:
    """What one pass over the frames found."""

    fps: float
    frames: int
    onsets: list[tuple[int, int, int]] = field(default_factory=list)  # (frame, top row, bottom row) of new yellow
    boxes: list[dict] = field(default_factory=list)  # per caption group seen: left, right, top, bottom (shares), lines
    change: list[float] = field(default_factory=list)  # per frame, mean |dY| on the grid, caption band left out


def video_info(video: Path) -> tuple[int, int, float]:
    err = subprocess.run([FFMPEG, "-hide_banner", "-i", str(video)], capture_output=True, text=True).stderr
    w, h = re.search(r"Video:.*?(\d{2,5})x(\d{2,5})", err).groups()
    fps = float(re.search(r"([\d.]+) fps", err).group(1))
    return int(w), int(h), fps


def scan_frames(video: Path, groups: list[Group]) -> FrameScan:
    """Decode the video once (I420) and collect highlight onsets, caption boxes and per-frame picture change."""
    width, height, fps = video_info(video)
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-i", str(video), "-an", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]
    size, area = width * height * 3 // 2, width * height
    scan = FrameScan(fps=fps, frames=0)
    starts = [round(g.start * fps) for g in groups]
    middles = {round((g.start + g.end) / 2 * fps): i for i, g in enumerate(groups)}  # its words are all shown
    patches: dict[int, list[tuple[slice, slice, np.ndarray]]] = {}
    middle: dict[int, np.ndarray] = {}
    prev_yellow = prev_small = None
    small_diffs: list[np.ndarray] = []
    block = max(1, width // GRID)
    min_new = max(20, int(0.0003 * area / 4))
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as proc:
        n = -1
        while len(data := proc.stdout.read(size)) == size:
            n += 1
            frame = np.frombuffer(data, np.uint8)
            y = frame[:area].reshape(height, width)
            u = frame[area : area * 5 // 4].reshape(height // 2, width // 2)
            v = frame[area * 5 // 4 :].reshape(height // 2, width // 2)
            half = y[::2, ::2]
            yellow = (u < 80) & (v > 140) & (v < 190) & (half > 120)
            if prev_yellow is not None and (patch := _new_word(yellow, prev_yellow, half, min_new)):
                scan.onsets.append((n, patch[0].start * 2, patch[0].stop * 2))
                patches.setdefault(bisect.bisect_right(starts, n + 1) - 1, []).append(patch)
            prev_yellow = yellow
            if n in middles:
                middle[middles[n]] = y.copy()
            for g in [g for g in middle if g + 1 >= len(starts) or n >= starts[g + 1] + 4]:
                if box := _caption_box(patches.pop(g, []), middle.pop(g), width, height):
                    scan.boxes.append(box)
            small = (
                y[: height // block * block, : width // block * block]
                .reshape(height // block, block, width // block, block)
                .mean(axis=(1, 3), dtype=np.float32)
            )
            if prev_small is not None:
                small_diffs.append(np.abs(small - prev_small).mean(axis=1))  # per grid row
            prev_small = small
        scan.frames = n + 1
    for g in list(middle):
        if box := _caption_box(patches.pop(g, []), middle.pop(g), width, height):
            scan.boxes.append(box)
    # The caption band is left out of the picture's change, so captions coming and going are not motion or cuts.
    keep = np.ones(height // block, bool)
    if scan.boxes:
        top, bottom = min(b["top"] for b in scan.boxes), max(b["bottom"] for b in scan.boxes)
        keep[int(top * height / block) : int(bottom * height / block) + 1] = False
    scan.change = [float(d[keep].mean()) for d in small_diffs]
    return scan


def _new_word(
    yellow: np.ndarray, before: np.ndarray, luma: np.ndarray, min_new: int
) -> tuple[slice, slice, np.ndarray] | None:
    """Where a caption word just turned yellow (half-size rows, columns and its yellow there), or None. The patch
    must be new (not next to last frame's yellow), a band of rows of its own (a title card's yellow disc or word
    drifting with the camera leaves thin new slivers elsewhere), and outlined: 2-4 px around it nearly all black,
    which a card's accent word or disc is not."""
    new = yellow & ~_dilate(before, 1)
    if new.sum() < min_new:
        return None
    for top, bottom in sorted(_bands(np.flatnonzero(new.any(axis=1))), key=lambda b: -new[b[0] : b[1] + 1].sum()):
        band = new[top : bottom + 1]
        if band.sum() < min_new:
            break
        cols = np.flatnonzero(band.any(axis=0))
        pad = bottom - top + 3  # about a letter: the whole word, where last frame's yellow overlapped part of it
        r = slice(max(0, top - 3), bottom + 4)
        c = slice(max(0, cols[0] - pad), cols[-1] + pad + 1)
        lit = yellow[r, c]
        ring = _dilate(lit, 2) & ~_dilate(lit, 1)
        if ring.any() and np.mean(luma[r, c][ring] < 40) >= 0.8:
            return r, c, lit
    return None


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for _ in range(r):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def _caption_box(patches: list[tuple[slice, slice, np.ndarray]], luma: np.ndarray, width: int, height: int) -> dict:
    """A group's extremes (outline included, shares of the frame) and line count, from the yellow patches of its
    words and its middle frame's luma; {} when none of its words was seen."""
    union = np.zeros((height // 2, width // 2), bool)
    for r, c, lit in patches:
        union[r, c] |= lit
    region = np.repeat(np.repeat(_dilate(union, 1), 2, axis=0), 2, axis=1)
    region = np.pad(region, ((0, height - region.shape[0]), (0, width - region.shape[1])))
    letters = region & (luma > 140)
    if letters.sum() < 20:
        return {}
    rows, cols = np.flatnonzero(letters.any(axis=1)), np.flatnonzero(letters.any(axis=0))
    bands = _bands(rows)
    cap = max(2, int(0.4 * max(b - a + 1 for a, b in bands)))
    dark = luma < 50
    runs = []
    for y in rows:
        xs = np.flatnonzero(letters[y])
        runs += [_run(dark[y, xs[0] - 1 :: -1], cap), _run(dark[y, xs[-1] + 1 :], cap)]
    for x in cols[:: max(1, len(cols) // 200)]:
        ys = np.flatnonzero(letters[:, x])
        runs += [_run(dark[ys[0] - 1 :: -1, x], cap), _run(dark[ys[-1] + 1 :, x], cap)]
    stroke = statistics.median(runs)
    left, right, top, bottom = cols[0] - stroke, cols[-1] + 1 + stroke, rows[0] - stroke, rows[-1] + 1 + stroke
    return {
        "left": float(left / width),
        "right": float(right / width),
        "top": float(top / height),
        "bottom": float(bottom / height),
        "lines": len(bands),
        "height_px": int(bottom - top),
    }


def _bands(rows: np.ndarray) -> list[tuple[int, int]]:
    """Runs of filled rows; a gap shorter than 30% of the taller neighbour (an accent, a comma) joins them."""
    runs: list[list[int]] = []
    for r in rows:
        if runs and r == runs[-1][1] + 1:
            runs[-1][1] = r
        else:
            runs.append([r, r])
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] - 1 < 0.3 * max(b - a + 1, merged[-1][1] - merged[-1][0] + 1):
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _run(line: np.ndarray, cap: int) -> int:
    """How far the outline runs along `line` (dark pixels, after at most 2 blended edge pixels), at most `cap`."""
    head = line[:cap]
    edge = next((i for i, dark in enumerate(head[:3]) if dark), None)
    if edge is None:
        return 0
    rest = head[edge:]
    return edge + (int(np.argmin(rest)) if not rest.all() else len(rest))


def freezes(video: Path) -> list[float]:
    """Durations of the freezes ffmpeg's freezedetect finds (frozen to the end counts to the end)."""
    err = _ffmpeg_log(video, ["-an", "-vf", FREEZE])
    starts = [float(x) for x in re.findall(r"freeze_start: ([\d.]+)", err)]
    durations = [float(x) for x in re.findall(r"freeze_duration: ([\d.]+)", err)]
    return durations + [_duration(err) - s for s in starts[len(durations) :]]


def cuts(scan: FrameScan) -> list[float]:
    """Times of hard cuts: a change spike over 3 grey levels and 5 times the median of the half second around."""
    d = np.array(scan.change)
    half = max(1, round(scan.fps / 4))
    found = []
    for i, x in enumerate(d):
        around = np.concatenate([d[max(0, i - half) : i], d[i + 1 : i + 1 + half]])
        if x > 3.0 and x > 5 * (np.median(around) if len(around) else 0):
            found.append((i + 1) / scan.fps)  # d[i] is the change into frame i + 1
    return found


# ---------------------------------------------------------------- pairing highlights with words


def pair_in_order(shown: list[float], spoken: list[float], skip: float = 0.5) -> list[tuple[int, int]]:
    """Monotone matching of highlight onsets to word onsets, least total |difference|, `skip` per unmatched item."""
    n, m = len(shown), len(spoken)
    cost = np.full((n + 1, m + 1), np.inf)
    cost[0, :] = np.arange(m + 1) * skip
    cost[:, 0] = np.arange(n + 1) * skip
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(
                cost[i - 1, j - 1] + abs(shown[i - 1] - spoken[j - 1]), cost[i - 1, j] + skip, cost[i, j - 1] + skip
            )
    pairs, i, j = [], n, m
    while i and j:
        if np.isclose(cost[i, j], cost[i - 1, j - 1] + abs(shown[i - 1] - spoken[j - 1])):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif np.isclose(cost[i, j], cost[i - 1, j] + skip):
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


# ---------------------------------------------------------------- one Short


def measure(short: ShortFiles) -> dict:
    """Every figure for one Short, from its MP4s (and the SRT beside them)."""
    lufs, peak = loudness(short.video)
    samples = soundtrack(short.video)
    quiet_samples = samples if short.quiet == short.video else soundtrack(short.quiet)
    srt_path = short.quiet.with_name("captions.srt")
    groups = read_srt(srt_path) if srt_path.is_file() else []
    scan = scan_frames(short.quiet, groups)
    duration = scan.frames / scan.fps
    quiet = silences(short.quiet)
    words = [w for g in groups for w in g.words]
    aligned = word_onsets(quiet_samples, words) if words else []
    spans = [s for s in aligned if s]
    first_sound = spans[0][0] if spans else 0.0
    last_sound = spans[-1][1] if spans else duration
    inner = [e - s for s, e in quiet if s > first_sound + 0.01 and e < last_sound - 0.01]
    cut_times = cuts(scan)
    dead = [c - s for c in cut_times for s, e in quiet if s < c <= e + 1 / scan.fps]
    shots = np.diff([0.0, *cut_times, duration])
    froze = freezes(short.video)
    onsets = [n / scan.fps for n, _, _ in scan.onsets]
    pairs = pair_in_order(onsets, [s[0] for s in spans])
    errors = [onsets[i] - spans[j][0] for i, j in pairs]
    boxes = scan.boxes
    manifest = short.video.with_name("manifest.json")
    requested = short.requested or (
        json.loads(manifest.read_text())["request"]["seconds"] if manifest.is_file() else None
    )
    width, height, _ = video_info(short.video)
    return {
        "video": str(short.video),
        "music_off_video": str(short.quiet),
        "format": f"{width}x{height}@{scan.fps:g}",
        "requested_seconds": requested,
        "seconds": round(duration, 2),
        "length_vs_request": round(duration / requested, 3) if requested else None,
        "mb_per_second": round(short.video.stat().st_size / 2**20 / duration, 3),
        "lufs": lufs,
        "true_peak_dbtp": peak,
        "quiet_share": round(quiet_share(samples), 3),
        "longest_silence": round(max((e - s for s, e in quiet), default=0.0), 2),
        "longest_silence_between_words": round(max(inner, default=0.0), 2),
        "dead_air_at_cuts_max": round(max(dead, default=0.0), 2),
        "dead_air_at_cuts_total": round(sum(dead), 2),
        "dead_air_at_cuts_share": round(sum(dead) / duration, 3),
        "tail_after_last_word": round(duration - last_sound, 2) if spans else None,
        "words": len(words),
        "words_aligned": len(spans),
        "highlights_seen": len(onsets),
        "highlights_paired": len(pairs),
        "highlight_median_abs_ms": round(1000 * statistics.median(abs(e) for e in errors)) if errors else None,
        "highlight_median_signed_ms": round(1000 * statistics.median(errors)) if errors else None,
        "highlight_within_100ms": round(np.mean([abs(e) <= 0.1 for e in errors]), 3) if errors else None,
        "caption_groups": len(groups),
        "caption_groups_seen": len(boxes),
        "caption_left": _extreme(boxes, "left", min),
        "caption_right": _extreme(boxes, "right", max),
        "caption_top": _extreme(boxes, "top", min),
        "caption_bottom": _extreme(boxes, "bottom", max),
        "caption_groups_right_of_85": round(np.mean([b["right"] > 0.85 for b in boxes]), 3) if boxes else None,
        "caption_lines": {str(k): sum(b["lines"] == k for b in boxes) for k in sorted({b["lines"] for b in boxes})},
        "caption_height_px": [
            min((b["height_px"] for b in boxes), default=0),
            max((b["height_px"] for b in boxes), default=0),
        ],
        "cuts": len(cut_times),
        "longest_shot": round(float(shots.max()), 2),
        "shots_over_3s": int(np.sum(shots > SHOT_LIMIT)),
        "median_change_per_frame": round(statistics.median(scan.change), 3) if scan.change else None,
        "freezes": len(froze),
        "longest_freeze": round(max(froze, default=0.0), 2),
    }


def _extreme(boxes: list[dict], key: str, pick) -> float | None:
    return round(pick(b[key] for b in boxes), 3) if boxes else None


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, nargs="+", default=[30, 60, 120], help="lengths to make")
    parser.add_argument("--full-hd", action="store_true", help="make them at 1080x1920 (SHORTS_WIDTH/HEIGHT)")
    parser.add_argument("--mp4", nargs="+", metavar="PATH[,MUSIC_OFF_PATH]", help="measure these; make nothing")
    parser.add_argument("--workdir", type=Path, help="make the Shorts here (kept); default a temporary folder")
    parser.add_argument("--json", action="store_true", help="print one JSON list")
    args = parser.parse_args()
    if args.mp4:
        shorts = [ShortFiles(Path(p.split(",")[0]), Path(p.split(",")[-1])) for p in args.mp4]
        if missing := [str(s.video) for s in shorts if not s.video.is_file() or not s.quiet.is_file()]:
            raise SystemExit(f"No such video: {missing[0]}")
    else:
        root = args.workdir or Path(tempfile.mkdtemp(prefix="shorts-watch-"))
        shorts = make_shorts(args.seconds, args.full_hd, root)
    results = [measure(s) for s in shorts]
    print(json.dumps(results, indent=1) if args.json else "\n\n".join(_table(r) for r in results))


def _table(r: dict) -> str:
    asked = f" (asked {r['requested_seconds']:g} s, {r['length_vs_request']:.0%})" if r["requested_seconds"] else ""
    lines = ", ".join(f"{k} line{'s' * (k != '1')}: {n}" for k, n in r["caption_lines"].items())
    rows = [
        ("length", f"{r['seconds']:g} s{asked}, {r['format']}, {r['mb_per_second']:.2f} MB/s"),
        (
            "loudness",
            f"{r['lufs']:g} LUFS, true peak {r['true_peak_dbtp']:g} dBTP, "
            f"{r['quiet_share']:.0%} below {QUIET_DBFS:g} dBFS",
        ),
        (
            "silence (music off)",
            f"longest {r['longest_silence']:g} s, between words {r['longest_silence_between_words']:g} s",
        ),
        (
            "dead air at cuts",
            f"max {r['dead_air_at_cuts_max']:g} s, total {r['dead_air_at_cuts_total']:g} s "
            f"({r['dead_air_at_cuts_share']:.0%} of the runtime)",
        ),
        ("last word to end", f"{r['tail_after_last_word']} s" if r["words_aligned"] else "unknown (no words aligned)"),
        (
            "captions",
            f"{r['caption_groups_seen']}/{r['caption_groups']} groups seen; x {r['caption_left']}-"
            f"{r['caption_right']}, y {r['caption_top']}-{r['caption_bottom']} of the frame; "
            f"{r['caption_groups_right_of_85']:.0%} reach past 85% of the width; {lines}; "
            f"{r['caption_height_px'][0]}-{r['caption_height_px'][1]} px tall"
            if r["caption_groups_seen"]
            else "none seen",
        ),
        (
            "highlight vs speech",
            f"median |d| {r['highlight_median_abs_ms']} ms "
            f"(signed {r['highlight_median_signed_ms']} ms), {r['highlight_within_100ms']:.1%} "
            f"within 0.1 s; {r['highlights_paired']} paired of {r['words_aligned']} aligned words, "
            f"{r['highlights_seen']} onsets seen"
            if r["highlights_paired"]
            else "no highlight paired with a word",
        ),
        (
            "picture",
            f"{r['cuts']} cut{'s' * (r['cuts'] != 1)}, longest shot {r['longest_shot']:g} s, "
            f"{r['shots_over_3s']} shots over "
            f"{SHOT_LIMIT:g} s, median change {r['median_change_per_frame']} grey levels a frame",
        ),
        ("freezes", f"{r['freezes']} of 0.4 s or more, longest {r['longest_freeze']:g} s"),
    ]
    return f"{r['video']}\n" + "\n".join(f"  {k:<20} {v}" for k, v in rows)


if __name__ == "__main__":
    main()

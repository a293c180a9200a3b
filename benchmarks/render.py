"""Benchmark: our render (pipeline.render.short.render_short) against one plain ffmpeg command doing the same work.

    python benchmarks/render.py [--size 30|60|180] [--format 720x1280|1080x1920] [--repeat 3] [--json] [--workdir DIR]

The headline is the CPU ratio, the median of the paired runs (3 by default).

Both sides get the same clips, narration and captions, and the same codec, preset, CRF and threads.
Each runs in its own process tree; we report its wall time, its CPU time (user + system, children
included) and its peak RSS (summed over the tree, sampled from /proc every 20 ms, and never below the
largest single process as getrusage reports it). A ratio is ours over ffmpeg's, the median over runs
made back to back. Other load on the machine swings the wall times; the CPU ratio holds steadier."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from encode import encode_frames, still_frames

from pipeline.models import ClipAsset, Narration, Scene, Script, ShortRequest, VideoFormat
from pipeline.narration import narrate
from pipeline.providers.offline.title_card import draw_title_card, plan_title_card
from pipeline.providers.offline.voice import OfflineNarrator
from pipeline.render.captions import CaptionStyle, cues
from pipeline.render.short import RenderOptions, caption_groups, render_short, scene_durations
from pipeline.settings import PROJECT_ROOT
from pipeline.state.store import AssetStore
from pipeline.timing import time_words

FORMATS = {
    "720x1280": VideoFormat(width=720, height=1280, fps=24),
    "1080x1920": VideoFormat(width=1080, height=1920, fps=24),
}
CLIP_SECONDS = 5.0
FONTS = PROJECT_ROOT / "assets" / "fonts"
# 16 or so short words per 5 s scene give about 40 caption groups per 30 s, as in a real Short.
LINES = [
    "Octopus skin hides tiny sacs of red, brown and gold that open or shut in a blink.",
    "Each sac is ringed by muscles, and the brain can squeeze them all at will, one by one.",
    "Below them, mirror cells bounce back the blue of the sea, so the skin glows and shifts.",
    "A shark swims past and sees only rock, weed and sand, yet the prey is right there.",
    "Some even copy the shape of a fish that bites back, and hunters keep well away.",
    "And all of it is done with eyes that may not see colour at all. Odd, is it not?",
]


# ---------------------------------------------------------------- workload


def build_workload(size: int, root: Path, fmt: VideoFormat = FORMATS["720x1280"]) -> Path:
    """Clips, narration and a job file for `size` seconds of Short at `fmt`; reused if `root` already has it."""
    job = root / f"job-{size}-{fmt.width}x{fmt.height}.json"
    if job.is_file():
        return job
    count = round(size / CLIP_SECONDS)
    scenes = [
        Scene(
            index=i + 1,
            narration=LINES[i % len(LINES)],
            first_frame_prompt=f"reef {i}",
            motion_prompt="slow push in",
            seconds=CLIP_SECONDS,
        )
        for i in range(count)
    ]
    script = Script(title="Octopus camouflage", description="", tags=[], hook="", scenes=scenes)
    store = AssetStore(root / "store")
    clips_dir = root / f"clips-{fmt.width}x{fmt.height}"
    clips_dir.mkdir(parents=True, exist_ok=True)
    clips, narrations = [], []
    for scene in scenes:
        clip = clips_dir / f"clip-{scene.index:02d}.mp4"
        if not clip.is_file():
            image = draw_title_card(plan_title_card(scene, "", scene.index), fmt)
            encode_frames(still_frames(image, round(CLIP_SECONDS * fmt.fps), fmt.fps, scene.index), clip, fmt)
        clips.append(
            ClipAsset(
                scene=scene.index, path=clip, provider="offline", model="bench", seed=scene.index, seconds=CLIP_SECONDS
            )
        )
        narrations.append(_narration(scene, store, root))
    job.write_text(
        json.dumps(
            {
                "script": script.model_dump(mode="json"),
                "clips": [c.model_dump(mode="json") for c in clips],
                "narrations": [n.model_dump(mode="json") for n in narrations],
                "fmt": fmt.model_dump(mode="json"),
                "options": RenderOptions(threads=os.cpu_count() or 2).model_dump(mode="json"),
                "store": str(root / "out"),
            }
        )
    )
    return job


def _narration(scene: Scene, store: AssetStore, root: Path) -> Narration:
    """Offline speech through the real narration step, or a tone of the same length without an offline voice."""
    narrator = OfflineNarrator()
    if narrator.model != "none":
        return narrate(ShortRequest(topic="octopus camouflage"), scene, narrator, store)
    path = root / f"tone-{scene.index:02d}.wav"
    seconds = CLIP_SECONDS - 0.4
    t = np.arange(int(22050 * seconds)) / 22050
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes((0.3 * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16).tobytes())
    return Narration(
        scene=scene.index,
        path=path,
        seconds=seconds,
        provider="tone",
        voice=None,
        words=time_words(scene.narration, 0.2, seconds - 0.2),
        timing="audio",
    )


def _load(job: Path) -> dict:
    data = json.loads(job.read_text())
    return {
        "script": Script.model_validate(data["script"]),
        "clips": [ClipAsset.model_validate(c) for c in data["clips"]],
        "narrations": [Narration.model_validate(n) for n in data["narrations"]],
        "fmt": VideoFormat.model_validate(data["fmt"]),
        "options": RenderOptions.model_validate(data["options"]),
        "store": Path(data["store"]),
    }


# ---------------------------------------------------------------- the two renders


def ours_command(job: Path) -> list[str]:
    """Our renderer in a child Python, so its memory is measured alone; it prints its render seconds."""
    return [sys.executable, __file__, "--worker", str(job)]


def _worker(job: Path) -> None:
    w = _load(job)
    cpu, started = _cpu_seconds(), time.perf_counter()
    short = render_short(
        w["script"], w["clips"], w["narrations"], w["fmt"], w["options"], AssetStore(w["store"]), fresh=True
    )
    print(
        json.dumps(
            {"seconds": time.perf_counter() - started, "cpu": _cpu_seconds() - cpu, "bytes": short.video.stat().st_size}
        )
    )


def _cpu_seconds() -> float:
    """CPU used so far by this process and its finished children (our ffmpegs)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def ffmpeg_command(job: Path, dest: Path) -> list[str]:
    """One ffmpeg command: concat demuxer, ASS captions, narration delayed and mixed, same encoder settings."""
    w = _load(job)
    durations = scene_durations(w["script"], w["narrations"])
    total, fmt, options = sum(durations), w["fmt"], w["options"]
    listing = job.with_suffix(".ffconcat")
    listing.write_text(
        "ffconcat version 1.0\n"
        + "".join(f"file '{c.path}'\nduration {d:.6f}\n" for c, d in zip(w["clips"], durations, strict=False))
    )
    ass = job.with_suffix(".ass")
    ass.write_text(_ass(caption_groups(w["narrations"], durations, options.captions), fmt, options.captions))
    voices, offsets, t = [], [], 0.0
    for narration, seconds in zip(w["narrations"], durations, strict=False):
        if narration.path:
            voices.append(narration.path)
            offsets.append(t)
        t += seconds
    graph = [f"[0:v]fps={fmt.fps},ass='{ass}':fontsdir='{FONTS}'[v]"]
    graph += [f"[{i + 1}:a]adelay={round(o * 1000)}:all=1[a{i}]" for i, o in enumerate(offsets)]
    graph.append(
        "".join(f"[a{i}]" for i in range(len(voices))) + f"amix=inputs={len(voices)}:normalize=0:duration=longest,"
        f"aformat=sample_rates=44100:channel_layouts=stereo,apad=whole_dur={total:.3f}[a]"
    )
    inputs = [arg for v in voices for arg in ("-i", str(v))]
    return [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y",
        "-v",
        "error",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        str(listing),
        *inputs,
        "-filter_complex",
        ";".join(graph),
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-t",
        f"{total:.3f}",
        "-c:v",
        "libx264",
        "-preset",
        options.preset,
        "-crf",
        str(options.crf),
        "-threads",
        str(options.threads),
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
        str(dest),
    ]


def _ass(groups, fmt: VideoFormat, style: CaptionStyle) -> str:
    """The captions as ASS: same font, size, outline, colours, centre line, width and highlighted word."""
    from PIL import ImageFont

    px = max(8, round(style.size * fmt.width))
    ascent, descent = ImageFont.truetype(str(style.font), px).getmetrics()
    left, right = round(style.left * fmt.width), round((1 - style.right) * fmt.width)
    x, y = round((style.left + style.right) / 2 * fmt.width), round(style.centre_y * fmt.height)
    head = (
        "[Script Info]\nScriptType: v4.00+\nWrapStyle: 0\nScaledBorderAndShadow: yes\n"
        f"PlayResX: {fmt.width}\nPlayResY: {fmt.height}\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Cap,Noto Sans,{ascent + descent},{_bgr(style.fill)},{_bgr(style.fill)},{_bgr(style.outline)},"
        f"&H00000000,-1,0,0,0,100,100,0,0,1,{max(1, round(style.stroke * px))},0,5,{left},{right},0,1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    lines = []
    for cue in cues(groups):
        words = [w.word.upper() if style.uppercase else w.word for w in groups[cue.group].words]
        words[cue.highlight] = f"{{\\c{_bgr(style.highlight)}}}{words[cue.highlight]}{{\\c}}"
        lines.append(f"Dialogue: 0,{_ts(cue.start)},{_ts(cue.end)},Cap,,0,0,0,,{{\\pos({x},{y})}}{' '.join(words)}")
    return head + "\n".join(lines) + "\n"


def _bgr(rgb: tuple[int, int, int]) -> str:
    return f"&H00{rgb[2]:02X}{rgb[1]:02X}{rgb[0]:02X}"


def _ts(seconds: float) -> str:
    cs = round(seconds * 100)
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


# ---------------------------------------------------------------- measuring


def measure(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS (MB) of the process tree, its CPU seconds, and the stdout of `cmd`."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        peak, done = [0], threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                peak[0] = max(peak[0], _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out = proc.stdout.read().decode()
        # wait4 gives this child's own rusage: the largest single process of its tree, which a
        # 20 ms sample can miss when a process is short-lived.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise SystemExit(
                f"benchmark command failed ({proc.returncode}): {' '.join(cmd[:4])} ...\n"
                f"{err.read().decode(errors='replace')[-2000:]}"
            )
    largest = usage.ru_maxrss * 1024
    return wall, max(peak[0], largest) / 2**20, usage.ru_utime + usage.ru_stime, out


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants, read from /proc."""
    total, stack, page = 0, [pid], os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue  # the process ended between listing and reading
    return total


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, choices=(30, 60, 180), default=30, help="seconds of Short")
    parser.add_argument("--format", choices=sorted(FORMATS), default="720x1280", help="frame size")
    parser.add_argument("--repeat", type=int, default=3, help="paired runs (at least 3); the medians are reported")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the workload here")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args.worker)
    if args.repeat < 3:
        parser.error("--repeat must be at least 3: one pair of runs says little on a loaded machine")

    root = args.workdir or Path(tempfile.mkdtemp(prefix="shorts-bench-"))
    try:
        job = build_workload(args.size, root, FORMATS[args.format])
        load = os.getloadavg()[0]
        runs: dict[str, list[tuple[float, float, float]]] = {"ffmpeg": [], "shorts": []}
        for _ in range(args.repeat):  # alternate, so background load hits both alike
            wall, mb, cpu, _ = measure(ffmpeg_command(job, root / "ffmpeg.mp4"))
            runs["ffmpeg"].append((wall, mb, cpu))
            # Our figures come from the worker: the render alone, without Python's start-up and imports.
            _, mb, _, out = measure(ours_command(job))
            inner = json.loads(out.strip().splitlines()[-1])
            runs["shorts"].append((inner["seconds"], mb, inner["cpu"]))
        result = _summary(args.size, _load(job), runs, (load, os.getloadavg()[0]))
        result["shorts_mb_per_second"] = round(inner["bytes"] / 2**20 / result["seconds"], 3)
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result) if args.json else _table(result))


def _summary(size: int, w: dict, runs: dict[str, list[tuple[float, float, float]]], load: tuple[float, float]) -> dict:
    durations = scene_durations(w["script"], w["narrations"])
    fmt, options = w["fmt"], w["options"]
    median = {k: [statistics.median(r[i] for r in v) for i in range(3)] for k, v in runs.items()}
    # Each ratio pairs runs made back to back, so a burst of background load hits both sides of it.
    paired = [(o[0] / f[0], o[2] / f[2]) for f, o in zip(runs["ffmpeg"], runs["shorts"], strict=False)]
    return {
        "size": size,
        "seconds": round(sum(durations), 3),
        "clips": len(w["clips"]),
        "format": f"{fmt.width}x{fmt.height}@{fmt.fps}",
        "caption_groups": len(caption_groups(w["narrations"], durations, options.captions)),
        "narration": w["narrations"][0].package or "tone",
        "preset": options.preset,
        "crf": options.crf,
        "threads": options.threads,
        "cores": os.cpu_count(),
        "repeat": len(paired),
        "load_before": round(load[0], 1),
        "load_after": round(load[1], 1),
        "ffmpeg_seconds": round(median["ffmpeg"][0], 2),
        "ffmpeg_peak_mb": round(median["ffmpeg"][1]),
        "ffmpeg_cpu_seconds": round(median["ffmpeg"][2], 1),
        "shorts_seconds": round(median["shorts"][0], 2),
        "shorts_peak_mb": round(median["shorts"][1]),
        "shorts_cpu_seconds": round(median["shorts"][2], 1),
        "ratio": round(statistics.median(r for r, _ in paired), 2),
        "cpu_ratio": round(statistics.median(c for _, c in paired), 2),
        "all_runs": {k: [[round(a, 2), round(b), round(c, 1)] for a, b, c in v] for k, v in runs.items()},
    }


def _table(r: dict) -> str:
    median = f", median of {r['repeat']}" if r["repeat"] > 1 else ""
    return "\n".join(
        [
            f"{r['seconds']:g} s Short: {r['clips']} clips {r['format']}, {r['caption_groups']} caption groups, "
            f"narration {r['narration']}; libx264 {r['preset']} crf {r['crf']} threads {r['threads']}; "
            f"{r['cores']} cores, load {r['load_before']} -> {r['load_after']}{median}",
            f"  plain ffmpeg   {r['ffmpeg_seconds']:6.2f} s   peak {r['ffmpeg_peak_mb']:4d} MB   "
            f"cpu {r['ffmpeg_cpu_seconds']:5.1f} s",
            f"  shorts render  {r['shorts_seconds']:6.2f} s   peak {r['shorts_peak_mb']:4d} MB   "
            f"cpu {r['shorts_cpu_seconds']:5.1f} s   {r['shorts_mb_per_second']:.2f} MB per second of video",
            f"  cpu ratio      {r['cpu_ratio']:6.2f}x  (wall {r['ratio']:.2f}x, which swings with the machine's load)",
        ]
    )


if __name__ == "__main__":
    main()

import math
import re
import subprocess
import wave
from itertools import groupby
from pathlib import Path

import imageio_ffmpeg
import immich_memories_music
import numpy as np
import pytest
from PIL import Image
from video_files import encode_frames

from pipeline import AssetStore, ClipAsset, Narration, RenderOptions, Scene, Script, VideoFormat, WordTiming
from pipeline.loudness import finish_speech
from pipeline.media.motion import save_moving_still, still_yuv_frames
from pipeline.render.captions import CaptionStyle, cues, draw_caption
from pipeline.render.mix import AUDIO_FPS, add_music, read_audio, voice_track, write_soundtrack
from pipeline.render.short import caption_groups, render_short, scene_durations

MUSIC = immich_memories_music.tracks_dir()

# Each clip is one flat colour that brightens frame by frame, so a frame tells which clip and which
# of its frames it came from.
COLOURS = [(200, 40, 40), (40, 40, 200)]
STEP = 6  # brightness added per frame


def _level(n: int, i: int) -> np.ndarray:
    """The colour of frame `i` of clip `n`."""
    return np.clip(np.array(COLOURS[n]) + STEP * i, 0, 255)


def _clip(tmp_path: Path, n: int, seconds: float, fmt: VideoFormat, size: tuple[int, int] | None = None) -> ClipAsset:
    w, h = size or fmt.size
    frames = (np.full((h, w, 3), _level(n, i), np.uint8) for i in range(round(seconds * fmt.fps)))
    path = tmp_path / f"clip{n}.mp4"
    encode_frames(frames, path, VideoFormat(width=w, height=h, fps=fmt.fps))
    return ClipAsset(scene=n + 1, path=path, provider="test", model="flat", seed=0, seconds=seconds)


def _voice(tmp_path: Path, n: int, seconds: float, words: str = "") -> Narration:
    path = tmp_path / f"voice{n}.wav"
    t = np.arange(int(22050 * seconds)) / 22050
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes((8000 * np.sin(2 * np.pi * 330 * t)).astype(np.int16).tobytes())
    step = seconds / max(1, len(words.split()))
    timed = [WordTiming(word=w, start=i * step, end=(i + 1) * step) for i, w in enumerate(words.split())]
    return Narration(scene=n + 1, path=path, seconds=seconds, provider="test", voice=None, words=timed, timing="audio")


def _script(*seconds: float) -> Script:
    scenes = [
        Scene(index=i + 1, narration="words", first_frame_prompt="p", motion_prompt="m", seconds=s)
        for i, s in enumerate(seconds)
    ]
    return Script(title="t", description="", tags=[], hook="", scenes=scenes)


def _frames(path: Path) -> tuple[dict, np.ndarray]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return meta, np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]).astype(int)


def _render(tmp_path: Path, script, clips, narrations, fmt, progress=None, **options):
    store = AssetStore(tmp_path / "store")
    return render_short(script, clips, narrations, fmt, RenderOptions(**options), store, progress=progress)


def test_output_has_the_format_the_length_and_an_audio_track(tmp_path, tiny):
    clips = [_clip(tmp_path, 0, 1.0, tiny), _clip(tmp_path, 1, 1.0, tiny, size=(200, 200))]  # one must be fitted
    narrations = [_voice(tmp_path, 0, 0.8, "one two"), _voice(tmp_path, 1, 1.4, "three four")]
    script, progress = _script(1.0, 1.6), []
    rendered = _render(tmp_path, script, clips, narrations, tiny, progress=progress.append)

    meta, frames = _frames(rendered.video)
    total = sum(scene_durations(script, narrations))
    assert total == pytest.approx(0.8 + 1.4 + 2 * 0.25, abs=0.002) and rendered.seconds == pytest.approx(total)
    assert frames.shape[1:] == (tiny.height, tiny.width, 3) and meta["fps"] == tiny.fps
    assert abs(len(frames) - total * tiny.fps) <= 1
    info = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(rendered.video)], capture_output=True, text=True
    ).stderr
    assert "Audio: aac" in info and "Video: h264" in info
    assert rendered.captions.read_text().startswith("1\n00:00:00,000 --> ")
    assert not [p for p in rendered.video.parent.iterdir() if ".part" in p.name]
    assert progress == sorted(progress) and progress[-1] == 100


def test_captions_change_pixels_in_their_box_and_nowhere_else(tmp_path, tiny):
    fmt = tiny.model_copy(update={"width": 2 * tiny.width, "height": 2 * tiny.height})  # letters wide enough to test
    clips = [_clip(tmp_path, 0, 2.0, fmt)]
    script = _script(2.0)
    captioned = [_voice(tmp_path, 0, 2.0, "bright yellow words")]
    silent = [captioned[0].model_copy(update={"words": []})]
    # CRF 0 is lossless, so any difference comes from the captions, not from the encoder.
    _, with_captions = _frames(_render(tmp_path / "a", script, clips, captioned, fmt, crf=0).video)
    _, without = _frames(_render(tmp_path / "b", script, clips, silent, fmt, crf=0).video)

    groups = caption_groups(captioned, scene_durations(script, captioned), RenderOptions().captions)
    cue = cues(groups)[1]
    index = int((cue.start + cue.end) / 2 * fmt.fps)
    layers = draw_caption(groups[cue.group], fmt)
    image, x, y = layers.rgba(cue.highlight, CaptionStyle()), layers.x, layers.y
    h, w = image.shape[:2]
    changed = np.abs(with_captions[index] - without[index]).max(axis=2) > 8
    inside = np.zeros_like(changed)
    inside[max(0, y - 2) : y + h + 2, max(0, x - 2) : x + w + 2] = True  # chroma is shared by 2x2 pixels
    assert changed[inside].mean() > 0.2
    assert not changed[~inside].any()
    # Blended in YUV, the caption has the colours an RGB composite of its image would have, wherever
    # the caption is opaque and one colour over the 2x2 pixels that share a chroma sample.
    canvas = np.zeros((fmt.height, fmt.width, 4), int)
    canvas[y : y + h, x : x + w] = image[: fmt.height - y, : fmt.width - x]
    blocks = canvas.reshape(fmt.height // 2, 2, fmt.width // 2, 2, 4)
    uniform = (blocks == blocks[:, :1, :, :1]).all(axis=(1, 3, 4)) & (blocks[:, 0, :, 0, 3] == 255)
    solid = np.repeat(np.repeat(uniform, 2, axis=0), 2, axis=1)
    error = np.abs(with_captions[index] - canvas[..., :3]).max(axis=2)
    highlighted = solid & (np.ptp(canvas[..., :3], axis=2) > 0)  # the yellow word, not white or black
    assert highlighted.sum() > 50 and error[solid].max() <= 3


def test_a_short_clip_is_slowed_then_looped_never_held_and_a_long_one_is_trimmed(tmp_path, tiny):
    clips = [_clip(tmp_path, 0, 1.0, tiny), _clip(tmp_path, 1, 2.0, tiny)]
    narrations = [_voice(tmp_path, 0, 1.75), _voice(tmp_path, 1, 0.75)]  # with the breaths, scenes of 2 s and 1 s
    _, frames = _frames(_render(tmp_path, _script(2.0, 1.0), clips, narrations, tiny).video)
    fps, colour = tiny.fps, frames.mean(axis=(1, 2))

    assert len(frames) == 3 * fps
    # Scene 1: the twelve frames of the one-second red clip, 20 % slower (frame k shows the clip's frame k / 1.2),
    # then from its start again: never one frame for the rest of the scene.
    shown = [min(range(fps), key=lambda i: np.abs(colour[k] - _level(0, i)).sum()) for k in range(2 * fps)]
    assert all(np.allclose(colour[k], _level(0, shown[k]), atol=6) for k in range(2 * fps))
    assert all(shown[k] in (math.floor(k / 1.2) % fps, math.ceil(k / 1.2) % fps) for k in range(2 * fps))
    assert max(len(list(run)) for _, run in groupby(shown)) <= 2
    # Scene 2: only the first second of the two-second blue clip.
    assert all(np.allclose(colour[2 * fps + i], _level(1, i), atol=6) for i in range(fps))


def test_a_moving_still_renders_as_its_motion_encoded_as_a_video_would(tmp_path, tiny):
    """An offline clip is a PNG moved during the render; it fills a scene longer than planned, and keeps moving."""
    picture = Image.fromarray(np.random.default_rng(7).integers(0, 255, (tiny.height, tiny.width, 3), np.uint8))
    still = tmp_path / "still.png"
    save_moving_still(picture, tiny, 1.0, 3, still)  # planned for 1 s; the narration makes the scene 1.5 s
    video = tmp_path / "same-motion.mp4"  # the same frames, losslessly: what the clip step used to encode
    encode_frames(still_yuv_frames(picture, 2 * tiny.fps, tiny.fps, 3), video, tiny, crf=0, pix_fmt_in="yuv420p")
    narrations = [_voice(tmp_path, 0, 1.5), _voice(tmp_path, 1, 0.5)]
    script, after = _script(1.5, 1.0), _clip(tmp_path, 1, 1.0, tiny)
    made = [
        _frames(
            _render(
                tmp_path / name,
                script,
                [ClipAsset(scene=1, path=path, provider="offline", model="shots-v1", seed=3, seconds=1.0), after],
                narrations,
                tiny,
            ).video
        )[1]
        for name, path in (("still", still), ("video", video))
    ]
    assert made[0].shape == made[1].shape and len(made[0]) == round(2.5 * tiny.fps)
    assert np.abs(made[0] - made[1]).mean() < 1.5  # one lossy encode of the same frames
    scene = made[0][: round(1.5 * tiny.fps)]
    assert (
        min(np.abs(a - b).mean() for a, b in zip(scene, scene[1:], strict=False)) > 0.5
    )  # it moves in every frame, never holds


def test_soundtrack_places_each_narration_at_its_scene_over_looped_music(tmp_path):
    narrations = [_voice(tmp_path, 0, 0.5, "one"), _voice(tmp_path, 1, 0.5, "two")]
    music = _voice(tmp_path, 9, 0.7).path  # a 0.7 s tone, so it must loop
    dest = tmp_path / "mix.wav"
    write_soundtrack(narrations, [2.0, 2.0], dest, music, music_volume=0.2, ducked_volume=0.02)

    with wave.open(str(dest), "rb") as w:
        rate, samples = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), np.int16).reshape(-1, 2)
    level = [
        np.abs(samples[int(a * rate) : int(b * rate)]).mean()
        for a, b in ((0.1, 0.4), (1.0, 1.6), (2.1, 2.4), (3.0, 3.6))
    ]
    assert abs(len(samples) / rate - 4.0) < 0.01
    assert level[0] > 3 * level[1] and level[2] > 3 * level[3]  # each voice at its scene's start
    assert level[1] > 500 and level[3] > 500  # and music, looped, where nobody speaks


def _speech(tmp_path: Path, n: int, seconds: float) -> Narration:
    """Speech-like narration, finished as every voice's is (-16 LUFS): syllables of a voiced tone and hiss, four a
    second, each timed as a word."""
    rate, rng = 22050, np.random.default_rng(n)
    t = np.arange(int(rate * seconds)) / rate
    voiced = np.sin(2 * np.pi * 4 * t - np.pi / 2) > -0.3
    sound = voiced * (
        0.5 * np.sin(2 * np.pi * 170 * t) + 0.4 * np.sin(2 * np.pi * 340 * t) + 0.15 * rng.standard_normal(t.size)
    )
    path = tmp_path / f"speech{n}.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes((32767 * finish_speech(sound, rate)).astype(np.int16).tobytes())
    words = [WordTiming(word=f"w{i}", start=i / 4, end=i / 4 + 0.2) for i in range(int(seconds * 4))]
    return Narration(scene=n + 1, path=path, seconds=seconds, provider="test", voice=None, words=words, timing="audio")


def _ebur128(path: Path) -> tuple[float, float, dict[float, float]]:
    """ffmpeg's own meter on a file's audio: integrated loudness, true peak, and the short-term loudness (3 s)
    every 0.1 s."""
    err = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-nostdin",
            "-hide_banner",
            "-i",
            str(path),
            "-vn",
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    summary = err[err.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    short = {round(float(t), 1): float(s) for t, s in re.findall(r"t:\s*([\d.]+).*?S:\s*(-?[\d.]+|-inf)", err)}
    return integrated, peak, short


@pytest.mark.parametrize("music", [None, "library", "quiet"])
def test_the_mp4_is_mastered_to_minus_14_lufs_with_true_peak_under_minus_1_dbtp(tmp_path, tiny, music):
    """Whatever music goes in (the library's, your own file at -50 dBFS, none), the MP4 measures the same."""
    if music == "quiet":
        music = _voice(tmp_path, 9, 7.0).path
        with wave.open(str(music), "rb") as w:
            tone = np.frombuffer(w.readframes(w.getnframes()), np.int16) // 100
        with wave.open(str(music), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
            w.writeframes(tone.tobytes())
    elif music:
        music = MUSIC / "happy" / "happy_acoustic_1.opus"
    clips = [_clip(tmp_path, 0, 3.0, tiny), _clip(tmp_path, 1, 3.0, tiny)]
    narrations = [_speech(tmp_path, 0, 2.8), _speech(tmp_path, 1, 2.8)]
    rendered = _render(tmp_path, _script(3.0, 3.0), clips, narrations, tiny, music=music)
    integrated, peak, _ = _ebur128(rendered.video)
    assert integrated == pytest.approx(-14, abs=0.5) and peak <= -1.0
    if music:  # and no stretch of it is quiet: the music fills every pause
        samples = read_audio(rendered.video)[AUDIO_FPS // 2 : -3 * AUDIO_FPS // 2]  # between the fades
        windows = np.sqrt((samples[: len(samples) // 4410 * 4410] ** 2).reshape(-1, 4410 * 2).mean(axis=1))
        assert np.mean(20 * np.log10(windows + 1e-9) < -45) < 0.02


def test_a_louder_or_quieter_target_is_kept_too(tmp_path, tiny):
    clips = [_clip(tmp_path, 0, 3.0, tiny)]
    rendered = _render(tmp_path, _script(3.0), clips, [_speech(tmp_path, 0, 2.8)], tiny, loudness=-20.0)
    integrated, peak, _ = _ebur128(rendered.video)
    assert integrated == pytest.approx(-20, abs=0.5) and peak <= -1.0


def test_the_voice_stays_12_db_above_the_music_while_it_speaks_and_the_music_comes_up_when_it_stops(tmp_path):
    """Short-term loudness (3 s, ffmpeg's meter) of the voice and of the music as mixed under it, with the default
    volumes, over a loud track that is at its loudest from the start."""
    narrations = [_speech(tmp_path, i, 4.0) for i in range(3)]
    durations = [4.2, 4.2, 8.0]  # 3.6 s where nobody speaks, then the music fades out
    voice, speech = voice_track(narrations, durations)
    music = np.zeros_like(voice)
    options = RenderOptions()
    add_music(
        music,
        MUSIC / "energetic" / "energetic_electronic_s411.opus",
        speech,
        options.music_volume,
        options.ducked_volume,
    )
    stems = {}
    for name, samples in (("voice", voice), ("music", music)):
        with wave.open(str(tmp_path / f"{name}.wav"), "wb") as w:
            w.setnchannels(2), w.setsampwidth(2), w.setframerate(AUDIO_FPS)
            w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
        stems[name] = _ebur128(tmp_path / f"{name}.wav")[2]
    speaking = [t for t in stems["voice"] if 3 <= t <= 12.4]  # windows wholly inside the narration
    margins = [stems["voice"][t] - stems["music"][t] for t in speaking]
    assert min(margins) >= 12
    ducked = np.median([stems["music"][t] for t in speaking])
    assert stems["music"][14.4] - ducked >= 6  # 2 s after the voice stopped, the bed is up again


def test_a_soundtrack_that_is_silent_stays_silent(tmp_path):
    dest = tmp_path / "mix.wav"
    write_soundtrack([_voice(tmp_path, 0, 0.5).model_copy(update={"path": None})], [2.0], dest)
    with wave.open(str(dest), "rb") as w:
        assert w.getnframes() == 2 * AUDIO_FPS and not any(w.readframes(w.getnframes()))

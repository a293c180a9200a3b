"""Every file a person or a rerun reads is written whole under a temporary name, then renamed into place; what a
killed writer leaves is a temporary, never the file, and the next writer of that file removes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from pipeline import Settings, add_topics, publish_to_outbox
from pipeline.state.store import atomic_path, is_stale, temp_tag
from pipeline.state.topics import topics_file

STORE = Path(__file__).resolve().parents[1] / "pipeline" / "state" / "store.py"
# Writes half a file through atomic_path, then waits to be killed. It loads store.py alone: the pipeline package's
# imports would take seconds.
WRITER = f"""
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("store", {str(STORE)!r})
store = importlib.util.module_from_spec(spec); spec.loader.exec_module(store)
with store.atomic_path(__import__("pathlib").Path(sys.argv[1])) as tmp:
    tmp.write_bytes(b"half a vid")
    print("writing", flush=True)
    time.sleep(60)
"""


def _writer(final: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(final)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "writing\n"
    return process


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".part" in p.name]


def test_a_killed_writer_leaves_no_file_and_the_next_writer_removes_its_temporary(tmp_path):
    final = tmp_path / "renders" / "abc.mp4"
    writer = _writer(final)
    try:
        # While the writer lives, another writer of the same file leaves its temporary alone.
        with atomic_path(final) as tmp:
            tmp.write_bytes(b"a whole video")
        assert final.read_bytes() == b"a whole video" and len(_temporaries(final.parent)) == 1
        final.unlink()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    [left] = _temporaries(final.parent)
    assert not final.exists() and left.read_bytes() == b"half a vid" and is_stale(left)

    with atomic_path(final) as tmp:
        tmp.write_bytes(b"a whole video")
    assert final.read_bytes() == b"a whole video" and _temporaries(final.parent) == []


def test_helper_files_beside_a_temporary_are_swept_with_it(tmp_path):
    final = tmp_path / "abc.mp4"
    dead = _dead_pid()
    tag = f"{dead}-0123abcd.part"
    for name in (
        f".abc.{tag}.mp4",
        f".abc.{tag}.wav",
        f".abc.{tag}.wav.in",
        f".abcd.{tag}.mp4",
    ):  # the last: another file
        (tmp_path / name).write_bytes(b"x")
    with atomic_path(final) as tmp:
        tmp.write_bytes(b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".abcd.{dead}-0123abcd.part.mp4", "abc.mp4"]


def test_a_temporary_names_its_writer():
    assert temp_tag().startswith(f"{os.getpid()}-")
    assert not is_stale(Path(f".x.{temp_tag()}.part.mp4")) and not is_stale(Path("x.mp4"))


def test_an_outbox_package_half_copied_by_a_killed_run_is_removed_by_the_next(tmp_path):
    out = tmp_path / "out" / "bees"
    out.mkdir(parents=True)
    for name in ("final.mp4", "captions.srt", "script.json", "manifest.json"):
        (out / name).write_text(name)
    outbox = tmp_path / "outbox"
    stale = outbox / f".incoming-{_dead_pid()}-0123abcd.part-xyz"
    live = outbox / f".incoming-{temp_tag()}.part-xyz"
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / "final.mp4").write_text("half")

    published = publish_to_outbox(out, outbox, "bees")
    assert sorted(p.name for p in Path(published.location).iterdir()) == sorted(
        ["final.mp4", "captions.srt", "script.json", "manifest.json"]
    )
    assert not stale.exists() and live.exists()  # a live run's staging folder is its own business


def test_the_topic_queue_is_rewritten_whole(tmp_path):
    settings = Settings()
    path = topics_file(settings)
    path.parent.mkdir(parents=True)
    path.write_text("# mine\nBees", encoding="utf-8")  # no newline at the end, as a person may leave it
    add_topics(settings, ["Why cats purr"])
    assert path.read_text(encoding="utf-8") == "# mine\nBees\nWhy cats purr\n"
    assert [p.name for p in path.parent.iterdir() if ".part" in p.name] == []


# Each place in pipeline/ that writes a file, and why what it writes is never taken for a finished file: `tmp` and
# `staging` come from atomic_path or a staging folder; `dest` is the temporary atomic_path handed to a provider.
WRITERS = {
    ("narration.py", "tmp.write_bytes("),
    ("narration.py", "tmp.write_text("),
    ("timing.py", 'wave.open(str(path), "wb")'),  # write_wav: into narrate's temporary, or the voice's dest (one)
    ("providers/offline/piper_engine.py", "onnx.save(model, str(tmp))"),  # a pid-named temporary, then renamed
    ("render/short.py", "tmp.write_text("),
    ("package.py", "tmp.write_text("),
    ("state/topics.py", "tmp.write_text("),
    ("settings_tables.py", "tmp.write_text("),
    ("state/takes.py", "tmp.write_bytes("),
    ("storyboard.py", "sheet.save(tmp"),
    ("storyboard.py", "small.save(buffer"),  # in memory
    ("analytics/report.py", 'image.save(buffer, format="PNG"'),  # the stats chart, in memory
    ("package.py", 'probe.write_bytes(b"")'),  # the writability probe: empty, removed at once
    ("render/mix.py", 'wave.open(str(dest), "wb")'),  # the soundtrack, beside the render's temporary, removed after
    ("providers/openai/image.py", "frame.save(dest"),
    ("providers/offline/image.py", ".save(dest"),
    ("media/motion.py", 'image.convert("RGB").save(dest'),  # save_moving_still: into animate_scene's temporary
    ("providers/runway/image.py", "fitted.save(path"),  # _fit_png on the downloaded temporary
    ("providers/paid/download.py", 'dest.open("wb")'),
    ("providers/speech_audio.py", 'wave.open(str(dest), "wb")'),
    ("providers/speech_audio.py", "src.write_bytes("),  # the temporary's name + ".in", removed after
    ("publish/youtube_auth.py", "os.O_WRONLY | os.O_CREAT | os.O_EXCL"),  # save_token: a 0600 temporary, then renamed
    ("publish/tokens.py", "os.O_WRONLY | os.O_CREAT | os.O_EXCL"),  # the platforms' save_token: the same way
    ("package.py", "copyfile(source, tmp)"),
    ("publish/short.py", "copyfile(out_dir / file, staging / file)"),
    ("providers/stock/clip.py", "tmp.write_text("),
    ("providers/stock/clip.py", 'tmp.open("wb")'),  # atomic_path
    ("providers/folder/media.py", ".save(dest"),  # make_first_frame's temporary
    ("publish/youtube_thumbnail.py", 'image.save(data, "JPEG"'),  # in memory
    ("publish/youtube_thumbnail.py", "tmp.write_bytes("),  # atomic_path
    ("source/step.py", "tmp.write_bytes("),
    ("source/step.py", "tmp.write_text("),  # pictures and records: atomic_path
    ("providers/offline/image.py", "image.save(dest"),  # make_first_frame's temporary
    ("state/store.py", "tmp.write_text("),  # AssetStore.saved: the record beside a stored file, through atomic_path
    ("state/database.py", "os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600"),  # an empty 0600 file for SQLite to fill
    ("state/home.py", "os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE"),  # private_secret: aside, then linked
}
WRITE_CALLS = (
    "write_text(",
    "write_bytes(",
    ".save(",
    'open("w',
    "open('w",
    'open("a',
    '"wb")',
    "O_WRONLY",
    "write_frames(",
    "write_audiofile(",
    "copyfile(",
)


def test_every_writer_in_the_pipeline_goes_through_a_temporary_name():
    """An audit that stays done: a new place that writes a file fails this test until it is known to be safe."""
    root = Path(__file__).resolve().parents[1] / "pipeline"
    unknown = []
    for path in sorted(root.rglob("*.py")):
        module = str(path.relative_to(root))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#")[0]
            if any(call in code for call in WRITE_CALLS) and not any(
                m == module and snippet in code for m, snippet in WRITERS
            ):
                unknown.append(f"pipeline/{module}:{number}: {line.strip()}")
    assert unknown == [], (
        "write these through pipeline.state.store.atomic_path, then list them in WRITERS:\n" + "\n".join(unknown)
    )


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid

"""Odd and hostile topics (emoji, right-to-left text, combining marks, control characters, path separators, `..`,
very long words): each gives a request with a safe folder name and captions that draw, or one clear sentence."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from flows.cli import main
from flows.cli.errors import explain
from pipeline import ShortRequest, VideoFormat, WordTiming, short_folder, slug
from pipeline.media.fonts import missing, visible
from pipeline.models import MAX_TOPIC_CHARS
from pipeline.render.captions import draw_caption, group_words, srt

ODD = [
    "😀",
    "👩‍👩‍👧",
    "🇺🇦",
    "שלום",
    "مرحبا بكم",
    "e\u0301",
    "Z\u0335\u0336\u0337",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\u200b",
    "/",
    "\\",
    "..",
    "../../etc/passwd",
    "~",
    "$HOME",
    "*?",
    "\n",
    "\t",
    "\r\n",
    "漢字",
    "ß",
    "İ",
    "ﷺ",
    "C:\\Windows",
    "\udcff",
    "\ufeff",
    "  ",
    "-",
    ".",
]
PIECES = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=12),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=40, max_size=240),
)  # very long words
TOPICS = st.lists(PIECES, min_size=0, max_size=8).map("".join)
SAFE_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TINY = VideoFormat(width=144, height=256, fps=12)
FEW = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(max_examples=300, deadline=None, database=None)
@given(TOPICS)
def test_a_topic_is_a_clean_request_with_a_safe_folder_name_or_one_sentence(topic):
    try:
        request = ShortRequest(topic=topic)
    except ValidationError as exc:
        message = explain(exc)
        assert message.startswith("TOPIC: the topic is") and message.endswith(".") and "\n" not in message
        return
    assert request.topic == request.topic.strip() and 0 < len(request.topic) <= MAX_TOPIC_CHARS
    assert not any(ch in request.topic for ch in "\x00\n\r\t\x1b\u202e\u200b\udcff")
    name = slug(request.topic)
    assert SAFE_SLUG.match(name) and len(name) <= 60, name
    out = Path("/srv/shorts/out")
    assert (out / name).parent == out  # no separator or `..` can lead out of the output folder
    folder = short_folder(request.topic)  # the output folder: the topic's words in any script, and its hash
    assert (out / folder).parent == out and not folder.startswith(("-", ".")) and len(folder.encode()) < 255
    assert short_folder(request.topic + "!") != folder


@FEW
@given(TOPICS)
def test_captions_of_any_topic_draw_inside_the_frame(topic):
    try:
        text = ShortRequest(topic=topic).topic
    except ValidationError:
        return
    words = [WordTiming(word=w, start=i * 0.3, end=i * 0.3 + 0.3) for i, w in enumerate(text.split())]
    groups = group_words(words)
    srt(groups).encode("utf-8")  # the SRT file is written as UTF-8
    for group in groups:
        layers = draw_caption(group, TINY)
        h, w = layers.outline.shape
        assert layers.x >= 0 and layers.x + w <= TINY.width and layers.y >= 0 and layers.y + h <= TINY.height


def test_characters_the_font_lacks_are_left_out_of_the_picture_not_drawn_as_boxes():
    assert visible("OCTOPUS 😀 שלום 漢字 É") == "OCTOPUS  שלום 漢字 É"  # every script but emoji has a font here
    assert visible("E\u0301TE\u0301") == "ÉTÉ"  # composed first, so the accent is not lost
    assert missing(["octopus 😀", "😀 ש"]) == ["😀"]
    assert missing(["plain words, ÀÉÎÕÜ ß 1-2"]) == []
    blank = draw_caption(group_words([WordTiming(word="😀", start=0, end=1)])[0], TINY)
    boxed = draw_caption(group_words([WordTiming(word="\U0010fffd", start=0, end=1)])[0], TINY)
    assert blank.outline.max() == 0 and boxed.outline.max() == 0  # nothing drawn, not a "missing" box


@pytest.fixture
def shorts_logger():
    """The CLI sets up the `shorts` logger for a terminal; put it back, so later tests' caplog still sees it."""
    logger = logging.getLogger("shorts")
    saved = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:], logger.propagate = saved[0], saved[2]
    logger.setLevel(saved[1])


@FEW
@given(topic=TOPICS)
def test_the_cli_answers_any_topic_with_one_line_before_starting_anything(
    topic, tmp_path, monkeypatch, capsys, shorts_logger
):
    """In-process, and stopped at the output folder (under a file, so it cannot be made): everything the CLI does
    with a topic before Prefect starts, for many topics, in well under a second each."""
    assume("\x00" not in topic)  # a real argv cannot hold NUL
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("SHORTS_OUTPUT_DIR", str(blocker))
    capsys.readouterr()
    assert main(["make", "--", topic]) == 2  # as a shell user passes a topic that may start with "-"
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == "" and len(lines) == 1 and lines[0].startswith("shorts: ") and "Traceback" not in lines[0]
    if "Cannot write to the output folder" in lines[0]:
        folder = Path(lines[0].split("output folder ", 1)[1].split(" (", 1)[0])
        assert folder.parent == blocker and folder.name == short_folder(ShortRequest(topic=topic).topic)
    else:
        assert lines[0].startswith("shorts: TOPIC: the topic is")


@pytest.mark.parametrize("topic", ["", " \t\n ", "\x00\x1b\u202e", "x" * (MAX_TOPIC_CHARS + 1), "😀" * 201])
def test_unusable_topics_get_one_sentence(topic):
    with pytest.raises(ValidationError) as caught:
        ShortRequest(topic=topic)
    message = explain(caught.value)
    assert message.count(".") >= 1 and "\n" not in message and message.startswith("TOPIC: the topic is")


def test_topics_that_differ_in_a_mark_or_in_another_script_get_their_own_folders():
    folders = [
        short_folder(topic)
        for topic in ("Black holes", "Black holes!", "ブラックホール", "ブラックホールの謎", "ثقب أسود")
    ]
    assert len(set(folders)) == len(folders)
    assert folders[0].startswith("black-holes-") and folders[2].startswith("ブラックホール-")
    assert folders[4].startswith("ثقب-أسود-")  # Arabic words kept, in their own order

import numpy as np

from pipeline import VideoFormat, WordTiming
from pipeline.render.captions import CaptionStyle, cues, group_words, render_caption, srt


def _words(text: str, step: float = 0.4) -> list[WordTiming]:
    return [WordTiming(word=w, start=i * step, end=(i + 1) * step) for i, w in enumerate(text.split())]


def test_groups_are_short_and_break_after_punctuation():
    groups = group_words(_words("Tiny crabs march. Across the sand every single night in huge numbers"))
    assert [g.text for g in groups][0] == "Tiny crabs march."
    assert all(len(g.words) <= 3 and len(g.text) <= 18 or len(g.words) == 1 for g in groups)
    assert all(a.end <= b.start for a, b in zip(groups, groups[1:]))


def test_cues_highlight_each_word_in_turn_without_gaps():
    groups = group_words(_words("one two three four"))
    timeline = cues(groups)
    assert [(c.group, c.highlight) for c in timeline] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert all(a.end == b.start for a, b in zip(timeline, timeline[1:]))


def test_srt_has_numbered_timed_blocks():
    text = srt(group_words(_words("one two three four", step=0.5)))
    assert text.startswith("1\n00:00:00,000 --> 00:00:01,500\none two three\n")
    assert "2\n00:00:01,500 --> 00:00:02,600\nfour" in text


def test_caption_image_sits_inside_the_safe_area_and_highlights_one_word():
    fmt = VideoFormat()
    group = group_words(_words("camouflage is clever"))[0]
    plain, x, y = render_caption(group, 0, fmt)
    other, _, _ = render_caption(group, 1, fmt)
    h, w = plain.shape[:2]
    assert plain.shape[2] == 4 and 0 < x and x + w < fmt.width
    assert 0.15 * fmt.height < y and y + h < 0.8 * fmt.height  # clear of the top bar and bottom UI
    yellow = lambda img: ((img[..., 0] > 200) & (img[..., 1] > 180) & (img[..., 2] < 80)).sum()  # noqa: E731
    assert yellow(plain) > 100 and yellow(other) > 100
    assert not np.array_equal(plain, other)


def test_very_long_word_is_shrunk_to_fit():
    fmt = VideoFormat(width=144, height=256)
    image, x, _ = render_caption(group_words(_words("Pneumonoultramicroscopicsilicovolcanoconiosis"))[0], 0, fmt,
                                 CaptionStyle())
    assert x >= 0 and x + image.shape[1] <= fmt.width

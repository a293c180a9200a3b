"""What a run leaves on its Prefect page shows a topic's (or a script's) words as words: no markup of theirs runs."""

import re
from pathlib import Path

from flows.artifacts import script_markdown, storyboard_markdown
from pipeline import Cost, Manifest, Scene, Script, ShortRequest, Storyboard

HOSTILE = "![x](https://evil.example/p.png) [click](javascript:alert(1)) <img src=x onerror=alert(1)> # | *bold*"


def test_hostile_words_in_a_script_and_a_storyboard_are_escaped():
    scene = Scene(index=1, narration=HOSTILE, first_frame_prompt=HOSTILE, motion_prompt="slow push in", seconds=5)
    script = Script(title=HOSTILE[:90], description=HOSTILE, tags=[HOSTILE[:30]], hook=HOSTILE, scenes=[scene])
    manifest = Manifest.model_construct(script=script, request=ShortRequest(topic="bees"))
    board = Storyboard.model_construct(
        title=HOSTILE,
        scenes=[],
        seconds=5,
        clip_provider="offline",
        clip_model="ken-burns",
        estimate=Cost(),
        narration=Cost(),
        path=Path("/nonexistent"),
    )
    for text in (script_markdown(manifest), storyboard_markdown(board)):
        for markup in (r"!\[", r"\]\(", "<img", "javascript:", r"\| \*bold"):  # none left unescaped
            assert not re.search(r"(?<!\\)" + markup, text), (markup, text)
        assert "javascript\\:alert" in text  # the words are all there, escaped

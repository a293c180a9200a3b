"""`shorts make` with no keys and a (fake) Wikipedia: a Short that says the article's facts over its free pictures
and credits them. (Unreachable Wikipedia, which gives the templates' script, is tested on the step in
tests/test_wikipedia.py: a whole run more would add 20 s to the suite.)"""

from __future__ import annotations

import json
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from fakes.wikipedia import FILES, FakeWikipedia
from shorts_process import make


def frames(video: Path) -> np.ndarray:
    reader = imageio_ffmpeg.read_frames(str(video))
    width, height = next(reader)["size"]
    return np.stack([np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader])


def share_near(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 24) -> float:
    return float((np.abs(pixels.astype(int) - colour).max(axis=-1) <= tolerance).mean())


@pytest.mark.flow
def test_a_keyless_short_says_the_articles_facts_over_its_free_pictures_and_credits_them(
    monkeypatch, on_prefect_server
):
    with FakeWikipedia() as fake:
        monkeypatch.setenv("SHORTS_SOURCE", "wikipedia")
        monkeypatch.setenv("SHORTS_WIKIPEDIA_URL", fake.url)
        run = make("How octopuses change colour", "--seconds", "15", "--scenes", "3")
    short = json.loads(run.stdout)
    manifest = json.loads(Path(short["manifest"]).read_text())
    script = json.loads(Path(short["script"]).read_text())

    assert (
        "source: “Octopus” (https://en.wikipedia.org/wiki/Octopus, revision 1234567), 2 free picture(s)" in run.stderr
    )
    narration = [scene["narration"] for scene in script["scenes"]]
    assert "200 milliseconds" in narration[0] and narration[-1].endswith("That is what Wikipedia says.")
    source = manifest["source"]
    assert (source["title"], source["revision"], source["licence"]) == ("Octopus", 1234567, "CC BY-SA 4.0")
    shown = [p["file"] for p in source["pictures"]]
    assert shown[0] == "File:Octopus2.jpg" and "File:Octopus logo.jpg" not in shown
    credits = [
        "Text: “Octopus”, Wikipedia (https://en.wikipedia.org/wiki/Octopus), CC BY-SA 4.0",
        *(f"Picture: {p['file'][5:]} by {p['author']}, {p['licence']}, {p['page']}" for p in source["pictures"]),
    ]
    assert manifest["attributions"] == credits
    assert script["description"].endswith("Sources:\n" + "\n".join(credits))  # what YouTube is sent
    assert json.loads(Path(short["published"], "script.json").read_text())["description"] == script["description"]

    video = frames(Path(short["video"]))
    lead = FILES["Octopus2.jpg"].colour
    assert share_near(video[0][-40:], lead) > 0.5  # the hook opens on the lead picture (below its phrase)
    for name in ("Octopus logo.jpg", "Octopus aquarium.jpg"):  # non-free, and CC BY-NC: never on screen
        assert share_near(video, FILES[name].colour) < 0.001

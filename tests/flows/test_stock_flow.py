"""`shorts make` with only a (fake) Pexels key, and with a folder of your own media, through Prefect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import pexels as fake_pexels
from fakes.pexels import FakePexels
from fakes.runway import video_bytes
from fakes.stock import CATALOGUE, words
from PIL import Image
from shorts_process import make

from pipeline.providers.folder.files import probe_video


@pytest.mark.flow
def test_only_a_pexels_key_makes_a_short_of_distinct_credited_clips_and_a_rerun_downloads_nothing(
    monkeypatch, on_prefect_server
):
    with FakePexels() as fake:
        monkeypatch.setenv("PEXELS_API_KEY", fake_pexels.KEY)
        monkeypatch.setenv("PEXELS_BASE_URL", fake.url)
        first = make("octopus camouflage", "--seconds", "9", "--scenes", "3")
        made = len(fake.requests)
        second = make("octopus camouflage", "--seconds", "9", "--scenes", "3")
    short = json.loads(first.stdout)
    manifest = json.loads(Path(short["manifest"]).read_text())
    script = json.loads(Path(short["script"]).read_text())

    assert (
        short["providers"]["video"] == "pexels" and "video   provider: pexels (PEXELS_API_KEY is set)" in first.stderr
    )
    assert "Footage: Pexels for 3 of 3 scenes, by " in first.stderr
    clips, scenes = manifest["clips"], manifest["script"]["scenes"]
    assert [c["provider"] for c in clips] == ["pexels"] * 3
    ids = [c["footage"]["id"] for c in clips]
    assert len(set(ids)) == 3  # one distinct clip per scene
    catalogue = {str(v.id): v for v in CATALOGUE}
    for clip, scene in zip(clips, scenes, strict=False):
        assert clip["footage"]["query"] in scene["search_terms"]  # found by that scene's own terms
        assert words(clip["footage"]["query"]) & words(catalogue[clip["footage"]["id"]].words)
    assert sorted(fake.downloads()) == sorted(f"/files/{i}/720x1280-{catalogue[i].seconds}s.mp4" for i in ids)

    credits = [
        f"Video by {catalogue[i].author} on Pexels: https://www.pexels.com/video/"
        f"{catalogue[i].words.replace(' ', '-')}-{i}/"
        for i in ids
    ]
    assert manifest["attributions"] == credits
    assert script["description"].endswith("Footage:\n" + "\n".join(credits))  # what YouTube is sent
    outbox_script = json.loads(Path(short["published"], "script.json").read_text())
    assert outbox_script["description"] == script["description"]
    assert probe_video(Path(short["video"]))[:2] == (144, 256)
    everything = first.stderr + first.stdout + Path(short["manifest"]).read_text()
    assert fake_pexels.KEY not in everything

    assert len(fake.requests) == made  # the rerun searched and downloaded nothing
    assert json.loads(second.stdout)["video"] == short["video"]


@pytest.mark.flow
def test_a_folder_of_images_and_videos_makes_a_short(tmp_path, on_prefect_server):
    media = tmp_path / "trip"
    media.mkdir()
    Image.new("RGB", (400, 300), (220, 120, 20)).save(media / "1-beach.jpg")
    (media / "2-waves.mp4").write_bytes(video_bytes(320, 180, 5))
    Image.new("RGB", (300, 500), (20, 80, 200)).save(media / "3-sky.png")
    short = json.loads(
        make("a day at the beach", "--seconds", "9", "--scenes", "3", "--video", f"folder:{media}").stdout
    )
    manifest = json.loads(Path(short["manifest"]).read_text())
    assert [(c["provider"], c["footage"]["id"]) for c in manifest["clips"]] == [
        ("folder", "1-beach.jpg"),
        ("folder", "2-waves.mp4"),
        ("folder", "3-sky.png"),
    ]
    assert manifest["providers"]["video"]["name"] == f"folder:{media}" and manifest["attributions"] == []
    assert probe_video(Path(short["video"]))[:2] == (144, 256)

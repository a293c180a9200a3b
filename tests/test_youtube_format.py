"""A video YouTube would not show as a Short (over 180 s, or wider than tall) is refused before any request."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.youtube import render_video

from pipeline import ConfigError, Scene, Script, ShortRequest, file_digest, publish_short
from pipeline.publish.youtube_format import check_is_short, probe
from pipeline.state.ledger import Ledger

SCRIPT = Script(
    title="Octopus camouflage",
    description="How octopuses vanish.",
    tags=["octopus"],
    hook="Gone.",
    scenes=[
        Scene(
            index=1,
            narration="Octopuses see with their skin.",
            first_frame_prompt="an octopus",
            motion_prompt="slow push in",
            seconds=5,
        )
    ],
)


def package(tmp_path: Path, **video) -> Path:
    folder = tmp_path / "out" / "octopus"
    folder.mkdir(parents=True)
    render_video(folder / "final.mp4", **video)
    return folder


@pytest.mark.parametrize(
    ("video", "expected"),
    [
        (
            {"seconds": 181},
            "Not uploaded as a Short: final.mp4 is 181 s long and a Short may be at most 180 s; the "
            "package stays in {folder}, so make it again with a lower --seconds or fewer scenes and rerun.",
        ),
        (
            {"width": 112, "height": 64},
            "Not uploaded as a Short: final.mp4 is 112x64, wider than tall, and a Short must "
            "be square or taller; the package stays in {folder}, so make it again vertical "
            "(SHORTS_WIDTH below SHORTS_HEIGHT, 720x1280 by default) and rerun.",
        ),
    ],
)
def test_a_video_that_is_no_short_is_refused_before_any_request(tmp_path, youtube, youtube_settings, video, expected):
    folder = package(tmp_path, **video)
    before = (folder / "final.mp4").read_bytes()
    with pytest.raises(ConfigError) as caught:
        publish_short(
            folder,
            SCRIPT,
            ShortRequest(topic="octopus camouflage", upload=True),
            youtube_settings,
            sleep=lambda s: None,
        )

    assert str(caught.value) == expected.format(folder=folder) and caught.value.step == "publish"
    assert youtube.requests == [] and youtube.inserts == 0  # YouTube was asked nothing
    assert (folder / "final.mp4").read_bytes() == before  # nothing lost
    assert Ledger(youtube_settings.paths.ledger).upload(file_digest(folder / "final.mp4"), "main") is None


def test_square_and_taller_videos_of_up_to_180_s_are_shorts(tmp_path):
    square = render_video(tmp_path / "square.mp4", width=64, height=64, seconds=180)
    tall = render_video(tmp_path / "tall.mp4", width=64, height=112, seconds=2)
    assert probe(square) == (64, 64, 180.0) and probe(tall) == (64, 112, 2.0)
    check_is_short(square)
    check_is_short(tall)


def test_a_file_that_is_no_video_is_refused_in_one_sentence(tmp_path):
    junk = tmp_path / "final.mp4"
    junk.write_bytes(b"not a video at all")
    with pytest.raises(
        ConfigError,
        match=r"^Not uploaded: .*final.mp4 cannot be read as a video to check that it "
        r"is a Short; the package stays in its folder, so make the Short again "
        r"and rerun.$",
    ):
        check_is_short(junk)

"""The storyboard sheet, its facts, and the per-scene takes that --redo-scene moves on."""

import math
from pathlib import Path

import pytest
from PIL import Image

from pipeline import (
    AssetStore,
    ConfigError,
    Cost,
    Settings,
    ShortRequest,
    Storyboard,
    choose_providers,
    make_first_frame,
    plan_storyboard,
    scene_takes,
    write_storyboard,
)
from pipeline.frames import scene_seed
from pipeline.providers.offline.image import OfflineImageMaker
from pipeline.providers.offline.script import OfflineScriptWriter
from pipeline.speech_text import spoken_text
from pipeline.storyboard import (
    BACKGROUND,
    StoryboardScene,
    cell_boxes,
    first_words,
    footer_lines,
    grid,
    preview_uri,
    sheet_size,
)

COLOURS = [(220, 40, 40), (40, 200, 60), (50, 80, 230), (240, 200, 20), (200, 60, 220)]


def solid_frames(tmp_path: Path, size=(144, 256)) -> list[Path]:
    paths = []
    for i, colour in enumerate(COLOURS, start=1):
        path = tmp_path / f"frame-{i}.png"
        Image.new("RGB", size, colour).save(path)
        paths.append(path)
    return paths


def board_of(frames: list[Path], **changes) -> Storyboard:
    scenes = [
        StoryboardScene(index=i, seconds=4.5, words=f"scene {i} words", frame=frame, clip=Cost(credits=25))
        for i, frame in enumerate(frames, start=1)
    ]
    facts = dict(
        title="Why cats purr",
        seconds=4.5 * len(scenes),
        scenes=scenes,
        clip_provider="runway",
        clip_model="gen4_turbo",
        estimate=Cost(credits=25 * len(scenes)),
    )
    return Storyboard(**{**facts, **changes})


def test_the_sheet_shows_each_frame_once_in_scene_order(tmp_path):
    frames = solid_frames(tmp_path)
    board = write_storyboard(board_of(frames), tmp_path / "out" / "storyboard.png")

    assert board.path == tmp_path / "out" / "storyboard.png"
    with Image.open(board.path) as sheet:
        sheet = sheet.convert("RGB")
    assert grid(5) == (3, 2)  # at most four a row, rows as even as they can be
    assert sheet.size == sheet_size(5, (144, 256)) == (960, sheet.size[1])
    boxes = cell_boxes(5, (144, 256))
    assert len(boxes) == 5
    for colour, (left, top, right, bottom) in zip(COLOURS, boxes, strict=False):
        assert (right - left, bottom - top) == (270, 480)  # the frame's shape, scaled up to be seen
        centre = sheet.getpixel(((left + right) // 2, (top + bottom) // 2))
        assert max(abs(a - b) for a, b in zip(centre, colour, strict=False)) <= 3
    # Where a sixth cell would be, there is only background: one cell per scene.
    left, top, right, bottom = boxes[2][0], boxes[3][1], boxes[2][2], boxes[3][3]
    assert sheet.getpixel(((left + right) // 2, (top + bottom) // 2)) == BACKGROUND


def test_a_sheet_of_the_same_board_is_kept_and_a_changed_board_is_drawn_again(tmp_path):
    frames, dest = solid_frames(tmp_path), tmp_path / "storyboard.png"
    write_storyboard(board_of(frames), dest)
    drawn = dest.stat().st_mtime_ns
    assert write_storyboard(board_of(frames), dest).path == dest and dest.stat().st_mtime_ns == drawn

    write_storyboard(board_of(frames, estimate=Cost(credits=999)), dest)
    assert dest.stat().st_mtime_ns != drawn
    with Image.open(dest) as sheet:  # a file that is not a sheet of this board is drawn over, not trusted
        assert sheet.size == sheet_size(5, (144, 256))
    dest.write_bytes(b"not a png")
    write_storyboard(board_of(frames), dest)
    with Image.open(dest) as sheet:
        assert sheet.size == sheet_size(5, (144, 256))


def test_the_sheet_keeps_a_readable_size_for_any_count(tmp_path):
    assert grid(1) == (1, 1) and grid(4) == (4, 1) and grid(6) == (3, 2) and grid(12) == (4, 3)
    assert sheet_size(1, (720, 1280))[0] == 960  # wide enough for the footer
    assert sheet_size(12, (144, 256))[0] == 4 * 270 + 5 * 24
    assert sheet_size(6, (720, 1280)) == sheet_size(6, (144, 256))  # the same sheet for tiny test frames

    frames = solid_frames(tmp_path)[:1]
    board = write_storyboard(board_of(frames, title="A title " * 30), tmp_path / "one.png")
    with Image.open(board.path) as sheet:
        assert sheet.size == sheet_size(1, (144, 256))
    assert preview_uri(board.path).startswith("data:image/jpeg;base64,")


def test_the_footer_states_title_length_clip_provider_model_and_estimate(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNWAYML_API_SECRET", "key_test")  # Runway clips are chosen; no call is made
    settings = Settings()
    request = ShortRequest(topic="octopus camouflage", seconds=30, scenes=6, image_provider="offline")
    script = OfflineScriptWriter().write(request)
    store = AssetStore(tmp_path / "assets")
    frames = [
        make_first_frame(s, request.style, settings.video_format, OfflineImageMaker(), store) for s in script.scenes
    ]

    board = plan_storyboard(script, frames, choose_providers(request, settings), settings)

    assert [s.index for s in board.scenes] == [1, 2, 3, 4, 5, 6]
    assert [s.frame for s in board.scenes] == [f.path for f in frames]
    assert board.scenes[0].words == first_words(script.scenes[0].narration)
    title, length, cost = footer_lines(board)
    assert title == script.title
    assert length == "30 s in 6 scenes · clips by runway gen4_turbo"
    # gen4_turbo: 5 credits a second, 5 s a scene; offline frames are free; the Runway key also picks Runway's voice,
    # about 1 credit per 50 characters begun, per scene; 1 credit is $0.01.
    speech = sum(math.ceil(len(spoken_text(s.narration, "en")[0]) / 50) for s in script.scenes)
    assert board.narration.credits == speech == 11 and board.estimate.credits == 150 + speech
    assert cost == (
        "Estimate: up to 161 credits ($1.61): 150 credits for 6 clips, 0 credits for first frames; "
        "narration up to 11 credits"
    )

    everything_offline = request.model_copy(update={"video_provider": "offline", "voice_provider": "offline"})
    offline = plan_storyboard(script, frames, choose_providers(everything_offline, settings), settings)
    assert footer_lines(offline)[1:] == [
        "30 s in 6 scenes · clips by offline shots-v1",
        "Estimate: up to 0 credits ($0.00): 0 credits for 6 clips, 0 credits for first frames",
    ]


def test_an_estimate_in_credits_and_dollars_says_both(tmp_path):
    scenes = [StoryboardScene(index=1, seconds=5, words="w", frame=tmp_path / "f.png", clip=Cost(usd=0.7))]
    board = Storyboard(
        title="t",
        seconds=5,
        scenes=scenes,
        clip_provider="runware",
        clip_model="klingai:5@3",
        estimate=Cost(credits=5, usd=0.7),
    )
    assert board.cost_line() == "up to 5 credits and $0.70 ($0.75): $0.70 for 1 clip, 5 credits for first frames"
    speech = Cost(characters=900)  # an ElevenLabs narration
    spoken = board.model_copy(update={"estimate": board.estimate + speech, "narration": speech})
    assert spoken.cost_line().endswith("5 credits for first frames; narration up to 900 characters")
    assert board.estimate_all_credits == 75


def test_narration_billed_in_credits_is_counted_as_narration_not_first_frames(tmp_path):
    scenes = [StoryboardScene(index=1, seconds=5, words="w", frame=tmp_path / "f.png", clip=Cost(credits=25))]
    board = Storyboard(
        title="t",
        seconds=5,
        scenes=scenes,
        clip_provider="runway",
        clip_model="gen4_turbo",
        estimate=Cost(credits=25 + 5 + 2),
        narration=Cost(credits=2),
    )  # a Runway first frame and Runway's voice
    assert board.cost_line() == (
        "up to 32 credits ($0.32): 25 credits for 1 clip, 5 credits for first frames; narration up to 2 credits"
    )


def test_first_words():
    assert first_words("one two three", 5) == "one two three"
    assert first_words("a b c d e f", 3) == "a b c …"


def test_redo_scene_moves_one_scene_to_its_next_take_and_keeps_it(tmp_path):
    script = OfflineScriptWriter().write(ShortRequest(topic="bees", seconds=15, scenes=3))
    assert scene_takes(tmp_path, script) == [1, 1, 1]
    assert not (tmp_path / "takes.json").exists()

    assert scene_takes(tmp_path, script, redo_scene=2) == [1, 2, 1]
    assert scene_takes(tmp_path, script) == [1, 2, 1]  # a later run keeps the redone take
    assert scene_takes(tmp_path, script, redo_scene=2) == [1, 3, 1]

    other = script.model_copy(
        update={
            "scenes": [
                script.scenes[0],
                script.scenes[1].model_copy(update={"first_frame_prompt": "another picture"}),
                script.scenes[2],
            ]
        }
    )
    assert scene_takes(tmp_path, other) == [1, 1, 1]  # a take belongs to the prompt it was drawn for

    with pytest.raises(ConfigError, match="--redo-scene 4: this Short has scenes 1 to 3"):
        scene_takes(tmp_path, script, redo_scene=4)
    (tmp_path / "takes.json").write_text("{not json")
    with pytest.raises(ConfigError, match="takes.json is not a list of takes; fix it, or delete it"):
        scene_takes(tmp_path, script)


def test_a_new_take_draws_the_scene_again_and_take_one_keeps_its_old_seed(tmp_path, tiny):
    scene = OfflineScriptWriter().write(ShortRequest(topic="bees", seconds=5, scenes=1)).scenes[0]
    store = AssetStore(tmp_path)
    first = make_first_frame(scene, "flat", tiny, OfflineImageMaker(), store)
    second = make_first_frame(scene, "flat", tiny, OfflineImageMaker(), store, take=2)

    assert first.seed == scene_seed("flat", scene.first_frame_prompt) and first.take == 1
    assert second.take == 2 and second.seed != first.seed and second.path != first.path
    assert first.path.read_bytes() != second.path.read_bytes()
    assert make_first_frame(scene, "flat", tiny, OfflineImageMaker(), store, take=2) == second  # stable


def test_a_cost_adds_unit_by_unit_and_says_each_unit_billed():
    clips = [Cost(credits=25), Cost(usd=0.35), Cost(usd=0.35)]
    assert sum(clips) == Cost(credits=25, usd=0.7) and Cost() + Cost(characters=900) == Cost(characters=900)
    assert Cost(usd=0.1) + Cost(usd=0.2) == Cost(usd=0.3)  # no float dust in a manifest
    assert not Cost() and Cost(characters=1)
    assert [str(c) for c in (Cost(), Cost(credits=12.5), Cost(usd=0.7), sum(clips) + Cost(characters=900))] == [
        "0 credits",
        "12.5 credits",
        "$0.70",
        "25 credits and $0.70 and 900 characters",
    ]
    assert [
        str(Cost.of(amount, unit)) for amount, unit in ((40.0, "credits"), (1.25, "usd"), (900.0, "characters"))
    ] == [
        "40 credits",
        "$1.25",
        "900 characters",
    ]  # a ledger's amount in its unit, as the caps' messages say it

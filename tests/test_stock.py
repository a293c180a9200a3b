"""Stock clips from Pexels and Pixabay, through fakes of both APIs on 127.0.0.1 serving real MP4 files."""

from __future__ import annotations

import logging

import pytest
from fakes import pexels as fake_pexels
from fakes import pixabay as fake_pixabay
from fakes.pexels import FakePexels
from fakes.pixabay import FakePixabay
from fakes.stock import CATALOGUE, words
from typer.testing import CliRunner

from flows.cli import app
from pipeline import (
    AssetStore,
    ConfigError,
    ProviderError,
    Scene,
    Script,
    Settings,
    ShortRequest,
    animate_scene,
    build_provider,
    choose_providers,
    footage_credits,
    footage_line,
    make_first_frame,
    pick_footage,
    with_credits,
)
from pipeline.providers.folder.files import probe_video
from pipeline.providers.offline.image import OfflineImageMaker
from pipeline.providers.offline.script import OfflineScriptWriter
from pipeline.publish.youtube_metadata import DESCRIPTION_MAX_BYTES, build_metadata
from pipeline.script_rules import SceneDraft, ScriptDraft


@pytest.fixture
def pexels(monkeypatch):
    with FakePexels() as fake:
        monkeypatch.setenv("PEXELS_API_KEY", fake_pexels.KEY)
        monkeypatch.setenv("PEXELS_BASE_URL", fake.url)
        yield fake


@pytest.fixture
def pixabay(monkeypatch):
    with FakePixabay() as fake:
        monkeypatch.setenv("PIXABAY_API_KEY", fake_pixabay.KEY)
        monkeypatch.setenv("PIXABAY_BASE_URL", fake.url)
        yield fake


def script_of(*terms: list[str], seconds: float = 3.0, tags=("octopus", "shorts")) -> Script:
    scenes = [
        Scene(
            index=i,
            narration="The octopus hides in plain sight.",
            first_frame_prompt=f"octopus, scene {i}",
            motion_prompt="slow push in",
            seconds=seconds,
            search_terms=t,
        )
        for i, t in enumerate(terms, 1)
    ]
    return Script(title="Octopus", description="How an octopus hides.", tags=list(tags), hook="Look.", scenes=scenes)


def test_each_scene_gets_a_distinct_portrait_clip_long_and_wide_enough_matched_by_its_terms(pexels, tmp_path, tiny):
    script = script_of(["octopus skin"], ["octopus skin"], ["coral reef"], ["octopus camouflage"])
    maker = build_provider("video", "pexels", Settings())
    picks = pick_footage(script, tiny, maker, AssetStore(tmp_path))

    assert [p.scene for p in picks] == [1, 2, 3, 4]
    assert len({p.id for p in picks}) == 4  # the same terms twice still give two clips
    assert [p.query for p in picks] == ["octopus skin", "octopus skin", "coral reef", "octopus camouflage"]
    catalogue = {str(v.id): v for v in CATALOGUE}
    for pick, scene in zip(picks, script.scenes, strict=False):
        assert words(pick.query) & words(catalogue[pick.id].words)
        assert pick.height > pick.width >= 720 and pick.seconds >= scene.seconds
    assert "103" not in {p.id for p in picks}  # 2 s: shorter than the scenes
    assert picks[0].url.endswith("/720x1280-8s.mp4")  # the smallest file that is wide enough
    assert pexels.searches() == ["octopus skin", "coral reef", "octopus camouflage"]  # one search per query
    assert all(r["params"]["orientation"] == "portrait" for r in pexels.requests)
    assert all(r["headers"]["Authorization"] == fake_pexels.KEY for r in pexels.requests)

    again = pick_footage(script, tiny, build_provider("video", "pexels", Settings()), AssetStore(tmp_path))
    assert again == picks and len(pexels.requests) == 3  # searches are kept in the store: the same clips, no request


def test_clips_are_downloaded_once_and_fitted_to_the_scene(pexels, tmp_path, tiny):
    script = script_of(["octopus camouflage"], ["ocean waves"])
    store, maker = AssetStore(tmp_path), build_provider("video", "pexels", Settings())
    picks = pick_footage(script, tiny, maker, store)
    clips = []
    for scene, pick in zip(script.scenes, picks, strict=False):
        frame = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), store)
        clips.append(animate_scene(scene, frame, tiny, maker, store, footage=pick))
    assert [c.provider for c in clips] == ["pexels", "pexels"] and [c.footage for c in clips] == picks
    width, height, seconds = probe_video(clips[0].path)
    assert (width, height) == tiny.size and 3.0 <= seconds <= 4.6  # cut to the scene, with room for its voice
    assert len(pexels.downloads()) == 2

    store_files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    for scene, frame_pick in zip(
        script.scenes, picks, strict=False
    ):  # the clips again, and again with the clip store emptied
        frame = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), store)
        animate_scene(scene, frame, tiny, maker, store, footage=frame_pick)
    for clip in clips:
        clip.path.unlink()
    remade = [
        animate_scene(s, make_first_frame(s, "neon", tiny, OfflineImageMaker(), store), tiny, maker, store, footage=p)
        for s, p in zip(script.scenes, picks, strict=False)
    ]
    assert all(c.path.is_file() for c in remade)
    assert len(pexels.downloads()) == 2  # the downloads are kept in the store
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == store_files
    assert footage_credits(clips) == [
        "Video by Ann Lee on Pexels: https://www.pexels.com/video/octopus-camouflage-reef-101/",
        "Video by Gil Ho on Pexels: https://www.pexels.com/video/ocean-waves-107/",
    ]


def test_broader_terms_then_the_offline_animator_say_so(pexels, tmp_path, tiny, caplog):
    script = script_of(["cephalopod disguise"], ["unicorn galaxy"])
    long_scene = script.scenes[1].model_copy(update={"seconds": 30.0})  # longer than any clip
    script = script.model_copy(update={"scenes": [script.scenes[0], long_scene]})
    maker = build_provider("video", "pexels", Settings())
    with caplog.at_level(logging.INFO, logger="shorts"):
        picks = pick_footage(script, tiny, maker, AssetStore(tmp_path))
    assert picks[0].query == "octopus" and picks[1] is None  # the script's tag
    assert "scene 1: no Pexels clip for 'cephalopod disguise', so took one for the broader 'octopus'" in caplog.text
    assert (
        "scene 2: no Pexels clip of 30 s or more for 'unicorn galaxy', 'unicorn', 'galaxy' or 'octopus', so its "
        "first frame is animated offline" in caplog.text
    )

    scene = script.scenes[1]
    frame = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), AssetStore(tmp_path))
    clip = animate_scene(scene, frame, tiny, maker, AssetStore(tmp_path), footage=None)
    assert clip.provider == "offline" and clip.footage is None and probe_video(clip.path)[:2] == tiny.size


def test_pixabay_clips_are_portrait_and_credited_and_its_key_stays_out_of_errors(pixabay, tmp_path, tiny):
    script = script_of(["octopus camouflage"], ["coral reef"])
    maker = build_provider("video", "pixabay", Settings())
    picks = pick_footage(script, tiny, maker, AssetStore(tmp_path))
    assert [p.id for p in picks] == ["101", "105"]  # 106 (coral reef) is landscape
    assert (picks[0].width, picks[0].height) == (720, 1280)  # medium: the smallest at least 720 wide
    assert picks[0].credit() == "Video by AnnLee on Pixabay: https://pixabay.com/videos/octopus-camouflage-reef-101/"
    assert [r["params"]["key"] for r in pixabay.requests] == [fake_pixabay.KEY] * 2

    bad = Settings(PIXABAY_API_KEY="fake-wrong-key")
    with pytest.raises(ConfigError) as refused:
        pick_footage(script_of(["ocean"]), tiny, build_provider("video", "pixabay", bad), AssetStore(tmp_path / "b"))
    assert "Pixabay refused PIXABAY_API_KEY (400)" in str(refused.value) and "fake-wrong-key" not in str(refused.value)


def test_a_refused_key_and_a_rate_limit_are_one_sentence_each(pexels, tmp_path, tiny, monkeypatch):
    monkeypatch.setenv("PEXELS_API_KEY", "fake-wrong-key")
    with pytest.raises(ConfigError) as refused:
        pick_footage(script_of(["ocean"]), tiny, build_provider("video", "pexels", Settings()), AssetStore(tmp_path))
    assert str(refused.value).startswith("Pexels refused PEXELS_API_KEY (401) while searching for 'ocean'")
    assert refused.value.step == "footage"

    monkeypatch.setenv("PEXELS_API_KEY", fake_pexels.KEY)
    pexels.status = 429
    with pytest.raises(ProviderError) as limited:
        pick_footage(script_of(["ocean"]), tiny, build_provider("video", "pexels", Settings()), AssetStore(tmp_path))
    assert "too many requests (429)" in str(limited.value) and limited.value.retry_safe


def test_auto_takes_stock_only_after_the_paid_vendors(monkeypatch):
    request = ShortRequest(topic="octopus")
    monkeypatch.setenv("PIXABAY_API_KEY", fake_pixabay.KEY)
    assert choose_providers(request, Settings())["video"].name == "pixabay"
    monkeypatch.setenv("PEXELS_API_KEY", fake_pexels.KEY)
    choice = choose_providers(request, Settings())["video"]
    assert (choice.name, choice.reason) == ("pexels", "PEXELS_API_KEY is set")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-0000")  # first frames would be paid for, and only fill the board
    image = choose_providers(request, Settings())["image"]
    assert (image.name, image.reason) == (
        "offline",
        "the clips come from pexels, so paid first frames would only fill the storyboard",
    )
    assert (
        choose_providers(request.model_copy(update={"image_provider": "openai"}), Settings())["image"].name == "openai"
    )
    monkeypatch.setenv("RUNWARE_API_KEY", "fake-runware-key")
    assert [choose_providers(request, Settings())[step].name for step in ("image", "video")] == ["openai", "runware"]
    with pytest.raises(ConfigError, match="--video pexels needs PEXELS_API_KEY"):
        build_provider("video", "pexels", Settings(PEXELS_API_KEY=""))


def test_credits_end_the_description_and_survive_youtubes_limit():
    script = script_of(["ocean"]).model_copy(update={"description": "word " * 2000})
    credits = ["Video by Ann Lee on Pexels: https://www.pexels.com/video/ocean-1/"]
    credited = with_credits(script, credits)
    assert credited.description.endswith("\n\nFootage:\n" + credits[0])
    assert len(credited.description.encode()) <= DESCRIPTION_MAX_BYTES
    assert build_metadata(credited, "en").description == credited.description
    assert with_credits(script, []) is script


def test_scripts_carry_search_terms_from_the_writer_or_derived_from_the_scene():
    draft = ScriptDraft(
        title="T",
        description="D",
        tags=[],
        hook="H",
        scenes=[
            SceneDraft(
                narration="N.",
                first_frame_prompt="A red fox in snow",
                motion_prompt="pan",
                search_terms=["  Red Fox!", "snow field", "red fox"],
            ),
            SceneDraft(
                narration="N.",
                first_frame_prompt="bright, cinematic close-up of a lighthouse at dusk",
                motion_prompt="pan",
            ),
        ],
    )  # an answer from before search terms: derived from the prompt
    scenes = draft.to_script([2.0, 2.0]).scenes
    assert [s.search_terms for s in scenes] == [["red fox", "snow field"], ["lighthouse dusk", "lighthouse", "dusk"]]
    offline = OfflineScriptWriter().write(ShortRequest(topic="How octopuses change colour", seconds=10, scenes=2))
    assert all(s.search_terms[0] == "octopuses change colour" for s in offline.scenes)
    old = offline.scenes[0].model_dump(exclude={"search_terms"})  # a script cached before terms existed
    assert Scene.model_validate(old).search_terms == []


def test_the_storyboard_and_doctor_name_the_stock_source_and_its_credits(pexels, tmp_path, tiny):
    script = script_of(["octopus camouflage"], ["unicorn galaxy"], tags=())
    picks = pick_footage(script, tiny, build_provider("video", "pexels", Settings()), AssetStore(tmp_path))
    assert (
        footage_line(picks) == "Footage: Pexels for 1 of 2 scenes, by Ann Lee (credited in the description); "
        "scene 2 animated offline"
    )
    doctor = CliRunner().invoke(app, ["doctor"])
    assert "video   provider: pexels (PEXELS_API_KEY is set)" in doctor.output
    assert (
        "Stock footage: Pexels key set (--video pexels); each clip's author and link go in the manifest and "
        "the YouTube description"
        in doctor.output
        and fake_pexels.KEY not in doctor.output
    )

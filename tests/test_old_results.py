"""Prefect's result records are pickles of our models: one written before a field was added, or before costs were
one value, still loads; so does a manifest.json an older version wrote, and a storyboard it drew is kept."""

import base64
import json
import pickle
from pathlib import Path

from PIL import Image

from pipeline import (
    ClipAsset,
    Cost,
    FrameAsset,
    Manifest,
    Narration,
    ProviderChoice,
    RenderedShort,
    RenderOptions,
    Scene,
    Script,
    ShortRequest,
    Storyboard,
    VideoFormat,
    WordTiming,
    write_storyboard,
)
from pipeline.models import Speech
from pipeline.storyboard import SHEET_KEY


def test_a_narration_pickled_before_its_newer_fields_loads_with_their_defaults():
    made = Narration(
        scene=1,
        path=Path("voice.wav"),
        seconds=2.0,
        provider="offline",
        voice="en",
        timing="audio",
        words=[WordTiming(word="Hello", start=0.1, end=0.5)],
        cost=Cost(characters=12),
        model="espeak-ng",
    )
    state = made.__getstate__()
    for added in ("cost", "model", "package", "license"):  # what an earlier version did not have
        del state["__dict__"][added]
    old = Narration.__new__(Narration)
    old.__setstate__(state)
    loaded = pickle.loads(pickle.dumps(old))
    assert (loaded.cost, loaded.model, loaded.package, loaded.license) == (Cost(), None, None, None)
    assert loaded.words == made.words and loaded.provider == "offline"


# Pickled by the version before Cost (commit 670ce3c), each unit of a cost its own field:
# FrameAsset(scene=2, path=Path("frames/ab.png"), provider="openai", model="gpt-image-2", seed=7, prompt="a reef",
# cost_usd=0.11), ClipAsset(scene=2, path=Path("clips/cd.mp4"), provider="runway", model="gen4_turbo", seed=7,
# seconds=5.0, task_id="t-1", cost_credits=25.0), the same of Runware (scene 3, seed 8, "u-1", cost_usd=0.35), and
# Narration(scene=2, ..., provider="runway", voice="Maya", timing="pauses", characters=40, cost_credits=2.0).
OLD_FRAME = (
    "gASVWQEAAAAAAACMD3BpcGVsaW5lLm1vZGVsc5SMCkZyYW1lQXNzZXSUk5QpgZR9lCiMCF9fZGljdF9flH2UKIwFc2NlbmWUSwKMBHBhdGiUjAdwYXR"
    "obGlilIwJUG9zaXhQYXRolJOUjAZmcmFtZXOUjAZhYi5wbmeUhpRSlIwIcHJvdmlkZXKUjAZvcGVuYWmUjAVtb2RlbJSMC2dwdC1pbWFnZS0ylIwEc2"
    "VlZJRLB4wGcHJvbXB0lIwGYSByZWVmlIwHdGFza19pZJROjAxjb3N0X2NyZWRpdHOURwAAAAAAAAAAjAhjb3N0X3VzZJRHP7wo9cKPXCmMBHRha2WUS"
    "wF1jBJfX3B5ZGFudGljX2V4dHJhX1+UTowXX19weWRhbnRpY19maWVsZHNfc2V0X1+Uj5QoaAhoEGgXaBVoEmgUaAdoGZCMFF9fcHlkYW50aWNfcHJp"
    "dmF0ZV9flE51Yi4="
)
OLD_CLIP = (
    "gASVXgEAAAAAAACMD3BpcGVsaW5lLm1vZGVsc5SMCUNsaXBBc3NldJSTlCmBlH2UKIwIX19kaWN0X1+UfZQojAVzY2VuZZRLAowEcGF0aJSMB3BhdGh"
    "saWKUjAlQb3NpeFBhdGiUk5SMBWNsaXBzlIwGY2QubXA0lIaUUpSMCHByb3ZpZGVylIwGcnVud2F5lIwFbW9kZWyUjApnZW40X3R1cmJvlIwEc2VlZJ"
    "RLB4wHc2Vjb25kc5RHQBQAAAAAAACMB3Rhc2tfaWSUjAN0LTGUjAxjb3N0X2NyZWRpdHOUR0A5AAAAAAAAjAhjb3N0X3VzZJRHAAAAAAAAAACMB2Zvb"
    "3RhZ2WUTnWMEl9fcHlkYW50aWNfZXh0cmFfX5ROjBdfX3B5ZGFudGljX2ZpZWxkc19zZXRfX5SPlChoCGgQaBZoEmgYaBRoB2gVkIwUX19weWRhbnRp"
    "Y19wcml2YXRlX1+UTnViLg=="
)
OLD_RUNWARE_CLIP = (
    "gASVYAEAAAAAAACMD3BpcGVsaW5lLm1vZGVsc5SMCUNsaXBBc3NldJSTlCmBlH2UKIwIX19kaWN0X1+UfZQojAVzY2VuZZRLA4wEcGF0aJSMB3BhdGh"
    "saWKUjAlQb3NpeFBhdGiUk5SMBWNsaXBzlIwGZWYubXA0lIaUUpSMCHByb3ZpZGVylIwHcnVud2FyZZSMBW1vZGVslIwLa2xpbmdhaTo2QDGUjARzZW"
    "VklEsIjAdzZWNvbmRzlEdAFAAAAAAAAIwHdGFza19pZJSMA3UtMZSMDGNvc3RfY3JlZGl0c5RHAAAAAAAAAACMCGNvc3RfdXNklEc/1mZmZmZmZowHZ"
    "m9vdGFnZZROdYwSX19weWRhbnRpY19leHRyYV9flE6MF19fcHlkYW50aWNfZmllbGRzX3NldF9flI+UKGgIaBBoGWgWaBJoFGgHaBWQjBRfX3B5ZGFu"
    "dGljX3ByaXZhdGVfX5ROdWIu"
)
OLD_NARRATION = (
    "gASVxAEAAAAAAACMD3BpcGVsaW5lLm1vZGVsc5SMCU5hcnJhdGlvbpSTlCmBlH2UKIwIX19kaWN0X1+UfZQojAVzY2VuZZRLAowEcGF0aJSMB3BhdGh"
    "saWKUjAlQb3NpeFBhdGiUk5SMBXZvaWNllIwGZ2gud2F2lIaUUpSMB3NlY29uZHOUR0AQAAAAAAAAjAhwcm92aWRlcpSMBnJ1bndheZRoDIwETWF5YZ"
    "SMBXdvcmRzlF2UaACMCldvcmRUaW1pbmeUk5QpgZR9lChoBX2UKIwEd29yZJSMAkhplIwFc3RhcnSURz+5mZmZmZmajANlbmSURz/ZmZmZmZmadYwSX"
    "19weWRhbnRpY19leHRyYV9flE6MF19fcHlkYW50aWNfZmllbGRzX3NldF9flI+UKGgbaB1oHpCMFF9fcHlkYW50aWNfcHJpdmF0ZV9flE51YmGMBnRp"
    "bWluZ5SMBnBhdXNlc5SMBW1vZGVslE6MCmNoYXJhY3RlcnOUSyiMDGNvc3RfY3JlZGl0c5RHQAAAAAAAAACMB3BhY2thZ2WUTowHbGljZW5zZZROdWg"
    "fTmggj5QoaAhoI2gRaBRoJ2gmaAdoEGgMkGgiTnViLg=="
)
# Storyboard(title="Bees", seconds=10, scenes=[StoryboardScene(index=1, seconds=5, words="w",
# frame=Path("frames/a.png"), clip_credits=25), StoryboardScene(index=2, seconds=5, words="x",
# frame=Path("frames/b.png"), take=2, clip_usd=0.35)], clip_provider="runway", clip_model="gen4_turbo",
# estimate_credits=32, estimate_usd=0.35, estimate_characters=900, narration_credits=2,
# footage="Stock footage: Pexels"), pickled by that version; and the key its sheet was drawn for.
OLD_BOARD = (
    "gASVwQIAAAAAAACME3BpcGVsaW5lLnN0b3J5Ym9hcmSUjApTdG9yeWJvYXJklJOUKYGUfZQojAhfX2RpY3RfX5R9lCiMBXRpdGxllIwEQmVlc5SMB3N"
    "lY29uZHOUR0AkAAAAAAAAjAZzY2VuZXOUXZQoaACMD1N0b3J5Ym9hcmRTY2VuZZSTlCmBlH2UKGgFfZQojAVpbmRleJRLAWgJR0AUAAAAAAAAjAV3b3"
    "Jkc5SMAXeUjAVmcmFtZZSMB3BhdGhsaWKUjAlQb3NpeFBhdGiUk5SMBmZyYW1lc5SMBWEucG5nlIaUUpSMBHRha2WUSwGMDGNsaXBfY3JlZGl0c5RHQ"
    "DkAAAAAAACMCGNsaXBfdXNklEcAAAAAAAAAAHWMEl9fcHlkYW50aWNfZXh0cmFfX5ROjBdfX3B5ZGFudGljX2ZpZWxkc19zZXRfX5SPlChoFGgSaAlo"
    "HWgRkIwUX19weWRhbnRpY19wcml2YXRlX1+UTnViaA0pgZR9lChoBX2UKGgRSwJoCUdAFAAAAAAAAGgSjAF4lGgUaBdoGIwFYi5wbmeUhpRSlGgcSwJ"
    "oHUcAAAAAAAAAAGgeRz/WZmZmZmZmdWgfTmggj5QoaBRoEmgJaB5oEWgckGgiTnViZYwNY2xpcF9wcm92aWRlcpSMBnJ1bndheZSMCmNsaXBfbW9kZW"
    "yUjApnZW40X3R1cmJvlIwQZXN0aW1hdGVfY3JlZGl0c5RHQEAAAAAAAACMDGVzdGltYXRlX3VzZJRHP9ZmZmZmZmaME2VzdGltYXRlX2NoYXJhY3Rlc"
    "nOUTYQDjBFuYXJyYXRpb25fY3JlZGl0c5RHQAAAAAAAAACMB2Zvb3RhZ2WUjBVTdG9jayBmb290YWdlOiBQZXhlbHOUjARwYXRolE51aB9OaCCPlCho"
    "MWgzaC1oCWgraApoMmgwaC9oB5BoIk51Yi4="
)
OLD_BOARD_KEY = "71681a0e7a271ff32af40c8e7ec1da12"


def unpickled(text: str):
    return pickle.loads(base64.b64decode(text))


def test_assets_pickled_with_a_field_per_unit_load_with_one_cost():
    frame, clip, runware, narration = map(unpickled, (OLD_FRAME, OLD_CLIP, OLD_RUNWARE_CLIP, OLD_NARRATION))
    assert isinstance(frame, FrameAsset) and (frame.cost, frame.take, frame.seed) == (Cost(usd=0.11), 1, 7)
    assert isinstance(clip, ClipAsset) and (clip.cost, clip.task_id, clip.path) == (
        Cost(credits=25),
        "t-1",
        Path("clips/cd.mp4"),
    )
    assert runware.cost == Cost(usd=0.35) and runware.provider == "runware"
    assert narration.cost == Cost(credits=2, characters=40) and narration.words == [
        WordTiming(word="Hi", start=0.1, end=0.4)
    ]
    assert "cost" in clip.model_fields_set and "cost_credits" not in clip.__dict__
    assert pickle.loads(pickle.dumps(clip)) == clip  # and pickles again in the new shape
    assert sum([frame.cost, clip.cost, runware.cost, narration.cost]) == Cost(credits=27, usd=0.46, characters=40)


def test_a_storyboard_pickled_before_keeps_its_estimate_and_its_sheet(tmp_path, monkeypatch):
    board = unpickled(OLD_BOARD)
    assert isinstance(board, Storyboard)
    assert (board.estimate, board.narration) == (
        Cost(credits=32, usd=0.35, characters=900),
        Cost(credits=2, characters=900),
    )
    assert [s.clip for s in board.scenes] == [Cost(credits=25), Cost(usd=0.35)] and board.scenes[1].take == 2
    assert board.cost_line() == (
        "up to 32 credits and $0.35 ($0.67): 25 credits and $0.35 for 2 clips, 5 credits for first frames; "
        "narration up to 2 credits and 900 characters"
    )  # as that version said it
    monkeypatch.chdir(tmp_path)  # its frames are named relative to here
    Path("frames").mkdir()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (144, 256), (40, 200, 60)).save(Path("frames") / name)
    drawn = write_storyboard(board, tmp_path / "storyboard.png")
    with Image.open(drawn.path) as sheet:
        assert sheet.text[SHEET_KEY] == OLD_BOARD_KEY  # so the sheet that version drew is kept, not drawn again


def test_a_manifest_json_written_with_a_field_per_unit_reads_as_one_cost(tmp_path):
    scene = Scene(index=1, narration="Bees dance.", first_frame_prompt="a hive", motion_prompt="push in", seconds=5)
    script = Script(title="Bees", description="d", tags=["bees"], hook="Bees dance.", scenes=[scene])
    frame, clip, narration = unpickled(OLD_FRAME), unpickled(OLD_CLIP), unpickled(OLD_NARRATION)
    made = Manifest(
        shorts_version="test",
        request=ShortRequest(topic="bees"),
        providers={"video": ProviderChoice(step="video", name="runway", reason="test")},
        video_format=VideoFormat(),
        render_options=RenderOptions(),
        script=script,
        frames=[frame],
        clips=[clip],
        narrations=[narration],
        render=RenderedShort(video=Path("final.mp4"), captions=Path("c.srt"), seconds=5, width=720, height=1280),
        step_seconds={},
        cost=frame.cost + clip.cost + narration.cost,
        attributions=["Video by Ann Lee on Pexels"],
    )
    # The same manifest as that version wrote it: a field per unit, in the assets and the total, and `credits`.
    old = json.loads(made.model_dump_json())
    for asset in (*old["frames"], *old["clips"]):
        cost = asset.pop("cost")
        asset |= {"cost_credits": cost["credits"], "cost_usd": cost["usd"]}
    for asset in old["narrations"]:
        cost = asset.pop("cost")
        asset |= {"characters": cost["characters"], "cost_credits": cost["credits"]}
    cost = old.pop("cost")
    old |= {f"cost_{unit}": amount for unit, amount in cost.items()} | {"credits": old.pop("attributions")}
    assert '"cost":' not in json.dumps(old) and '"attributions":' not in json.dumps(old)

    assert Manifest.model_validate_json(json.dumps(old)) == made
    assert made.cost == Cost(credits=27, usd=0.11, characters=40)


def test_what_the_store_kept_beside_a_voice_before_reads_as_one_cost():
    # A paid voice's audio is kept with what it billed; a rerun reads that file instead of speaking (and paying) again.
    kept = '{"words": null, "characters": 40, "cost_credits": 2.0, "voice": "Maya", "model": null, "package": null}'
    speech = Speech.model_validate_json(kept)
    assert (speech.cost, speech.voice) == (Cost(credits=2, characters=40), "Maya")

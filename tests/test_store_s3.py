"""The asset store on a local S3-compatible server (moto): what one machine makes, another finds without paying."""

from __future__ import annotations

import httpx

from pipeline import Scene, Settings, build_provider, make_first_frame, open_store
from pipeline.state.store import AssetStore, RemoteStore, content_key


def test_a_saved_asset_is_found_through_another_machines_cache(s3_store_url, tmp_path):
    remote = RemoteStore(f"{s3_store_url}/assets")
    a, b = AssetStore(tmp_path / "a", remote), AssetStore(tmp_path / "b", remote)
    key = content_key("clip", prompt="squid")
    made = a.path("clips", key, ".mp4")
    made.parent.mkdir(parents=True)
    made.write_bytes(b"not really a video")
    assert b.find("clips", key, ".mp4") is None  # made, but not yet saved: no one else sees it
    a.saved(made)

    found = b.find("clips", key, ".mp4")
    assert found == tmp_path / "b" / "clips" / f"{key}.mp4" and found.read_bytes() == b"not really a video"
    assert not list((tmp_path / "b").rglob("*.part*"))  # fetched under a temporary name, then renamed
    # A path from machine A's result record, on a machine C that has never seen the file:
    c = AssetStore(tmp_path / "c", remote)
    assert c.local(made.with_name(made.name)) == tmp_path / "c" / "clips" / f"{key}.mp4"
    assert c.local(tmp_path / "elsewhere" / "clips" / "missing.mp4").name == "missing.mp4"  # unknown: unchanged

    link = a.link(made, seconds=60)
    assert "Expires=" in link and "fake-secret" not in link
    assert httpx.get(link, timeout=10).content == b"not really a video"  # opens with no credentials


def test_without_a_store_url_the_store_is_local_only(tmp_path):
    store = open_store(Settings())
    assert store.remote is None and store.root == Settings().home_dir / "assets"
    path = tmp_path / "x.png"
    path.write_bytes(b"png")
    assert store.local(path) == path and store.link(path) is None and store.saved(path) == path
    assert (tmp_path / "x.png.sum").is_file()  # the record of what was stored, kept beside it


def test_a_frame_bought_on_one_machine_is_not_bought_on_another(s3_store_url, runway, monkeypatch, tmp_path, tiny):
    monkeypatch.setenv("SHORTS_STORE_URL", s3_store_url)
    scene = Scene(
        index=1, narration="Squid glow.", first_frame_prompt="a glowing squid", motion_prompt="drift", seconds=5
    )
    made = []
    for machine in ("a", "b"):  # separate homes, and separate (local) ledgers: only the bucket is shared
        monkeypatch.setenv("SHORTS_HOME", str(tmp_path / machine))
        settings = Settings()
        maker = build_provider("image", "runway", settings)
        made.append(make_first_frame(scene, "watercolor", tiny, maker, open_store(settings)))
    assert len(runway.seen("POST", "/v1/text_to_image")) == 1
    assert made[1].path == tmp_path / "b" / "assets" / "frames" / made[0].path.name
    assert made[1].path.read_bytes() == made[0].path.read_bytes()


def test_doctor_names_the_shared_ledger_and_bucket_without_the_password(s3_store_url, postgres_url, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app

    password_url = postgres_url.replace("postgres@", "postgres:fake-pw-123@")  # trust auth ignores it
    monkeypatch.setenv("SHORTS_DATABASE_URL", password_url)
    monkeypatch.setenv("SHORTS_STORE_URL", s3_store_url)
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert f"ledger: {postgres_url} (shared)" in result.output and "(reachable)" in result.output
    assert "fake-pw-123" not in result.output

    monkeypatch.setenv("SHORTS_STORE_URL", "s3://no-such-bucket-here/x")
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1, result.output
    assert "bucket 'no-such-bucket-here' of SHORTS_STORE_URL does not exist" in result.output, result.output

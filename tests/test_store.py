from pathlib import Path

import pytest

from pipeline.state.store import AssetStore, atomic_path, content_key


def test_content_key_depends_on_file_content_not_location(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    assert content_key("clip", frame=a, seconds=5) == content_key("clip", frame=b, seconds=5)
    b.write_bytes(b"different")
    assert content_key("clip", frame=a, seconds=5) != content_key("clip", frame=b, seconds=5)
    assert content_key("clip", frame=a, seconds=5) != content_key("clip", frame=a, seconds=10)


def test_atomic_path_leaves_nothing_behind_on_failure(tmp_path):
    final = tmp_path / "out" / "final.mp4"
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_bytes(b"half a video")
        raise RuntimeError("encoder died")
    assert not final.exists() and list(final.parent.iterdir()) == []


def test_store_find_treats_missing_or_empty_files_as_misses(tmp_path):
    store = AssetStore(tmp_path)
    path = store.path("clips", "k", ".mp4")
    assert store.find("clips", "k", ".mp4") is None
    with atomic_path(path) as tmp:
        tmp.write_bytes(b"")
    assert store.find("clips", "k", ".mp4") is None
    path.write_bytes(b"data")
    assert store.find("clips", "k", ".mp4") == path
    assert isinstance(path, Path)

"""Files only their owner can read: SHORTS_HOME 0700, the ledger (and its journals) and secrets 0600, created so
and narrowed when found open (as `ls -l` would show them)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pipeline import ConfigError, Settings, make_private, open_ledger, private_home, private_secret


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_home_and_ledger_are_readable_by_their_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("SHORTS_HOME", str(tmp_path / "home"))
    settings = Settings()
    private_home(settings.home_dir)
    open_ledger(settings)
    assert _mode(settings.home_dir) == 0o700
    assert _mode(settings.paths.ledger) == 0o600
    for journal in settings.home_dir.glob("ledger.sqlite-*"):  # SQLite gives its WAL files the database's mode
        assert _mode(journal) == 0o600, journal


def test_a_home_and_ledger_found_open_are_narrowed(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    (home / "ledger.sqlite").touch(mode=0o644)
    (home / "ledger.sqlite").chmod(0o644)
    monkeypatch.setenv("SHORTS_HOME", str(home))
    settings = Settings()
    private_home(home)
    open_ledger(settings)
    assert (_mode(home), _mode(home / "ledger.sqlite")) == (0o700, 0o600)


def test_a_secret_is_made_once_private_and_the_same_for_every_reader(tmp_path):
    path = tmp_path / "login"
    first = private_secret(path)
    assert first.startswith("shorts:") and len(first) > 30
    assert _mode(path) == 0o600
    path.chmod(0o644)  # someone copied it about with cp -p
    assert private_secret(path) == first and _mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["login"]  # nothing left aside


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_token_or_folder_found_readable_by_others_is_made_private(tmp_path, kind):
    secret = tmp_path / "main.json"
    secret.mkdir() if kind == "folder" else secret.write_text("{}")
    secret.chmod(0o755 if kind == "folder" else 0o644)
    assert make_private(secret) is True
    assert _mode(secret) == (0o700 if kind == "folder" else 0o600)
    assert make_private(secret) is False  # already private: left as it is


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_token_that_belongs_to_another_user_is_refused_in_one_sentence(tmp_path):
    token = tmp_path / "main.json"
    token.write_text("{}")
    os.chown(token, 12345, 12345)
    with pytest.raises(ConfigError) as refused:
        make_private(token)
    assert str(refused.value) == (
        f"{token} belongs to another user (uid 12345); move it away and create it again "
        "as yourself, so no one else can read or replace it."
    )

"""The background Prefect server `shorts make` starts once per SHORTS_HOME and reuses."""

from __future__ import annotations

import subprocess

import httpx

from local_prefect import clean_env
from shorts_process import SHORTS


def _shorts(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([SHORTS, *args], env=env, capture_output=True, text=True, timeout=300)


def test_server_start_reuse_status_and_stop(tmp_path):
    env = clean_env(SHORTS_HOME=str(tmp_path / "home"), SHORTS_SERVER_IDLE_MINUTES="1")
    first = _shorts("server", "start", env=env)
    assert first.returncode == 0, first.stderr
    assert "Starting a local Prefect server" in first.stderr
    api = first.stdout.split("running: ")[1].strip()
    assert httpx.get(f"{api}/health").status_code == 200
    try:
        again = _shorts("server", "start", env=env)  # found and reused, not started twice
        assert again.stdout == first.stdout and "Starting" not in again.stderr
        status = _shorts("server", "status", env=env)
        assert status.stdout.startswith(f"running: {api} (pid ")
        mine = _shorts("server", "start", env={**env, "PREFECT_API_URL": "http://127.0.0.1:9/api"})
        assert mine.stdout.strip() == "running: http://127.0.0.1:9/api"  # the user's API wins
    finally:
        stopped = _shorts("server", "stop", env=env)
    assert stopped.stdout.startswith("stopped (pid ")
    assert _shorts("server", "status", env=env).stdout.strip() == "not running"
    assert not (tmp_path / "home" / "prefect-server" / "server.json").exists()

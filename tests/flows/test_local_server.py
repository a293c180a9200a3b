"""The background Prefect server `shorts make` starts once per SHORTS_HOME and reuses."""

from __future__ import annotations

import json
import os
import subprocess

import httpx

from flows.local_server import ensure_server, server_dir
from local_prefect import clean_env
from fakes.loopback import LoopbackFake, send
from pipeline import Settings
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


class SlowHealth(LoopbackFake):
    """A server that answers /health with 503 `slow` times first, as a busy one on a loaded machine times out."""

    def __init__(self, slow: int) -> None:
        super().__init__()
        self.slow = slow

    def answer(self, h) -> None:
        with self.lock:
            self.requests.append({"path": h.path})
            late = len(self.requests) <= self.slow
        send(h, 503 if late else 200, None)


def test_a_server_slow_to_answer_is_waited_for_not_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "")  # none of the user's; restored after ensure_server sets ours
    monkeypatch.setenv("SHORTS_HOME", str(tmp_path / "home"))
    settings = Settings()
    with SlowHealth(slow=3) as fake:
        api = f"{fake.root}/api"
        state_file = server_dir(settings) / "server.json"
        state_file.parent.mkdir(parents=True)
        state_file.write_text(json.dumps({"pid": os.getpid(), "port": 0, "api_url": api}))  # a live watchdog
        assert ensure_server(settings) == api
    assert state_file.exists()  # its watchdog would have taken a removed file as the order to stop
    assert not (server_dir(settings) / "server.log").exists()  # and no second server was started

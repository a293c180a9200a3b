"""The background Prefect server `shorts make` starts once per SHORTS_HOME and reuses: who it answers, how it is
found, and how it is stopped (only ever the process it recorded)."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
from fakes.loopback import LoopbackFake, send
from local_prefect import alive, clean_env, wait_until
from shorts_process import SHORTS

from flows.prefect_server import ensure_server, stop_server
from flows.process_identity import identify
from flows.server_access import api_client
from pipeline import Settings

FAKE_KEY = "fake-key-never-for-the-server"


def _shorts(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([SHORTS, *args], env=env, capture_output=True, text=True, timeout=300)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").partition("=")[::2] for item in raw if item)


def _watchdogs(home: Path) -> list[int]:
    """Our watchdog processes for `home` (their command line names it)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"flows.prefect_server" in args and str(home / "prefect-server").encode() in args:
            found.append(int(proc.name))
    return found


def test_the_server_answers_only_its_owner_and_is_found_reused_and_stopped(tmp_path):
    home = tmp_path / "home"
    env = clean_env(
        SHORTS_HOME=str(home), SHORTS_SERVER_IDLE_MINUTES="1", OPENAI_API_KEY=FAKE_KEY, ELEVENLABS_API_KEY=FAKE_KEY
    )
    first = _shorts("server", "start", env=env)
    assert first.returncode == 0, first.stderr
    assert "Starting a local Prefect server" in first.stderr
    api = first.stdout.split("running: ")[1].strip()
    port = int(api.rsplit(":", 1)[1].removesuffix("/api"))
    assert httpx.get(f"{api}/health").status_code == 200
    try:
        again = _shorts("server", "start", env=env)  # found and reused, not started twice
        assert again.stdout == first.stdout and "Starting" not in again.stderr
        status = _shorts("server", "status", env=env)
        login = (home / "prefect-login").read_text().strip()
        assert status.stdout.startswith(f"running: {api} (pid ")
        assert f"UI: http://127.0.0.1:{port}  login: {login}" in status.stdout
        mine = _shorts("server", "start", env={**env, "PREFECT_API_URL": "http://127.0.0.1:9/api"})
        assert mine.stdout.strip() == "running: http://127.0.0.1:9/api"  # the user's API wins

        # Strangers: no login, a foreign Origin (a web page), a foreign Host (DNS rebinding).
        deployments = f"{api}/deployments/filter"
        assert httpx.post(deployments, json={}).status_code in (401, 403)
        assert httpx.get(f"{api}/flow_runs/00000000-0000-0000-0000-000000000000").status_code == 401
        assert httpx.post(deployments, json={}, headers={"Origin": "http://evil.example"}).status_code == 403
        assert httpx.get(f"{api}/health", headers={"Host": f"evil.example:{port}"}).status_code == 421
        with api_client(api, "shorts:guessed") as wrong:
            assert wrong.get("version").status_code == 401
        # The owner, with the login: through Prefect's CSRF check as well, from either loopback name.
        with api_client(api, login) as owner:
            assert owner.post("deployments/filter", json={}).status_code == 200
            assert owner.get("version", headers={"Origin": f"http://localhost:{port}"}).status_code == 200
            assert (
                owner.post("deployments/filter", json={}, headers={"Origin": "http://evil.example"}).status_code == 403
            )
            assert owner.get("version", headers={"Host": "evil.example"}).status_code == 421
        basic = base64.b64encode(login.encode()).decode()
        no_csrf = httpx.post(deployments, json={}, headers={"Authorization": f"Basic {basic}"})
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
        # Only its own origins get CORS answers.
        assert (
            httpx.options(
                deployments, headers={"Origin": f"http://127.0.0.1:{port}", "Access-Control-Request-Method": "POST"}
            ).headers["access-control-allow-origin"]
            == f"http://127.0.0.1:{port}"
        )

        state = json.loads((home / "prefect-server" / "server.json").read_text())
        for pid in (state["watchdog"]["pid"], state["server"]["pid"]):  # no vendor key, no SHORTS_ setting
            names = _environ(pid)
            assert not {"OPENAI_API_KEY", "ELEVENLABS_API_KEY", "SHORTS_HOME"} & set(names)
            assert FAKE_KEY not in "".join(names.values())
        # Readable by the owner only.
        assert _mode(home) == 0o700 and _mode(home / "prefect-login") == 0o600
        assert _mode(home / "prefect-server" / "prefect.db") == 0o600
        assert login not in (home / "prefect-server" / "server.log").read_text()
    finally:
        stopped = _shorts("server", "stop", env=env)
    assert stopped.stdout.startswith("stopped (pid ")
    assert _shorts("server", "status", env=env).stdout.splitlines()[0] == "not running"
    assert not (home / "prefect-server" / "server.json").exists()
    assert not alive(state["watchdog"]["pid"]) and not alive(state["server"]["pid"])


def test_a_killed_watchdogs_server_stops_and_status_and_stop_say_so_in_a_sentence(tmp_path):
    env = clean_env(SHORTS_HOME=str(tmp_path / "home"), SHORTS_SERVER_IDLE_MINUTES="1")
    assert _shorts("server", "start", env=env).returncode == 0
    state = json.loads((tmp_path / "home" / "prefect-server" / "server.json").read_text())
    watchdog, server = state["watchdog"]["pid"], state["server"]["pid"]
    try:
        os.kill(watchdog, signal.SIGKILL)  # ours: this test's `shorts server start` started it
        status = _shorts("server", "status", env=env)
        assert status.returncode == 0 and status.stderr == ""
        assert status.stdout.splitlines()[0] in (
            "not running",
            "running without its watchdog, so it would not stop when idle; `shorts server stop` ends it",
        )
        wait_until(lambda: not alive(server), 30, "the server to stop once its watchdog is gone")
        stop = _shorts("server", "stop", env=env)
        assert (stop.returncode, stop.stdout, stop.stderr) == (0, "not running\n", "")
    finally:
        for pid in (watchdog, server):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_stop_never_signals_a_process_that_only_has_the_recorded_pid(tmp_path, monkeypatch):
    monkeypatch.setenv("SHORTS_HOME", str(tmp_path / "home"))
    settings = Settings()
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state_file = settings.paths.background_server / "server.json"
        state_file.parent.mkdir(parents=True)
        # The pids a server once had, now another process's (as after a reboot or pid wrap-around).
        reused = {"pid": unrelated.pid, "started": "1"}
        state_file.write_text(
            json.dumps({"api_url": "http://127.0.0.1:9/api", "port": 9, "watchdog": reused, "server": reused})
        )
        status = _shorts("server", "status", env=clean_env(SHORTS_HOME=str(tmp_path / "home")))
        assert status.stdout.splitlines()[0] == "not running"
        assert stop_server(settings) is None
        assert unrelated.poll() is None  # untouched
        assert not state_file.exists()  # and the stale record is gone
        # Even with its start time right, a process running another command is not ours.
        other = {**identify(unrelated.pid), "command": "python -m flows.local_server /elsewhere 4200 60"}
        state_file.write_text(
            json.dumps({"api_url": "http://127.0.0.1:9/api", "port": 9, "watchdog": other, "server": other})
        )
        assert stop_server(settings) is None and unrelated.poll() is None

        state_file.write_text("{not json")  # a damaged record is one sentence too, never a traceback
        for command in ("status", "stop"):
            answer = _shorts("server", command, env=clean_env(SHORTS_HOME=str(tmp_path / "home")))
            assert (answer.returncode, answer.stdout.splitlines()[0], answer.stderr) == (0, "not running", "")
    finally:
        unrelated.kill()
        unrelated.wait()


def test_a_ctrl_c_during_the_first_start_and_a_rerun_start_one_server(tmp_path):
    home = tmp_path / "home"
    env = clean_env(SHORTS_HOME=str(home), SHORTS_SERVER_IDLE_MINUTES="1")
    first = subprocess.Popen(
        [SHORTS, "server", "start"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until(lambda: _watchdogs(home), 60, "the first start's watchdog")
        first.send_signal(signal.SIGINT)  # Ctrl-C while the server sets up its database
        first.wait(30)
        status = _shorts("server", "status", env=env).stdout.splitlines()[0]
        assert status.startswith(("starting (pid ", "running: ")), status
        rerun = _shorts("server", "start", env=env)
        assert rerun.returncode == 0, rerun.stderr
        assert "Starting a local Prefect server" not in rerun.stderr  # it waited for the first one's
        assert len(_watchdogs(home)) == 1
        assert "duplicate column" not in (home / "prefect-server" / "server.log").read_text()
    finally:
        _shorts("server", "stop", env=env)
    assert _watchdogs(home) == []


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
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", "")
    monkeypatch.setenv("SHORTS_HOME", str(tmp_path / "home"))
    settings = Settings()
    with SlowHealth(slow=3) as fake:
        api = f"{fake.root}/api"
        state_file = settings.paths.background_server / "server.json"
        state_file.parent.mkdir(parents=True)
        me = identify(os.getpid())  # a live watchdog and server: this process, holding the server lock
        state_file.write_text(json.dumps({"api_url": api, "port": 0, "watchdog": me, "server": me}))
        with (state_file.parent / "server.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            assert ensure_server(settings) == api
    assert state_file.exists()  # its watchdog would have taken a removed file as the order to stop
    assert not (settings.paths.background_server / "server.log").exists()  # and no second server was started
    assert os.environ["PREFECT_API_AUTH_STRING"] == (tmp_path / "home" / "prefect-login").read_text().strip()


def test_a_server_an_older_shorts_recorded_by_pid_alone_is_stopped_only_if_it_runs_our_watchdog(tmp_path):
    env = clean_env(SHORTS_HOME=str(tmp_path / "home"))
    folder = tmp_path / "home" / "prefect-server"
    folder.mkdir(parents=True)
    # Stand-ins with the command lines of an older watchdog of this SHORTS_HOME, and of an unrelated process.
    older = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "-m", "flows.local_server", str(folder), "9", "60"]
    )
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        legacy = {"pid": older.pid, "port": 9, "api_url": "http://127.0.0.1:9/api"}
        (folder / "server.json").write_text(json.dumps(legacy))
        status = _shorts("server", "status", env=env)
        assert status.stdout.startswith(
            f"running: http://127.0.0.1:9/api (started by an older shorts, watchdog pid {older.pid})"
        ), status.stdout + status.stderr
        assert _shorts("server", "stop", env=env).stdout == f"stopped (pid {older.pid})\n"
        assert older.wait(10) == -signal.SIGTERM

        (folder / "server.json").write_text(json.dumps({**legacy, "pid": unrelated.pid}))
        assert _shorts("server", "stop", env=env).stdout == "not running\n"
        assert unrelated.poll() is None
    finally:
        for process in (older, unrelated):
            process.kill()
            process.wait()

"""`shorts serve`: the two deployments it serves, and the Prefect server it starts and stops when none is configured
(which asks for a login, and answers only its own host and origins), and what a deployment run's caller cannot do."""

import contextlib
import inspect
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from local_prefect import free_port, wait_until

from flows.server_access import api_client
from pipeline import ConfigError, Settings

SHORTS = str(Path(sys.executable).parent / "shorts")


def test_the_daily_schedule_uses_the_configured_zone_else_the_machines(monkeypatch):
    from flows.serve import daily_schedule, schedule_timezone

    monkeypatch.setenv("TZ", "Asia/Tokyo")  # tzlocal reads TZ first
    assert schedule_timezone(Settings()) == "Asia/Tokyo"
    monkeypatch.setenv("SHORTS_TIMEZONE", "America/New_York")
    monkeypatch.setenv("SHORTS_DAILY_CRON", "30 7 * * 1-5")
    schedule = daily_schedule(Settings())
    assert (schedule.cron, schedule.timezone) == ("30 7 * * 1-5", "America/New_York")

    monkeypatch.setenv("SHORTS_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ConfigError, match="SHORTS_TIMEZONE='Mars/Olympus_Mons' is not an IANA time zone"):
        daily_schedule(Settings())
    monkeypatch.setenv("SHORTS_TIMEZONE", "UTC")
    monkeypatch.setenv("SHORTS_DAILY_CRON", "every morning")
    with pytest.raises(ConfigError, match="SHORTS_DAILY_CRON='every morning' is not a cron expression"):
        daily_schedule(Settings())


def test_the_two_deployments():
    from flows.serve import deployments

    daily, one = deployments(Settings())
    assert (daily.name, daily.entrypoint, daily.concurrency_limit) == ("daily", "flows.daily.daily_shorts", 1)
    (schedule,) = daily.schedules
    assert schedule.schedule.cron == "0 9 * * *" and schedule.active
    assert (one.name, one.entrypoint, one.schedules) == ("make-short", "flows.make_short.make_short", [])

    # The UI builds its form from this schema: the request model, with topic required and the rest defaulted.
    schema = one._parameter_openapi_schema.model_dump()
    assert schema["required"] == ["request"]
    request = schema["definitions"]["ShortRequest"]
    assert request["required"] == ["topic"]
    assert {"topic", "seconds", "style", "voice", "video_provider", "upload"} <= set(request["properties"])
    assert request["properties"]["seconds"]["maximum"] == 180


def serve_env(tmp_path: Path, port: int, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect"),
        SHORTS_PREFECT_PORT=str(port),
        PREFECT_RUNNER_POLL_FREQUENCY="2",
        **changes,
    )  # the runner's first poll marks the deployments READY sooner
    return env


FAKE_KEY = "fake-key-only-for-flow-runs"
# The flow module wires flows.review.caller_limits in; until it does, the deployment-run checks below are skipped.
GUARDED = "caller_limits(" in inspect.getsource(__import__("flows.make_short").make_short)


def test_a_port_taken_by_something_else_is_one_clear_line(tmp_path):
    # Another web server on the port, as is most often the case: it answers, but not as Prefect would.
    other = ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    port = other.server_address[1]
    try:
        result = subprocess.run(
            [SHORTS, "serve"], env=serve_env(tmp_path, port), capture_output=True, text=True, timeout=120
        )
    finally:
        other.shutdown()
        other.server_close()
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        f"shorts: Port {port} is in use by something other than a Prefect server; "
        "set SHORTS_PREFECT_PORT to a free port."
    )


@pytest.mark.flow
def test_a_prefect_server_that_is_not_ours_on_the_port_is_not_used(prefect_api, tmp_path):
    # The session's server asks for no login: someone else's (or an old, open) server; serving on it would expose
    # the deployments, so `shorts serve` says so instead, unless PREFECT_API_URL names it on purpose.
    port = int(prefect_api.rsplit(":", 1)[1].removesuffix("/api"))
    result = subprocess.run(
        [SHORTS, "serve"], env=serve_env(tmp_path, port), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        f"shorts: Port {port} has a Prefect server that `shorts serve` did not start for this SHORTS_HOME; set "
        "SHORTS_PREFECT_PORT to a free port, or set PREFECT_API_URL to use that server on purpose."
    )


@pytest.mark.flow
def test_serve_starts_a_server_when_none_is_configured_and_ctrl_c_stops_both(tmp_path):
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    # Offline steps, so the fake key is never used; review on, which a caller must not skip.
    offline = {f"SHORTS_{step}_PROVIDER": "offline" for step in ("SCRIPT", "IMAGE", "VIDEO", "VOICE")}
    env = serve_env(
        tmp_path, port, ELEVENLABS_API_KEY=FAKE_KEY, SHORTS_REVIEW="true", SHORTS_AUTO_APPROVE_CREDITS="1000", **offline
    )
    serve = subprocess.Popen([SHORTS, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    server_pid = None
    try:
        deadline = time.monotonic() + 300
        while "Prefect UI:" not in (text := Path(log.name).read_text()):
            assert serve.poll() is None and time.monotonic() < deadline, text[-3000:]
            time.sleep(0.5)
        assert "Starting the Prefect server on 127.0.0.1" in text
        assert f"Prefect UI: http://127.0.0.1:{port}" in text
        assert "Its login is the password `shorts server status` shows." in text
        server_pid = int(re.search(r"\(pid (\d+);", text).group(1))

        api = f"http://127.0.0.1:{port}/api"
        login = (tmp_path / "home" / "prefect-login").read_text().strip()
        owner = api_client(api, login)
        # Both deployments READY: the runner has polled for work, so it is serving (a Ctrl-C before that
        # stops Prefect's serve() before it can pause anything).
        status: dict[str, str] = {}
        while status != {"daily": "READY", "make-short": "READY"}:
            assert serve.poll() is None and time.monotonic() < deadline, Path(log.name).read_text()[-3000:]
            found = owner.post("deployments/filter", json={}).json()
            status = {d["name"]: d["status"] for d in found}
            time.sleep(0.5)
        make_short = next(d for d in found if d["name"] == "make-short")

        # Strangers can neither list nor start deployments: no login, a web page's Origin, a rebound Host.
        start = f"{api}/deployments/{make_short['id']}/create_flow_run"
        attack = {
            "parameters": {
                "request": {"topic": "pwned", "upload": True},
                "approval": "given",
                "out_dir": str(tmp_path / "elsewhere"),
            }
        }
        assert httpx.post(f"{api}/deployments/filter", json={}).status_code in (401, 403)
        assert httpx.post(start, json=attack).status_code in (401, 403)
        assert httpx.get(f"{api}/deployments/{make_short['id']}").status_code == 401
        assert (
            owner.post(
                start.removeprefix(f"{api}/"), json=attack, headers={"Origin": "http://evil.example"}
            ).status_code
            == 403
        )
        assert owner.get("deployments/filter", headers={"Host": f"evil.example:{port}"}).status_code == 421
        # None of those started a run (the daily deployment's scheduled runs are the scheduler's, not theirs).
        started = {"flow_runs": {"deployment_id": {"any_": [make_short["id"]]}}}
        assert owner.post("flow_runs/count", json=started).json() == 0
        # The server has no vendor key; the runs it serves get theirs from `shorts serve`.
        environ = Path(f"/proc/{server_pid}/environ").read_bytes()
        assert FAKE_KEY.encode() not in environ and b"ELEVENLABS_API_KEY" not in environ

        if GUARDED:  # the owner's own deployment run cannot loosen the settings either
            outside = owner.post(start.removeprefix(f"{api}/"), json=attack).json()
            loosened = {
                approval: owner.post(
                    start.removeprefix(f"{api}/"),
                    json={
                        "parameters": {"request": {"topic": approval, "seconds": 5, "scenes": 1}, "approval": approval}
                    },
                ).json()
                for approval in ("given", "rules")
            }  # rules would approve within SHORTS_AUTO_APPROVE_CREDITS
            done = wait_until(
                lambda: _ended(owner, outside["id"]), 120, "the run outside the output folder to end", Path(log.name)
            )
            assert done["state_type"] == "FAILED" and "outside SHORTS_OUTPUT_DIR" in done["state"]["message"]
            assert not (tmp_path / "elsewhere").exists()
            for approval, run in loosened.items():
                wait_until(
                    lambda: owner.get(f"flow_runs/{run['id']}").json()["state_type"] == "PAUSED",
                    120,
                    f"the approval={approval} run to pause for review (SHORTS_REVIEW=true)",
                    Path(log.name),
                )
                owner.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "CANCELLING"}, "force": True})
                wait_until(lambda: _ended(owner, run["id"]), 60, "the paused run to be cancelled", Path(log.name))

        serve.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert serve.wait(60) == 0
        text = Path(log.name).read_text()
        assert "All deployments have been paused" in text and f"Stopping the Prefect server (pid {server_pid})" in text
        with pytest.raises(ProcessLookupError):
            os.kill(server_pid, 0)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{api}/health", timeout=5)
        assert login not in text
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        if server_pid is not None:  # the server runs in its own session, so a killed `serve` leaves it behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(server_pid, signal.SIGTERM)


def _ended(client: httpx.Client, run_id: str) -> dict | None:
    run = client.get(f"flow_runs/{run_id}").json()
    return run if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None


def test_the_check_in_front_answers_only_our_hosts_and_origins_and_a_public_url_set_on_purpose():
    import asyncio

    from flows.guarded_server import HostAndOriginCheck, allowed

    async def prefect(scope, receive, send) -> None:  # stands in for Prefect's app behind the check
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"prefect"})

    async def status(app, host: str, origin: str | None = None) -> int:
        headers = {"Host": host, **({"Origin": origin} if origin else {})}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client:
            return (await client.get("/api/health", headers=headers)).status_code

    local = HostAndOriginCheck(prefect, *allowed(4200, None))
    public = HostAndOriginCheck(prefect, *allowed(4200, "https://shorts.example.com"))

    async def all_of(*checks):
        return list(await asyncio.gather(*checks))

    answers = asyncio.run(
        all_of(
            status(local, "127.0.0.1:4200"),
            status(local, "localhost:4200", "http://localhost:4200"),
            status(local, "evil.example:4200"),
            status(local, "127.0.0.1:4200", "http://evil.example"),
            status(local, "127.0.0.1:4201"),
            status(local, "127.0.0.1:4200", "null"),
            status(local, "shorts.example.com", "https://shorts.example.com"),
            status(public, "shorts.example.com", "https://shorts.example.com"),
            status(public, "127.0.0.1:4200"),
            status(public, "evil.example"),
        )
    )
    assert answers == [200, 200, 421, 403, 421, 403, 421, 200, 200, 421]

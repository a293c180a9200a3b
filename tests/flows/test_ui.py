"""The Prefect UI in a real browser: start a Short from the make-short form, and check the daily schedule.

A Prefect server runs on 127.0.0.1 for this module, `shorts serve` serves the deployments against it, and headless
Chromium (Debian's package, driven by Playwright) uses the UI as a person would.
"""

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import imageio_ffmpeg
import pytest

from local_prefect import clean_env, stop, wait_until
from pipeline import slug

SHORTS = str(Path(sys.executable).parent / "shorts")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ZONE, CRON = "America/New_York", "30 7 * * *"  # not the machine's zone, so a UTC schedule would show
TOPIC = "Why cats purr"
WAIT_MS = 60_000  # a 2-core machine shared with other test runs: wait for elements, generously

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
def served(prefect_api, tmp_path_factory) -> Iterator[dict]:
    """`shorts serve` against the server, making tiny Shorts; yields the API URL and where Shorts land."""
    work = tmp_path_factory.mktemp("serve")
    log = work / "serve.log"
    env = clean_env(
        PREFECT_API_URL=prefect_api, PREFECT_HOME=str(work / "prefect"),
        PREFECT_LOCAL_STORAGE_PATH=str(work / "prefect" / "results"),
        PREFECT_RUNNER_POLL_FREQUENCY="2",  # pick up a run from the UI within 2 s, not 10
        SHORTS_HOME=str(work / "home"), SHORTS_OUTPUT_DIR=str(work / "out"),
        SHORTS_WIDTH="144", SHORTS_HEIGHT="256", SHORTS_FPS="12",
        SHORTS_TIMEZONE=ZONE, SHORTS_DAILY_CRON=CRON,
    )
    with log.open("w") as out:
        serve = subprocess.Popen([SHORTS, "serve"], env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT)
    try:
        def both_served() -> bool:
            assert serve.poll() is None, log.read_text()[-3000:]
            found = httpx.post(f"{prefect_api}/deployments/filter", json={}, timeout=10).json()
            return {d["name"] for d in found} == {"daily", "make-short"}

        wait_until(both_served, 180, "`shorts serve` to register its deployments", log)
        yield {"api": prefect_api, "ui": prefect_api.removesuffix("/api"), "out": work / "out", "log": log}
    finally:
        stop(serve, signal.SIGINT)  # as Ctrl-C would


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, tmp_path):
    """A fresh page in a fresh browser context."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()


@contextmanager
def screenshot_on_failure(page, tmp_path: Path) -> Iterator[None]:
    """On failure, a screenshot of what the page showed; its path is in the failure report."""
    try:
        yield
    except BaseException:
        shot = tmp_path / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the page: {shot} (at {page.url})")
        raise


def form_field(page, label: str):
    """The input of a parameter-form field, found by its label (the form's labels are not tied to inputs)."""
    return page.locator(
        f"xpath=//span[contains(@class, 'schema-form-property__label') and normalize-space()='{label}']"
        "/ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' schema-form-property ')][1]"
        "//*[self::textarea or self::input]").first


def deployment(api: str, name: str) -> dict:
    return next(d for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json() if d["name"] == name)


def flow_runs(api: str, deployment_id: str, **filters) -> list[dict]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC", **filters}
    return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()


def test_a_short_started_from_the_ui_form_completes_and_exists(served, page, tmp_path):
    api, ui = served["api"], served["ui"]
    make_short = deployment(api, "make-short")
    with screenshot_on_failure(page, tmp_path):
        page.goto(f"{ui}/deployments")
        page.get_by_role("link", name="make-short", exact=True).first.click()
        page.wait_for_url(f"**/deployments/deployment/{make_short['id']}**")
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text("Custom run", exact=True).click()

        form_field(page, "Topic").fill(TOPIC)
        form_field(page, "Seconds (Optional)").fill("5")
        page.get_by_role("button", name="Submit", exact=True).click()

        (run,) = wait_until(lambda: flow_runs(api, make_short["id"]), 60, "the run the form created")
        finished = wait_until(lambda: _finished(api, run["id"]), 180, "the flow run to finish", served["log"])
        assert finished["state_type"] == "COMPLETED", finished["state"]["message"]
        assert finished["name"] == TOPIC and finished["parameters"]["request"]["seconds"] == 5

        page.goto(f"{ui}/runs/flow-run/{run['id']}")  # what a person watching the run sees
        page.get_by_text("Completed", exact=True).first.wait_for()
        page.get_by_text(TOPIC, exact=True).first.wait_for()

    video = served["out"] / slug(TOPIC) / "final.mp4"
    assert video.is_file(), f"no Short at {video}"
    meta = next(imageio_ffmpeg.read_frames(str(video)))
    assert tuple(meta["size"]) == (144, 256) and abs(meta["duration"] - 5) <= 1
    logs = httpx.post(f"{api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run["id"]]}}}, timeout=10).json()
    messages = [entry["message"] for entry in logs]
    assert any(m.startswith("✓ render") for m in messages), messages  # the steps show in the UI's log


def _finished(api: str, run_id: str) -> dict | None:
    run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
    return run if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None


def test_the_daily_deployment_runs_next_at_the_configured_local_time(served, page, tmp_path):
    api, ui = served["api"], served["ui"]
    daily = deployment(api, "daily")
    (schedule,) = daily["schedules"]
    assert schedule["schedule"]["cron"] == CRON and schedule["schedule"]["timezone"] == ZONE and schedule["active"]
    assert not daily["paused"] and daily["global_concurrency_limit"]["limit"] == 1

    scheduled = wait_until(lambda: flow_runs(api, daily["id"], flow_runs={"state": {"type": {"any_": ["SCHEDULED"]}}}),
                           90, "the scheduler to plan the daily runs")
    next_run = datetime.fromisoformat(scheduled[0]["expected_start_time"]).astimezone(ZoneInfo(ZONE))
    now = datetime.now(ZoneInfo(ZONE))
    expected = now.replace(hour=7, minute=30, second=0, microsecond=0)
    expected += timedelta(days=1) if expected <= now else timedelta()
    assert next_run == expected  # 07:30 New York time, the next one to come (DST included)

    with screenshot_on_failure(page, tmp_path):
        page.goto(f"{ui}/deployments")
        page.get_by_text("At 07:30 AM every day").first.wait_for()

"""The Prefect UI in a real browser, as a person uses it: start a Short from the make-short form, check the daily
schedule, and review a storyboard in a paused run's Resume form (approving finishes the Short; rejecting cancels the
run before any clip is bought).

`shorts serve` starts its own Prefect server on 127.0.0.1 (which asks for the login `shorts server status` shows,
answers only its own host and origins, and checks CSRF tokens), serves the deployments against it, and headless
Chromium (Debian's package, driven by Playwright) logs in and uses the UI. All UI tests live in this one module, so they share
one `shorts serve` and one browser, and run on one worker under pytest-xdist's --dist loadfile.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import imageio_ffmpeg
import pytest
from local_prefect import clean_env, free_port, healthy, stop, wait_until

from flows.server_access import api_client
from pipeline import short_folder

pytestmark = pytest.mark.flow
TOPIC = "Why cats purr"
APPROVED, REJECTED = "Why owls hoot", "Why frogs croak"
SHORTS = str(Path(sys.executable).parent / "shorts")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ZONE, CRON = "America/New_York", "30 7 * * *"  # not the machine's zone, so a UTC schedule would show
WAIT_MS = 60_000  # a 2-core machine shared with other test runs: wait for elements, generously


@contextmanager
def screenshot_on_failure(page, tmp_path: Path) -> Iterator[None]:
    """On failure, a screenshot of what the page showed; its path is in the failure report."""
    try:
        yield
    except BaseException:
        shot = tmp_path / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the page: {shot} (at {page.url})")
        print("API calls that failed:", *[_refusal(r) for r in page.refused] or ["none"], sep="\n  ")
        raise


def form_field(page, label: str):
    """The input of a parameter-form field, found by its label (the form's labels are not tied to inputs)."""
    return page.locator(
        f"xpath=//span[contains(@class, 'schema-form-property__label') and normalize-space()='{label}']"
        "/ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' schema-form-property ')][1]"
        "//*[self::textarea or self::input]"
    ).first


def form_switch(page, label: str):
    """The toggle of a bool field in a Prefect form, found by its label."""
    return page.locator(
        f"xpath=//span[contains(@class, 'schema-form-property__label') and normalize-space()='{label}']"
        "/ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' schema-form-property ')][1]"
        "//*[@role='switch']"
    ).first


def submit(page, scope, endpoint: str, done: Callable[[], object], what: str) -> object:
    """Press Submit in `scope` until `done()` returns something, and return it.

    Prefect's SQLite server now and then refuses a write that meets another ("database is locked", answered
    503, at once). Its Python client retries; its UI shows "Something went wrong" instead, and a person
    presses Submit again. Only a 503 from `endpoint` itself counts, so a submit that went through is never
    sent twice.
    """
    for _ in range(3):
        seen = len(page.refused)

        def outcome() -> object:
            page.wait_for_timeout(100)  # Playwright hands over the responses that came only inside its own calls
            if result := done():
                return result
            if any(getattr(r, "status", 0) == 503 and endpoint in r.url for r in page.refused[seen:]):
                return REFUSED
            return None

        scope.get_by_role("button", name="Submit", exact=True).click()
        if (result := wait_until(outcome, 60, what)) is not REFUSED:
            return result
    raise AssertionError(f"Prefect's server refused {what} three times (503)")


REFUSED = object()


# `api` below is an httpx client for the served API, logged in (flows.server_access.api_client).
def deployment(api: httpx.Client, name: str) -> dict:
    return next(d for d in api.post("deployments/filter", json={}).json() if d["name"] == name)


def runs_named(api: httpx.Client, name: str) -> list[dict]:
    body = {"flow_runs": {"name": {"any_": [name]}}}
    return api.post("flow_runs/filter", json=body).json()


def state_of(api: httpx.Client, run_id: str) -> str:
    return api.get(f"flow_runs/{run_id}").json()["state_type"]


def flow_runs(api: httpx.Client, deployment_id: str, **filters) -> list[dict]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC", **filters}
    return api.post("flow_runs/filter", json=body).json()


def finished(api: httpx.Client, run_id: str) -> dict | None:
    run = api.get(f"flow_runs/{run_id}").json()
    return run if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[dict]:
    """`shorts serve` with the server it starts, making tiny Shorts; yields a logged-in API client, the UI's address,
    the login and where Shorts land."""
    work = tmp_path_factory.mktemp("serve")
    log = work / "serve.log"
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = clean_env(
        PREFECT_HOME=str(work / "prefect"),
        PREFECT_LOCAL_STORAGE_PATH=str(work / "prefect" / "results"),
        PREFECT_RUNNER_POLL_FREQUENCY="2",  # pick up a run from the UI within 2 s, not 10
        SHORTS_HOME=str(work / "home"),
        SHORTS_OUTPUT_DIR=str(work / "out"),
        SHORTS_PREFECT_PORT=str(port),
        SHORTS_WIDTH="144",
        SHORTS_HEIGHT="256",
        SHORTS_FPS="12",
        SHORTS_TIMEZONE=ZONE,
        SHORTS_DAILY_CRON=CRON,
        SHORTS_REVIEW_POLL_SECONDS="0.5",
    )
    with log.open("w") as out:
        serve = subprocess.Popen([SHORTS, "serve"], env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT)
    try:

        def both_served() -> bool:
            assert serve.poll() is None, log.read_text()[-3000:]
            if "Prefect UI:" not in log.read_text() or not healthy(api_url):
                return False
            with api_client(api_url, (work / "home" / "prefect-login").read_text().strip()) as api:
                found = api.post("deployments/filter", json={}).json()
            return {d["name"] for d in found} == {"daily", "make-short"}

        wait_until(both_served, 300, "`shorts serve` to start its server and register its deployments", log)
        login = (work / "home" / "prefect-login").read_text().strip()
        with api_client(api_url, login) as api:
            yield {"api": api, "ui": api_url.removesuffix("/api"), "login": login, "out": work / "out", "log": log}
    finally:
        stop(serve, signal.SIGINT)  # as Ctrl-C would
    assert login not in log.read_text()  # the login is shown by `shorts server status`, never logged


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def log_in(page, ui: str, login: str) -> None:
    """Type the login into the UI's login page, as a person does once per browser."""
    page.goto(f"{ui}/login")
    page.get_by_placeholder("admin:pass").fill(login)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def page(browser, served, tmp_path):
    """A fresh page in a fresh browser context, logged in."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.refused = []  # the UI's API calls that failed or were refused: shown if the test fails
    page.on("requestfailed", lambda request: page.refused.append(request))
    page.on("response", lambda response: response.status >= 400 and page.refused.append(response))
    with screenshot_on_failure(page, tmp_path):
        log_in(page, served["ui"], served["login"])
    yield page
    context.close()


def _refusal(item) -> str:
    """A failed request, or a refused response with the start of its body."""
    if not hasattr(item, "status"):
        return f"{item.method} {item.url}: {item.failure}"
    try:
        body = item.text()[:300]
    except Exception as exc:  # the body may be gone by the time we ask
        body = f"(no body: {exc})"
    return f"{item.request.method} {item.url}: {item.status} {body}"


def test_the_ui_asks_for_the_login_and_refuses_a_wrong_one(served, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.refused = []
    try:
        with screenshot_on_failure(page, tmp_path):
            page.goto(f"{served['ui']}/deployments")
            page.wait_for_url("**/login**")  # nothing shown before the login
            page.get_by_placeholder("admin:pass").fill("shorts:guessed")
            page.keyboard.press("Enter")
            page.get_by_text("Authentication failed.").first.wait_for()
            assert "/login" in page.url
    finally:
        context.close()


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
        ours = {"name": {"any_": [TOPIC]}}  # the daily tests' runs may share its topic, not its deployment
        (run,) = submit(
            page,
            page,
            "create_flow_run",
            lambda: flow_runs(api, make_short["id"], flow_runs=ours),
            "the run the form creates",
        )
        done = wait_until(lambda: finished(api, run["id"]), 180, "the flow run to finish", served["log"])
        assert done["state_type"] == "COMPLETED", done["state"]["message"]
        assert done["name"] == TOPIC and done["parameters"]["request"]["seconds"] == 5

        page.goto(f"{ui}/runs/flow-run/{run['id']}")  # what a person watching the run sees
        page.get_by_text("Completed", exact=True).first.wait_for()
        page.get_by_text(TOPIC, exact=True).first.wait_for()

    video = served["out"] / short_folder(TOPIC) / "final.mp4"
    assert video.is_file(), f"no Short at {video}"
    meta = next(imageio_ffmpeg.read_frames(str(video)))
    # Scenes end a breath after their narration, so a Short never runs past its request; at 5 s, with two
    # sentences, Piper's pace on them decides how much shorter.
    assert tuple(meta["size"]) == (144, 256) and 3 <= meta["duration"] <= 5.5
    # The steps show in the UI's log; the worker's process sends its logs in batches, so they may
    # arrive a moment after the run's final state.
    wait_until(
        lambda: any(m.startswith("✓ render") for m in _log_messages(api, run["id"])),
        30,
        "the run's step log lines in the UI",
        served["log"],
    )


def _log_messages(api: httpx.Client, run_id: str) -> list[str]:
    body = {"logs": {"flow_run_id": {"any_": [run_id]}}}
    return [entry["message"] for entry in api.post("logs/filter", json=body).json()]


def test_the_daily_deployment_runs_next_at_the_configured_local_time(served, page, tmp_path):
    api, ui = served["api"], served["ui"]
    daily = deployment(api, "daily")
    (schedule,) = daily["schedules"]
    assert schedule["schedule"]["cron"] == CRON and schedule["schedule"]["timezone"] == ZONE and schedule["active"]
    assert not daily["paused"] and daily["global_concurrency_limit"]["limit"] == 1

    scheduled = wait_until(
        lambda: flow_runs(api, daily["id"], flow_runs={"state": {"type": {"any_": ["SCHEDULED"]}}}),
        90,
        "the scheduler to plan the daily runs",
    )
    next_run = datetime.fromisoformat(scheduled[0]["expected_start_time"]).astimezone(ZoneInfo(ZONE))
    now = datetime.now(ZoneInfo(ZONE))
    expected = now.replace(hour=7, minute=30, second=0, microsecond=0)
    expected += timedelta(days=1) if expected <= now else timedelta()
    assert next_run == expected  # 07:30 New York time, the next one to come (DST included)

    with screenshot_on_failure(page, tmp_path):
        page.goto(f"{ui}/deployments")
        page.get_by_text("At 07:30 AM every day").first.wait_for()


def store(served: dict, kind: str) -> dict[Path, int]:
    folder = served["out"].parent / "home" / "assets" / kind  # the served runs' SHORTS_HOME
    return {p: p.stat().st_mtime_ns for p in folder.glob("*") if p.suffix != ".sum"} if folder.exists() else {}


def answer_in_the_resume_form(page, api: str, ui: str, run_id: str, approve: bool, note: str) -> None:
    page.goto(f"{ui}/runs/flow-run/{run_id}")
    page.get_by_role("button", name="Resume").first.click()
    form = page.locator(".p-modal__card")
    form.get_by_text("Storyboard:").first.wait_for()  # the storyboard's facts and picture are on the form
    assert form.locator("img[src^='data:image/jpeg;base64,']").count() == 1
    if approve:
        form_switch(form, "Approve (Optional)").click()
    form_field(form, "Note (Optional)").fill(note)
    submit(page, form, "/resume", lambda: state_of(api, run_id) != "PAUSED", "the answer to the review")


def test_a_short_started_in_the_ui_with_review_pauses_and_approving_it_finishes_the_short(served, page, tmp_path):
    api, ui = served["api"], served["ui"]
    make_short = deployment(api, "make-short")
    with screenshot_on_failure(page, tmp_path):
        page.goto(f"{ui}/deployments/deployment/{make_short['id']}")
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text("Custom run", exact=True).click()
        form_field(page, "Topic").fill(APPROVED)
        form_field(page, "Seconds (Optional)").fill("5")
        form_switch(page, "Review (Optional)").click()
        (run,) = submit(page, page, "create_flow_run", lambda: runs_named(api, APPROVED), "the run the form creates")
        wait_until(lambda: state_of(api, run["id"]) == "PAUSED", 180, "the run to pause for review", served["log"])
        folder = served["out"] / short_folder(APPROVED)
        assert (folder / "storyboard.png").is_file() and not (folder / "final.mp4").exists()
        frames, clips = store(served, "frames"), store(served, "clips")

        answer_in_the_resume_form(page, api, ui, run["id"], approve=True, note="lovely")
        done = wait_until(lambda: finished(api, run["id"]), 180, "the approved run to finish", served["log"])

    assert done["state_type"] == "COMPLETED", done["state"]["message"]
    assert (folder / "final.mp4").is_file()
    assert store(served, "frames") == frames  # it went on from the frames it had made
    assert len(store(served, "clips")) == len(clips) + 1
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["review"] == {"approved": True, "by": "person", "note": "lovely"}


def test_rejecting_in_the_ui_cancels_the_run_and_buys_no_clip(served, page, tmp_path):
    api, ui = served["api"], served["ui"]
    make_short = deployment(api, "make-short")

    def create():  # a busy SQLite server may refuse once ("database is locked"); creating is idempotent enough here
        answer = api.post(
            f"deployments/{make_short['id']}/create_flow_run",
            json={"parameters": {"request": {"topic": REJECTED, "seconds": 5, "review": True}}},
        )
        print(f"create_flow_run answered {answer.status_code}: {answer.text[:300]}")
        return answer.json() if answer.status_code < 300 else None

    created = wait_until(create, 60, "the server to create the run")
    wait_until(lambda: state_of(api, created["id"]) == "PAUSED", 180, "the run to pause for review", served["log"])
    clips = store(served, "clips")

    with screenshot_on_failure(page, tmp_path):
        answer_in_the_resume_form(page, api, ui, created["id"], approve=False, note="too dark")
        done = wait_until(lambda: finished(api, created["id"]), 120, "the rejected run to end", served["log"])
        page.goto(f"{ui}/runs/flow-run/{created['id']}")
        page.get_by_text("Cancelled", exact=True).first.wait_for()

    assert done["state_type"] == "CANCELLED"
    assert done["state"]["message"].startswith("Rejected at review: too dark; no clip was bought")
    assert store(served, "clips") == clips  # no clip made
    body = {"flow_runs": {"id": {"any_": [created["id"]]}}}
    tasks = {t["name"] for t in api.post("task_runs/filter", json=body).json()}
    assert "first-frame-1" in tasks and not any(name.startswith("clip") for name in tasks)
    assert not (served["out"] / short_folder(REJECTED) / "final.mp4").exists()

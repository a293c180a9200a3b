"""Review in the Prefect UI, in a real browser: a Short started with Review on pauses after its storyboard; approving
it in the Resume form finishes the Short, and rejecting it there cancels the run before any clip is made.

Reuses test_ui's fixtures (a `shorts serve` against the session's Prefect server, headless Chromium).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from local_prefect import wait_until
from pipeline import slug
from test_ui import _finished, browser, deployment, form_field, page, screenshot_on_failure, served  # noqa: F401

pytestmark = pytest.mark.flow
APPROVED, REJECTED = "Why owls hoot", "Why frogs croak"


@pytest.fixture(scope="module", autouse=True)
def forget_our_runs(served):
    """Delete this module's flow runs at the end: the server is the session's, and other tests count runs."""
    yield
    for topic in (APPROVED, REJECTED):
        for run in runs_named(served["api"], topic):
            httpx.delete(f"{served['api']}/flow_runs/{run['id']}", timeout=10)


def runs_named(api: str, name: str) -> list[dict]:
    body = {"flow_runs": {"name": {"any_": [name]}}}
    return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()


def state_of(api: str, run_id: str) -> str:
    return httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state_type"]


def form_switch(page, label: str):
    """The toggle of a bool field in a Prefect form, found by its label."""
    return page.locator(
        f"xpath=//span[contains(@class, 'schema-form-property__label') and normalize-space()='{label}']"
        "/ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' schema-form-property ')][1]"
        "//*[@role='switch']").first


def store(served: dict, kind: str) -> dict[Path, int]:
    folder = served["out"].parent / "home" / "assets" / kind  # the served runs' SHORTS_HOME
    return {p: p.stat().st_mtime_ns for p in folder.glob("*")} if folder.exists() else {}


def answer_in_the_resume_form(page, ui: str, run_id: str, approve: bool, note: str) -> None:
    page.goto(f"{ui}/runs/flow-run/{run_id}")
    page.get_by_role("button", name="Resume").first.click()
    form = page.locator(".p-modal__card")
    form.get_by_text("Storyboard:").first.wait_for()  # the storyboard's facts and picture are on the form
    assert form.locator("img[src^='data:image/jpeg;base64,']").count() == 1
    if approve:
        form_switch(form, "Approve (Optional)").click()
    form_field(form, "Note (Optional)").fill(note)
    form.get_by_role("button", name="Submit", exact=True).click()


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
        page.get_by_role("button", name="Submit", exact=True).click()

        (run,) = wait_until(lambda: runs_named(api, APPROVED), 60, "the run the form created")
        wait_until(lambda: state_of(api, run["id"]) == "PAUSED", 180, "the run to pause for review", served["log"])
        folder = served["out"] / slug(APPROVED)
        assert (folder / "storyboard.png").is_file() and not (folder / "final.mp4").exists()
        frames, clips = store(served, "frames"), store(served, "clips")

        answer_in_the_resume_form(page, ui, run["id"], approve=True, note="lovely")
        finished = wait_until(lambda: _finished(api, run["id"]), 180, "the approved run to finish", served["log"])

    assert finished["state_type"] == "COMPLETED", finished["state"]["message"]
    assert (folder / "final.mp4").is_file()
    assert store(served, "frames") == frames  # it went on from the frames it had made
    assert len(store(served, "clips")) == len(clips) + 1
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["review"] == {"approved": True, "by": "person", "note": "lovely"}


def test_rejecting_in_the_ui_cancels_the_run_and_buys_no_clip(served, page, tmp_path):
    api, ui = served["api"], served["ui"]
    make_short = deployment(api, "make-short")
    def create():  # a busy SQLite server may refuse once ("database is locked"); creating is idempotent enough here
        answer = httpx.post(f"{api}/deployments/{make_short['id']}/create_flow_run", timeout=10, json={
            "parameters": {"request": {"topic": REJECTED, "seconds": 5, "review": True}}})
        print(f"create_flow_run answered {answer.status_code}: {answer.text[:300]}")
        return answer.json() if answer.status_code < 300 else None

    created = wait_until(create, 60, "the server to create the run")
    wait_until(lambda: state_of(api, created["id"]) == "PAUSED", 180, "the run to pause for review", served["log"])
    clips = store(served, "clips")

    with screenshot_on_failure(page, tmp_path):
        answer_in_the_resume_form(page, ui, created["id"], approve=False, note="too dark")
        finished = wait_until(lambda: _finished(api, created["id"]), 120, "the rejected run to end", served["log"])
        page.goto(f"{ui}/runs/flow-run/{created['id']}")
        page.get_by_text("Cancelled", exact=True).first.wait_for()

    assert finished["state_type"] == "CANCELLED"
    assert finished["state"]["message"].startswith("Rejected at review: too dark; no clip was bought")
    assert store(served, "clips") == clips  # no clip made
    body = {"flow_runs": {"id": {"any_": [created["id"]]}}}
    tasks = {t["name"] for t in httpx.post(f"{api}/task_runs/filter", json=body, timeout=10).json()}
    assert "first-frame-1" in tasks and not any(name.startswith("clip") for name in tasks)
    assert not (served["out"] / slug(REJECTED) / "final.mp4").exists()

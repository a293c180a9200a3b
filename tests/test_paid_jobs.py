"""A paid job is made once even when two scenes (or two runs) ask for exactly the same one at the same time."""

from __future__ import annotations

import threading

import pytest
from clip_runs import animate_with, ledger, scene, store
from fakes.runware import KEY as RUNWARE_KEY
from fakes.runware import FakeRunware
from fakes.runway import KEY as RUNWAY_KEY
from fakes.runway import FakeRunway

from pipeline import make_first_frame
from pipeline.providers.offline.image import OfflineImageMaker


@pytest.fixture
def fakes(monkeypatch):
    with FakeRunware() as runware:
        runway = FakeRunway().start()
        monkeypatch.setenv("RUNWARE_API_KEY", RUNWARE_KEY)
        monkeypatch.setenv("RUNWARE_BASE_URL", runware.url)
        monkeypatch.setenv("SHORTS_RUNWARE_POLL_SECONDS", "0.01")
        monkeypatch.setenv("SHORTS_RUNWARE_MAX_POLL_SECONDS", "0.02")
        monkeypatch.setenv("RUNWAYML_API_SECRET", RUNWAY_KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", runway.url)
        monkeypatch.setenv("SHORTS_RUNWAY_POLL_SECONDS", "0.01")
        yield runway, runware
        runway.stop()


@pytest.mark.parametrize("provider", ["runway", "runware"])
def test_two_scenes_asking_for_the_same_paid_clip_at_once_pay_for_it_once(fakes, tiny, provider):
    runway, runware = fakes
    frame = make_first_frame(scene(), "neon", tiny, OfflineImageMaker(), store())
    # Scenes 1 and 2 animate the same picture the same way: one paid job, whatever the scene number.
    twins = [scene(index=1), scene(index=2)]
    clips, errors = {}, []

    def animate(index: int) -> None:
        try:
            clips[index] = animate_with(provider, twins[index], frame)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=animate, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    made = runway.seen("POST", "/v1/image_to_video") if provider == "runway" else runware.seen("videoInference")
    assert len(made) == 1
    assert [t.status for t in ledger().tasks()] == ["done"]
    assert clips[0].task_id == clips[1].task_id and clips[0].path.is_file()
    assert sorted([clips[0].cost.credits + clips[0].cost.usd, clips[1].cost.credits + clips[1].cost.usd])[0] == 0

"""The ledger (append-only migrations, safe across threads and processes), cost estimates and the account check."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from pipeline import ConfigError, ProviderChoice, Scene, Script, Settings
from pipeline.budget import check_budget, estimate_cost
from pipeline.providers.runway.client import runway_account
from pipeline.state.ledger import DONE, MIGRATIONS, SUBMITTING, Ledger


def reserve(ledger: Ledger, key: str, estimate: float = 10, cap: float = 1000) -> int:
    return ledger.reserve(key=key, provider="runway", kind="clip", model="gen4_turbo", estimate=estimate, daily_cap=cap)


def test_migrations_run_once_and_are_recorded_by_name(tmp_path):
    path = tmp_path / "ledger.sqlite"
    Ledger(path)
    row = reserve(Ledger(path), "k")  # opening again neither fails nor re-runs m001
    assert Ledger(path).migrations() == [m.__name__ for m in MIGRATIONS]
    assert MIGRATIONS[0].__name__ == "m001_remote_tasks"
    assert Ledger(path).get(row).status == SUBMITTING
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_latest_task_per_key_and_updates(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    first, second = reserve(ledger, "a"), reserve(ledger, "a")
    reserve(ledger, "b")
    ledger.update(second, task_id="t-2", status=DONE, amount_spent=7)
    latest = ledger.latest("runway", "a")
    assert (latest.row, latest.task_id, latest.status, latest.amount_spent) == (second, "t-2", DONE, 7)
    assert ledger.latest("runway", "nothing") is None and ledger.latest("other", "a") is None
    assert ledger.spent_since(latest.created_at.replace(year=2000)) == 10 + 7 + 10  # estimate until spent is known
    with pytest.raises(ValueError):
        ledger.update(first, key="changed")


def test_daily_cap_holds_when_threads_race_to_reserve(tmp_path):
    path = tmp_path / "l.sqlite"
    Ledger(path)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        try:
            reserve(Ledger(path), f"k{i}", estimate=10, cap=55)
            outcomes.append("ok")
        except ConfigError:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 5 and len(Ledger(path).tasks()) == 5


def _reserve_many(path: str, n: int) -> int:
    ledger = Ledger(Path(path))
    made = 0
    for i in range(n):
        try:
            reserve(ledger, f"p{i}", estimate=1, cap=30)
            made += 1
        except ConfigError:
            pass
    return made


def test_daily_cap_holds_across_processes(tmp_path):
    path = tmp_path / "l.sqlite"
    Ledger(path)
    with multiprocessing.get_context("fork").Pool(4) as pool:
        made = pool.starmap(_reserve_many, [(str(path), 15)] * 4)
    assert sum(made) == 30 == len(Ledger(path).tasks())


def script(scenes: int, seconds: float = 5.0) -> Script:
    return Script(
        title="t",
        description="d",
        tags=[],
        hook="h",
        scenes=[
            Scene(index=i, narration="n", first_frame_prompt="f", motion_prompt="m", seconds=seconds)
            for i in range(1, scenes + 1)
        ],
    )


def choices(image: str, video: str) -> dict[str, ProviderChoice]:
    return {
        step: ProviderChoice(step=step, name=name, reason="test")
        for step, name in {"script": "offline", "image": image, "video": video, "voice": "offline"}.items()
    }


def test_estimate_counts_runway_seconds_and_images_and_nothing_offline(monkeypatch):
    settings = Settings()
    assert estimate_cost(script(6), choices("runway", "runway"), settings).credits == 6 * (5 * 5 + 5)
    assert estimate_cost(script(6), choices("offline", "runway"), settings).credits == 150
    assert estimate_cost(script(6), choices("offline", "offline"), settings).credits == 0
    monkeypatch.setenv("SHORTS_RUNWAY_VIDEO_MODEL", "gen4.5")
    assert estimate_cost(script(2, seconds=2.4), choices("offline", "runway"), Settings()).credits == 2 * 12 * 3


def test_budget_stops_a_short_over_either_cap_before_anything_is_paid(monkeypatch):
    assert check_budget(script(6), choices("runway", "runway"), Settings()).credits == 180
    with pytest.raises(ConfigError, match=r"estimated at up to 240 credits, over SHORTS_MAX_CREDITS_PER_SHORT=200"):
        check_budget(script(8), choices("runway", "runway"), Settings())
    reserve(Ledger(Settings().paths.ledger), "spent today", estimate=900)
    with pytest.raises(ConfigError, match=r"spend to 1080, over SHORTS_MAX_CREDITS_PER_DAY=1000"):
        check_budget(script(6), choices("runway", "runway"), Settings())
    assert check_budget(script(6), choices("offline", "offline"), Settings()).credits == 0


def test_account_check_reads_balance_and_tier_without_spending(runway):
    account = runway_account(Settings())
    assert account.credit_balance == 4321 and account.max_concurrent["gen4_turbo"] == 3
    assert account.used_today == {"gen4_turbo": 7}
    assert [(r["method"], r["path"]) for r in runway.requests] == [("GET", "/v1/organization")]


def test_account_check_explains_a_wrong_key(runway, monkeypatch):
    monkeypatch.setenv("RUNWAYML_API_SECRET", "key_" + "e" * 128)
    with pytest.raises(ConfigError, match=r"refused the API key while reading the account \(401\)"):
        runway_account(Settings())

"""The ledger on a real Postgres server (SHORTS_DATABASE_URL): the same migrations, writers on many connections and
processes, advisory locks that die with their holder, and the shared topic queue."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from pipeline import ConfigError, Database, Settings, add_topics, next_topics, record_made, topic_statuses
from pipeline.state.ledger import DONE, MIGRATIONS, Ledger, m009_amount_columns, open_ledger
from pipeline.state.locks import AdvisoryLock


def _reserve(url: str, key: str, cap: float, results) -> None:
    try:
        Ledger(Settings().paths.ledger, url=url).reserve(
            key=key, provider="runway", kind="clip", model="gen4_turbo", estimate=10, daily_cap=cap
        )
        results.put("ok")
    except ConfigError:
        results.put("refused")


def test_same_named_migrations_on_postgres_and_sqlite(postgres_url, tmp_path):
    shared = Ledger(tmp_path / "unused.sqlite", url=postgres_url)
    Ledger(tmp_path / "unused.sqlite", url=postgres_url)  # opening again runs nothing again
    names = [m.__name__ for m in MIGRATIONS]
    assert shared.migrations() == names == Ledger(tmp_path / "local.sqlite").migrations()
    assert not (tmp_path / "unused.sqlite").exists() and shared.shared
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT count(*) FROM _migrations").fetchone()[0] == len(names)


def _ledger_before_m009(path, url: str | None) -> None:
    """A ledger as the version before m009 left it: its amounts in the `credits_*` columns, one finished Runware
    clip in dollars and one unconfirmed Runway clip in credits."""
    with Database(path, url).migrating() as db:
        db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        for migration in MIGRATIONS[: MIGRATIONS.index(m009_amount_columns)]:
            migration(db)
            db.execute("INSERT INTO _migrations VALUES (?, ?)", (migration.__name__, "2026-12-01T00:00:00+00:00"))
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        for key, provider, status, estimated, spent, unit in [
            ("a", "runware", DONE, 0.35, 0.3, "usd"),
            ("b", "runway", "unconfirmed", 25, None, "credits"),
        ]:
            db.execute(
                "INSERT INTO remote_tasks (key, provider, kind, model, status, credits_estimated, credits_spent, unit,"
                " created_at, updated_at) VALUES (?, ?, 'clip', 'm', ?, ?, ?, ?, ?, ?)",
                (key, provider, status, estimated, spent, unit, now, now),
            )


@pytest.mark.parametrize("shared", [False, True], ids=["sqlite", "postgres"])
def test_amounts_recorded_before_the_columns_were_renamed_are_kept(request, tmp_path, shared):
    url = request.getfixturevalue("postgres_url") if shared else None
    _ledger_before_m009(tmp_path / "ledger.sqlite", url)
    ledger = Ledger(tmp_path / "ledger.sqlite", url=url)  # runs m009
    assert ledger.migrations()[-1] == "m009_amount_columns"
    done, unconfirmed = ledger.tasks()
    assert (done.amount_estimated, done.amount_spent, unconfirmed.amount_estimated, unconfirmed.amount_spent) == (
        0.35,
        0.3,
        25,
        None,
    )
    day_ago = datetime.now(UTC) - timedelta(days=1)
    assert (ledger.spent_since(day_ago, "usd"), ledger.spent_since(day_ago, "credits")) == (0.3, 25)


def test_tasks_uploads_and_amounts_round_trip(postgres_url, tmp_path):
    ledger = Ledger(tmp_path / "x.sqlite", url=postgres_url)
    row = ledger.reserve(
        key="k", provider="runware", kind="clip", model="klingai:5@3", estimate=0.1, daily_cap=50, unit="usd"
    )
    ledger.update(row, task_id="t-1", status=DONE, amount_spent=0.1)
    task = ledger.latest("runware", "k")
    assert (task.row, task.task_id, task.status, task.amount_spent, task.unit) == (row, "t-1", DONE, 0.1, "usd")
    assert ledger.spent_since(task.created_at.replace(year=2000), "usd") == 0.1  # 8-byte floats, as in SQLite
    with pytest.raises(psycopg.errors.UniqueViolation):  # one row per vendor task id
        ledger.update(
            ledger.reserve(key="k2", provider="runware", kind="clip", model="m", estimate=0, daily_cap=50),
            task_id="t-1",
        )

    ledger.record_upload_session("hash", "main", "https://upload/session", title="Squid")
    ledger.record_upload_session("hash", "main", "https://upload/session-2")  # keeps the title
    assert (ledger.upload("hash", "main").session_uri, ledger.upload("hash", "main").title) == (
        "https://upload/session-2",
        "Squid",
    )
    ledger.record_upload_done("hash", "main", "vid1")
    assert (ledger.upload("hash", "main").video_id, ledger.upload("hash", "main").session_uri) == ("vid1", None)


def test_daily_cap_holds_when_processes_race_to_reserve(postgres_url):
    Ledger(Settings().paths.ledger, url=postgres_url)
    results = multiprocessing.get_context("spawn").Queue()
    workers = [
        multiprocessing.get_context("spawn").Process(target=_reserve, args=(postgres_url, f"k{i}", 55, results))
        for i in range(8)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in workers)
    assert outcomes == ["ok"] * 5 + ["refused"] * 3  # 5 x 10 credits fit under 55; no two writers both saw room
    assert len(Ledger(Settings().paths.ledger, url=postgres_url).tasks()) == 5


def _hold_forever(url: str, name: str) -> None:
    lock = AdvisoryLock(url, name)
    lock.acquire()
    time.sleep(600)


def test_an_advisory_lock_waits_for_its_holder_and_dies_with_it(postgres_url):
    holder = multiprocessing.get_context("spawn").Process(target=_hold_forever, args=(postgres_url, "clip-abc"))
    holder.start()
    try:
        lock = AdvisoryLock(postgres_url, "clip-abc")
        deadline = time.monotonic() + 30
        while not lock.is_locked():
            assert time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.1)
        assert not lock.acquire(timeout=0.3)  # held elsewhere: we wait, and give up at the timeout
        assert AdvisoryLock(postgres_url, "clip-other").acquire(timeout=0)  # other names are free
        os.kill(holder.pid, signal.SIGKILL)  # the OOM killer, a power cut: no release ever runs
        holder.join(10)
        assert lock.acquire(timeout=30)  # the server ended the dead session, and its lock with it
        assert lock.is_locked()
        lock.release()
        assert not lock.is_locked()
    finally:
        if holder.is_alive():
            holder.kill()


def test_the_topic_queue_lives_in_the_shared_database(postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SHORTS_DATABASE_URL", postgres_url)
    monkeypatch.setenv("SHORTS_HOME", str(tmp_path / "machine-a"))
    assert add_topics(Settings(), ["why squid glow", "how bees dance"])["added"] == ["why squid glow", "how bees dance"]
    assert not (tmp_path / "machine-a" / "topics.txt").exists()

    monkeypatch.setenv("SHORTS_HOME", str(tmp_path / "machine-b"))  # another machine, another home: the same queue
    assert next_topics(Settings(), 2) == ["why squid glow", "how bees dance"]
    record_made(Settings(), "why squid glow", "out/why-squid-glow/final.mp4")
    monkeypatch.setenv("SHORTS_HOME", str(tmp_path / "machine-a"))
    assert next_topics(Settings(), 2) == ["how bees dance"]
    assert add_topics(Settings(), ["Why  Squid Glow"])["skipped"] == ["Why Squid Glow"]
    assert [(s.topic, s.state) for s in topic_statuses(Settings())] == [
        ("why squid glow", "made"),
        ("how bees dance", "queued"),
    ]
    assert open_ledger(Settings()).shared


def test_a_bad_database_url_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("SHORTS_DATABASE_URL", "mysql://u:secret@db/shorts")
    with pytest.raises(ConfigError, match="must start with postgresql://") as error:
        open_ledger(Settings())
    assert "secret" not in str(error.value)
    monkeypatch.setenv("SHORTS_DATABASE_URL", "postgresql://u:hunter2-fake@127.0.0.1:1/shorts")
    with pytest.raises(ConfigError, match="Cannot reach the ledger database") as error:
        open_ledger(Settings())
    assert "hunter2" not in str(error.value)

"""`shorts stats` against a fake YouTube Data API and YouTube Analytics, through google-api-python-client and the
discovery documents it ships: known numbers, late data, a token without the Analytics scope, a spent quota, the
30-day policy, a Studio export, and the learnings reaching the prompts."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes.openai import BASE_URL, FakeOpenAI, good_script
from fakes.youtube import ACCESS_TOKEN, authorise
from fakes.youtube_analytics import (
    QUESTIONS,
    STATEMENTS,
    ChannelShort,
    FakeYouTubeStats,
    record_learning_channel,
    record_upload,
)
from google.oauth2.credentials import Credentials

from pipeline import Settings, ShortRequest, channel_stats, topic_preference
from pipeline.analytics.models import DataApiNumbers
from pipeline.analytics.report import draw_chart
from pipeline.analytics.store import save_snapshot, stored_snapshots
from pipeline.providers.openai.client import Connection
from pipeline.providers.openai.script import OpenAIScriptWriter
from pipeline.publish.youtube_auth import READONLY_SCOPE, UPLOAD_SCOPE, save_token, token_path
from pipeline.state.ledger import open_ledger
from pipeline.state.topics import add_topics, next_topics

SHORTS = str(Path(sys.executable).parent / "shorts")


def shorts(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SHORTS, *args], capture_output=True, text=True, timeout=60)


def no_sleep(seconds: float) -> None:
    pass


@pytest.fixture
def youtube(monkeypatch):
    """Start a fake channel with `youtube(shorts)`; SHORTS_* point both APIs at it and the token is stored."""
    fakes = []

    def start(channel: list[ChannelShort], **options) -> FakeYouTubeStats:
        fake = FakeYouTubeStats(channel, **options).start()
        fakes.append(fake)
        monkeypatch.setenv("SHORTS_YOUTUBE_API_URL", fake.root)
        monkeypatch.setenv("SHORTS_YOUTUBE_ANALYTICS_API_URL", fake.root)
        settings = Settings()
        authorise(settings.home_dir)
        for short in channel:
            record_upload(settings, short)
        return fake

    yield start
    for fake in fakes:
        fake.stop()


def test_stats_show_youtube_numbers_and_our_scores_labelled(youtube):
    fake = youtube(
        [
            ChannelShort("vidYoung01", "Young one", age_days=1),
            ChannelShort("vidFive001", "Five days", age_days=5, engaged=50, hold=0.7),
            ChannelShort(
                "vidOld0001",
                "Thirty days",
                age_days=30,
                views=200,
                engaged=80,
                hold=0.5,
                viewed_percent=64.0,
                subscribers=2,
            ),
        ]
    )

    result = shorts("stats", "--json")

    assert result.returncode == 0, result.stderr
    rows = {row["video_id"]: row for row in json.loads(result.stdout)["rows"]}
    young, five, old = rows["vidYoung01"], rows["vidFive001"], rows["vidOld0001"]
    assert young["youtube"]["views"] == 100 and young["analytics"] is None  # no Analytics before day 2
    assert five["youtube"]["views"] == 500 and five["analytics"]["days"] == 3  # day 1 and 3 snapshots so far
    assert five["analytics"]["engaged_views"] == 150 and five["analytics"]["retention_3s"] == pytest.approx(0.7)
    assert old["analytics"]["days"] == 28 and old["analytics"]["views"] == 200 * 28
    assert old["analytics"]["engaged_views"] == 80 * 28 and old["analytics"]["subscribers_gained"] == 56
    assert old["analytics"]["average_view_percentage"] == 64.0 and old["analytics"]["retention_end"] == 0.3
    assert old["ours"] == {"engaged_ratio": 0.4, "hold_score": 45.0}  # (0.5 + 0.4) / 2, ours
    assert old["short"]["hook_style"] == "statement" and old["short"]["cost"] == "40 credits"
    assert old["short"]["providers"] == {"script": "offline", "video": "runway"}
    videos = fake.calls("videos")
    assert len(videos) == 1 and videos[0]["part"] == ["snippet,statistics,contentDetails"]  # one call for 3 ids
    reports = fake.calls("reports")
    assert {q["dimensions"][0] for q in reports} == {"video,creatorContentType", "elapsedVideoTimeRatio"}
    assert len(reports) == 2 * (2 + 4)  # windows d1, d3 of one Short, d1-d28 of the other; a curve each

    table = shorts("stats", "--no-fetch")
    assert table.returncode == 0
    header = table.stdout.splitlines()[0]
    for column in ("YouTube views", "YouTube engaged views", "YouTube retention @3s", "ours: hold score"):
        assert column in header
    assert "shorts' own score, not YouTube's" in table.stdout
    assert len(fake.calls("videos")) == 1  # --no-fetch asked YouTube nothing


def test_late_analytics_are_fetched_on_a_later_run_and_complete_ones_are_not_asked_again(youtube):
    now = datetime.now(UTC)
    since_midnight = (now - now.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds() / 86400
    fake = youtube(
        [ChannelShort("vidLate001", "Late", age_days=1.5 + since_midnight)], latency_days=5
    )  # noon, 2 days ago

    first = channel_stats(Settings(), sleep=no_sleep)
    assert first.rows[0].analytics is None and first.rows[0].youtube.views == int(100 * (1.5 + since_midnight))
    assert any("no numbers yet" in note and "2-3 days late" in note for note in first.notes)

    fake.latency_days = 0
    second = channel_stats(Settings(), sleep=no_sleep)
    assert second.rows[0].analytics.engaged_views > 0 and second.notes == []
    assert not second.rows[0].analytics.complete  # fetched inside the latency: asked again next time

    asked = len(fake.calls("reports"))
    later = datetime.now(UTC) + timedelta(days=4)
    channel_stats(Settings(), sleep=no_sleep, now=later)
    asked_again = len(fake.calls("reports")) - asked
    channel_stats(Settings(), sleep=no_sleep, now=later)
    assert asked_again > 0 and len(fake.calls("reports")) - asked == asked_again  # complete now: not asked again


def test_a_token_without_the_analytics_scope_asks_for_consent_once_and_shows_data_api_numbers(youtube):
    fake = youtube([ChannelShort("vidScope01", "Scoped", age_days=10)])
    settings = Settings()
    save_token(
        Credentials(
            token=ACCESS_TOKEN,
            refresh_token="refresh",
            client_id="cid",
            client_secret="shh",
            token_uri="https://oauth2.googleapis.com/token",
            scopes=[UPLOAD_SCOPE, READONLY_SCOPE],
            expiry=datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=2),
        ),
        token_path(settings.home_dir, "main"),
    )

    result = shorts("stats", "--json")

    assert result.returncode == 0
    assert result.stderr.count("\n") == 1 and "does not allow YouTube Analytics" in result.stderr
    assert "shorts auth youtube --client-secrets FILE --channel main" in result.stderr
    (row,) = json.loads(result.stdout)["rows"]
    assert row["youtube"]["views"] == 1000 and row["analytics"] is None
    assert fake.calls("reports") == []


def test_a_spent_quota_is_one_line_and_the_stored_numbers_are_still_shown(youtube):
    fake = youtube([ChannelShort("vidQuota01", "Quota", age_days=8)])
    assert shorts("stats").returncode == 0

    fake.fail("videos", 403, "quotaExceeded")
    result = shorts("stats", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "Data API quota is used up" in result.stderr
    (row,) = json.loads(result.stdout)["rows"]
    assert row["youtube"]["views"] == 800 and row["analytics"]["days"] == 7  # the numbers stored before

    fake.fail("reports", 403, "quotaExceeded")
    with open_ledger(Settings()).database.connect(write=True) as db:
        db.execute("DELETE FROM video_stats WHERE label != 'now'")
    report = channel_stats(Settings(), sleep=no_sleep)
    assert report.notes == [
        "YouTube Analytics' quota is used up for now; the Analytics numbers shown are the ones "
        "stored earlier, rerun later."
    ]
    assert report.rows[0].youtube.views == 800


def test_rate_limits_are_retried_and_ids_go_fifty_a_call(youtube):
    fake = youtube([ChannelShort(f"vidMany{n:03d}", f"Short {n}", age_days=1) for n in range(60)])
    fake.fail("videos", 403, "rateLimitExceeded")

    report = channel_stats(Settings(), sleep=no_sleep)

    assert len(report.rows) == 60 and all(row.youtube and row.youtube.views == 100 for row in report.rows)
    sizes = [len(q["id"][0].split(",")) for q in fake.calls("videos")]
    assert sizes == [50, 50, 10]  # the refused call once more, then the rest


def test_snapshots_older_than_the_policy_are_refreshed_or_dropped(youtube):
    fake = youtube([ChannelShort("vidPolicy1", "Policy", age_days=40)])
    settings = Settings()
    ledger = open_ledger(settings)
    old = datetime.now(UTC) - timedelta(days=31)
    save_snapshot(ledger, "vidGone001", "now", DataApiNumbers(title="Gone", views=5), old)

    channel_stats(settings, fetch=False)
    assert "vidGone001" not in stored_snapshots(ledger)  # over 30 days and not refreshable: dropped

    channel_stats(settings, sleep=no_sleep)
    first_fetch = stored_snapshots(ledger)["vidPolicy1"].fetched["d28"]
    asked = len(fake.calls("reports"))
    channel_stats(settings, sleep=no_sleep, now=datetime.now(UTC) + timedelta(days=26))
    assert len(fake.calls("reports")) > asked  # 26 days on: asked again, inside the policy's 30
    assert stored_snapshots(ledger)["vidPolicy1"].fetched["d28"] > first_fetch + timedelta(days=25)

    report = channel_stats(settings, fetch=False, now=datetime.now(UTC) + timedelta(days=60))
    assert report.rows[0].youtube is None and report.rows[0].analytics is None
    assert any("over 30 days ago" in note for note in report.notes)


def test_a_studio_export_adds_viewed_vs_swiped_matched_by_video_id(youtube, tmp_path):
    youtube([ChannelShort("vidStudio1", "Studio one", age_days=3), ChannelShort("vidStudio2", "Studio two", 3)])
    export = tmp_path / "Table data.csv"
    export.write_text(
        "Content,Video title,Video publish time,Duration,Stayed to watch (%),Views\n"
        "Total,,,,55.5,900\n"
        'vidStudio1,Studio one,"Dec 4, 2026",30,62.5,500\n'
        'vidStudio2,Studio two,"Dec 4, 2026",30,41.0,300\n'
        'someoneElse,Not ours,"Dec 1, 2026",31,70.0,100\n',
        encoding="utf-8-sig",
    )

    result = shorts("stats", "import", str(export))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "Imported Studio numbers for 2 Short(s); 1 row(s) of videos this tool did not upload were skipped."
    )
    rows = {r["video_id"]: r for r in json.loads(shorts("stats", "--json", "--no-fetch").stdout)["rows"]}
    assert rows["vidStudio1"]["studio"] == {"viewed_percent": 62.5, "swiped_percent": 37.5, "views": 500}
    assert rows["vidStudio2"]["studio"]["viewed_percent"] == 41.0
    assert "Studio viewed %" in shorts("stats", "--no-fetch").stdout.splitlines()[0]

    bad = tmp_path / "other.csv"
    bad.write_text("Date,Views\n2026-12-01,5\n")
    refused = shorts("stats", "import", str(bad))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "Stayed to watch" in refused.stderr
    missing = shorts("stats", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "No file at" in missing.stderr and "Traceback" not in missing.stderr


@pytest.fixture
def learning_channel(youtube) -> FakeYouTubeStats:
    """A channel whose question-hook Shorts hold viewers better than its statement-hook ones."""
    fake = youtube([])
    fake.shorts = record_learning_channel(Settings())
    return fake


def test_learnings_say_which_hooks_topics_and_lengths_worked(learning_channel):
    report = channel_stats(Settings(), sleep=no_sleep)
    learnings = report.learnings

    assert learnings.counted == 6 and learnings.hook_style == "question" and learnings.seconds == 30
    assert learnings.winners == [t for _, t, _ in QUESTIONS] and learnings.losers == [t for _, t, _ in STATEMENTS]
    assert "Hooks asking a question held best: 80% at 3 s (other hooks: 40%)" in learnings.note
    assert "Shorts of 21-35 s kept people best (80% viewed on average, against 50% for 36-60 s)" in learnings.note
    prefer = topic_preference(learnings)
    assert prefer("Why do squid have three hearts") > prefer("A quick chair fact") > prefer("The stapler's history")

    png = draw_chart(report)
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_learnings_reach_the_brainstorm_the_script_prompt_and_the_queue_order(learning_channel, monkeypatch):
    settings = Settings()
    learnings = channel_stats(settings, sleep=no_sleep).learnings
    add_topics(settings, ["The stapler's first patent", "Why do squid have three hearts"])
    assert next_topics(settings, 2, prefer=topic_preference(learnings)) == [
        "Why do squid have three hearts",
        "The stapler's first patent",
    ]
    assert next_topics(settings, 2) == ["The stapler's first patent", "Why do squid have three hearts"]

    fake = FakeOpenAI()
    fake.chat.append({"topics": ["Why do cuttlefish change colour"]})
    fake.chat.append(good_script(scenes=2, words=12))
    writer = OpenAIScriptWriter(Connection("sk-fake-key-for-tests", BASE_URL, fake.client()), model="test-model")
    writer.brainstorm("sea life", 1, learnings=learnings.brainstorm_note())
    writer.write(ShortRequest(topic="Cuttlefish colour", seconds=10, scenes=2, learnings=learnings.note))

    brainstorm, script = fake.bodies("/chat/completions")
    prompt = brainstorm["messages"][0]["content"]
    assert "open with a hook asking a question" in prompt
    assert "Suggest more topics like: Why do octopuses have three hearts" in prompt
    assert "Fewer like: The history of the stapler" in prompt
    user = script["messages"][1]["content"]
    assert "open with a hook asking a question" in user and "aim for about 30 s" in user


def test_without_a_youtube_token_nothing_is_fetched_and_the_table_says_so(youtube):
    youtube([ChannelShort("vidNoTok01", "No token", age_days=3)])
    token_path(Settings().home_dir, "main").unlink()

    result = shorts("stats")

    assert result.returncode == 0 and "No YouTube token for channel 'main'" in result.stderr
    assert "No token" in result.stdout

"""The topic queue: `topics.txt` under SHORTS_HOME, which a person edits, and the ledger's memory of what was made.

With a shared ledger (SHORTS_DATABASE_URL), the queue is a table in it instead, so any machine's daily run takes
the next topic and no machine has to be the one with the file.

A topic already made is never taken again unless it is queued again on purpose (`add_topics(..., again=True)`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from pipeline.errors import ConfigError
from pipeline.models import Model, ShortRequest
from pipeline.settings import Settings
from pipeline.state.ledger import Ledger, open_ledger
from pipeline.state.locks import hold
from pipeline.state.store import atomic_path

log = logging.getLogger("shorts")

HEADER = r"""# Topics for the daily Shorts: one per line, made top to bottom. Lines starting with # are comments
# (a topic that starts with # or \ is written with a \ before it).
# Edit freely, or append with `shorts topics add "..."`. A topic already made is skipped; see `shorts topics list`.
"""


class TopicStatus(Model):
    """A queued topic and what the ledger knows about it."""

    topic: str
    state: Literal["queued", "made", "failed"]
    failures: int = 0  # failed attempts since it was last queued
    link: str | None = None  # where the made Short went
    detail: str | None = None  # why the last attempt failed
    updated_at: datetime | None = None


def topics_file(settings: Settings) -> Path:
    """The queue file a person edits."""
    return settings.paths.topics


def queue_name(settings: Settings) -> str:
    """Where the queue is, for messages: the file, or the shared database's table (without its password)."""
    if settings.database_url:
        return f"table topic_queue of {open_ledger(settings).database.name}"
    return str(topics_file(settings))


def topic_key(topic: str) -> str:
    """How topics are compared: case and spacing do not make a new topic."""
    return " ".join(topic.split()).casefold()


def clean_topic(text: str) -> str:
    """A topic as a Short would use it, or ConfigError saying what is wrong with it."""
    try:
        return ShortRequest(topic=text).topic
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"Topic {text[:40]!r}: {error.get('ctx', {}).get('error', error['msg'])}.") from exc


def read_topics(path: Path) -> list[str]:
    """The topics in the queue file, in order, without comments, blanks or repeats; an unusable line is skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(f"Cannot read the topic queue {path} ({exc.strerror}); check its permissions.") from exc
    topics: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            topic = clean_topic(line.lstrip().removeprefix("\\"))
        except ConfigError as exc:
            log.warning("  %s line %d skipped: %s", path.name, number, exc)
            continue
        topics.setdefault(topic_key(topic), topic)
    return list(topics.values())


def _line(topic: str) -> str:
    """A topic as the queue file holds it: one that starts with # (or \\) gets a \\ first, so it is not a comment."""
    return f"\\{topic}" if topic.startswith(("#", "\\")) else topic


def _append(path: Path, topics: list[str], comment: str | None = None) -> None:
    # The whole file is written anew and renamed into place, so a run killed mid-write never leaves half a topic
    # on the last line; the lock keeps two appends at once from losing one.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with hold(path.parent, f"queue-{path.name}"):
            text = path.read_text(encoding="utf-8") if path.exists() else HEADER
            if text and not text.endswith("\n"):
                text += "\n"  # a person's last line may lack its newline
            text += (f"# {comment}\n" if comment else "") + "".join(f"{_line(topic)}\n" for topic in topics)
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write the topic queue {path} ({exc.strerror}); check SHORTS_HOME.") from exc


def topic_statuses(settings: Settings, ledger: Ledger | None = None) -> list[TopicStatus]:
    """Every topic in the queue, in order, with what the ledger remembers of it."""
    if ledger is None and not settings.database_url and not settings.paths.ledger.exists():
        return [TopicStatus(topic=t, state="queued") for t in read_topics(topics_file(settings))]  # no ledger made
    ledger = ledger or open_ledger(settings)
    history = _history(ledger)
    return [
        history.get(topic_key(t), TopicStatus(topic=t, state="queued")).model_copy(update={"topic": t})
        for t in _queued(settings, ledger)
    ]


def _queued(settings: Settings, ledger: Ledger) -> list[str]:
    """The queue's topics in order: the shared ledger's table, else the file."""
    return ledger.queued_topics() if ledger.shared else read_topics(topics_file(settings))


def _enqueue(settings: Settings, ledger: Ledger, topics: list[str], comment: str | None = None) -> None:
    if ledger.shared:
        ledger.queue_topics([(topic_key(t), t) for t in topics], comment)
    else:
        _append(topics_file(settings), topics, comment)


def _history(ledger: Ledger) -> dict[str, TopicStatus]:
    """Replay the ledger's topic events into each topic's current status."""
    status: dict[str, TopicStatus] = {}
    for event in ledger.topic_events():
        now = status.get(event.key, TopicStatus(topic=event.topic, state="queued"))
        if event.event == "made":
            now = TopicStatus(topic=event.topic, state="made", link=event.link, updated_at=event.created_at)
        elif event.event == "requeued":
            now = TopicStatus(topic=event.topic, state="queued", updated_at=event.created_at)
        elif event.event == "failed" and now.state != "made":
            now = TopicStatus(
                topic=event.topic,
                state="failed",
                failures=now.failures + 1,
                detail=event.detail,
                updated_at=event.created_at,
            )
        status[event.key] = now
    return status


def add_topics(settings: Settings, topics: Iterable[str], again: bool = False) -> dict[str, list[str]]:
    """Append topics to the queue; with `again`, a topic already made is queued to be made once more.

    Returns the topics by what happened to them: added, requeued, or skipped (queued or made already).
    """
    cleaned = [clean_topic(t) for t in topics]
    ledger = open_ledger(settings)
    queued = {topic_key(t) for t in _queued(settings, ledger)}
    history = _history(ledger)
    outcome: dict[str, list[str]] = {"added": [], "requeued": [], "skipped": []}
    to_write = []
    for topic in dict.fromkeys(cleaned):
        key = topic_key(topic)
        made = key in history and history[key].state == "made"
        if made and again:
            ledger.record_topic(key, topic, "requeued")
            outcome["requeued"].append(topic)
        elif made or key in queued:
            outcome["skipped"].append(topic)
            continue
        else:
            outcome["added"].append(topic)
        if key not in queued:
            to_write.append(topic)
            queued.add(key)
    if to_write:
        _enqueue(settings, ledger, to_write)
    return outcome


def next_topics(settings: Settings, count: int, prefer: Callable[[str], float] | None = None) -> list[str]:
    """The next `count` topics to make: queued ones never tried first, then ones that failed before (fewest
    failures first). Fewer come back when fewer are waiting (the daily flow then brainstorms more, see
    pipeline.brainstorm).

    `prefer` scores a topic (higher first among equals: the channel's stats, see pipeline.analytics.learn)."""
    ledger = open_ledger(settings)
    statuses = topic_statuses(settings, ledger)
    waiting = sorted(
        (s for s in statuses if s.state != "made"), key=lambda s: (s.failures, -prefer(s.topic) if prefer else 0.0)
    )
    return [s.topic for s in waiting[:count]]


def known_topics(settings: Settings) -> set[str]:
    """Every topic the queue holds or the ledger remembers: what a brainstorm must not suggest again."""
    ledger = open_ledger(settings)
    return set(_queued(settings, ledger)) | {e.topic for e in ledger.topic_events()}


def queue_brainstormed(settings: Settings, ideas: list[str]) -> None:
    """Append brainstormed topics to the queue, under a line saying for which niche and when."""
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    _enqueue(settings, open_ledger(settings), ideas, f"brainstormed for the niche {settings.niche!r} on {when}")


def nothing_to_make(settings: Settings) -> ConfigError:
    """The error for a queue with nothing left to make."""
    return ConfigError(
        f"The topic queue {queue_name(settings)} has nothing left to make; add topics with "
        "`shorts topics add`, or set SHORTS_NICHE to brainstorm some."
    )


def record_made(settings: Settings, topic: str, link: str, run_id: str | None = None) -> None:
    """Remember that a topic's Short was made, so it is not taken again."""
    open_ledger(settings).record_topic(topic_key(topic), topic, "made", link=link, run_id=run_id)


def record_failed(settings: Settings, topic: str, reason: str, run_id: str | None = None) -> None:
    """Remember a failed attempt; the topic stays queued, behind topics never tried."""
    open_ledger(settings).record_topic(topic_key(topic), topic, "failed", detail=reason, run_id=run_id)

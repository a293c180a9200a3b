"""The ledger: facts about the outside world that must survive a crash (SQLite under SHORTS_HOME, or Postgres).

A paid remote task is written down before anyone waits on it, so a rerun resumes it instead of paying again. With
SHORTS_DATABASE_URL=postgresql://... every machine shares one ledger, so a rerun on another machine resumes it too.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.errors import ConfigError
from pipeline.models import Cost
from pipeline.settings import Settings
from pipeline.state.database import Connection, Database
from pipeline.state.locks import holding

# Our lifecycle of a remote task; the vendor's own status goes in `remote_status`.
SUBMITTING = "submitting"  # the create call is on the wire: a task may exist, its id is unknown
UNCONFIRMED = "unconfirmed"  # the create call failed in a way that may still have made (and billed) a task
IN_FLIGHT = "in_flight"  # the task id is known and its output is not stored yet
DONE = "done"  # the output is stored
FAILED = "failed"
CANCELLED = "cancelled"
REJECTED = "rejected"  # refused before any task existed; costs nothing
GONE = "gone"  # the vendor no longer knows the task
UNKNOWN_TASK = (SUBMITTING, UNCONFIRMED)
# What a task's amounts are counted in; each unit has its own daily cap.
CREDITS = "credits"
USD = "usd"
CHARACTERS = "characters"  # speech billed by the character (ElevenLabs)


class RemoteTask(BaseModel):
    """One remote task as the ledger remembers it."""

    model_config = ConfigDict(frozen=True)

    row: int
    key: str
    provider: str
    kind: str
    model: str
    task_id: str | None
    status: str
    remote_status: str | None
    amount_estimated: float
    amount_spent: float | None
    detail: str | None
    created_at: datetime
    updated_at: datetime
    unit: str = CREDITS  # what amount_estimated and amount_spent count: vendor credits, dollars or characters


def m001_remote_tasks(db: Connection) -> None:
    db.execute(
        db.sql("""
        CREATE TABLE remote_tasks (
            row INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            provider TEXT NOT NULL,
            kind TEXT NOT NULL,
            model TEXT NOT NULL,
            task_id TEXT,
            status TEXT NOT NULL,
            remote_status TEXT,
            credits_estimated REAL NOT NULL DEFAULT 0,
            credits_spent REAL,
            detail TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    )
    db.execute("CREATE INDEX remote_tasks_key ON remote_tasks (key, row)")
    db.execute("CREATE UNIQUE INDEX remote_tasks_task_id ON remote_tasks (provider, task_id) WHERE task_id IS NOT NULL")
    db.execute("CREATE INDEX remote_tasks_created ON remote_tasks (created_at)")


class TopicEvent(BaseModel):
    """Something that happened to a queued topic: made, failed, or requeued to be made again."""

    model_config = ConfigDict(frozen=True)

    key: str
    topic: str
    event: str
    link: str | None
    detail: str | None
    run_id: str | None
    created_at: datetime


def m002_topics(db: Connection) -> None:
    # One row per event, never updated, so the queue's history (and any retry count) can be replayed.
    db.execute(
        db.sql("""
        CREATE TABLE topics (
            row INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            topic TEXT NOT NULL,
            event TEXT NOT NULL,
            link TEXT,
            detail TEXT,
            run_id TEXT,
            created_at TEXT NOT NULL
        )""")
    )
    db.execute("CREATE INDEX topics_key ON topics (key, row)")


class Upload(BaseModel):
    """One final video on one channel: its upload session while it is being sent, then its YouTube id."""

    model_config = ConfigDict(frozen=True)

    video_hash: str
    channel: str
    title: str | None
    session_uri: str | None
    video_id: str | None
    created_at: datetime
    updated_at: datetime
    thumbnail_set_at: datetime | None = None  # when our custom thumbnail was set; None: not (yet)


def m003_uploads(db: Connection) -> None:
    # A (video hash, channel) pair is uploaded at most once. The session URI, recorded before any byte is
    # sent, lets a rerun resume an interrupted upload; it is cleared once the video id is known.
    db.execute("""
        CREATE TABLE uploads (
            video_hash TEXT NOT NULL,
            channel TEXT NOT NULL,
            title TEXT,
            session_uri TEXT,
            video_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (video_hash, channel)
        )""")


def m004_remote_task_units(db: Connection) -> None:
    # Runware bills in dollars, Runway in credits: the amount columns keep their names and count in `unit`,
    # so every row written before this migration stays what it was (credits).
    db.execute("ALTER TABLE remote_tasks ADD COLUMN unit TEXT NOT NULL DEFAULT 'credits'")


def m005_topic_queue(db: Connection) -> None:
    # The queue itself, for a shared database: every machine's daily run takes from it (a local ledger keeps using
    # SHORTS_HOME/topics.txt, which a person edits). A topic is queued once; its history stays in `topics`.
    db.execute(
        db.sql("""
        CREATE TABLE topic_queue (
            row INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            topic TEXT NOT NULL,
            comment TEXT,
            created_at TEXT NOT NULL
        )""")
    )


def m006_upload_thumbnails(db: Connection) -> None:
    # A custom thumbnail is set once per uploaded video: a rerun that finds this set sends none again.
    db.execute("ALTER TABLE uploads ADD COLUMN thumbnail_set_at TEXT")


class Post(BaseModel):
    """One final video on one account of a platform other than YouTube (Instagram, Facebook, TikTok): the remote
    id (container, video or publish id) from the moment it exists, then the post it became."""

    model_config = ConfigDict(frozen=True)

    platform: str
    account: str
    video_hash: str
    stage: str  # see pipeline.publish.contract: created, uploaded, publishing, posted, drafted, or abandoned
    remote_id: str | None
    upload_url: str | None
    post_id: str | None
    link: str | None
    detail: str | None
    created_at: datetime
    updated_at: datetime


def m007_posts(db: Connection) -> None:
    # A (platform, account, video hash) is posted at most once. The remote id is recorded before anyone waits on it,
    # so a rerun (or another machine) resumes that post instead of starting a second one.
    db.execute("""
        CREATE TABLE posts (
            platform TEXT NOT NULL,
            account TEXT NOT NULL,
            video_hash TEXT NOT NULL,
            stage TEXT NOT NULL,
            remote_id TEXT,
            upload_url TEXT,
            post_id TEXT,
            link TEXT,
            detail TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (platform, account, video_hash)
        )""")
    db.execute("CREATE INDEX posts_updated ON posts (platform, account, updated_at)")


def m008_video_stats(db: Connection) -> None:
    # YouTube's numbers for our uploads: one row per (video, snapshot label), replaced when refreshed. YouTube's API
    # policy wants stored API data refreshed or deleted within 30 days, so every row carries when it was fetched.
    # A Studio export (not API data) sits in its own table, matched by video id.
    db.execute("""
        CREATE TABLE video_stats (
            video_id TEXT NOT NULL,
            label TEXT NOT NULL,
            data TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            PRIMARY KEY (video_id, label)
        )""")
    db.execute("CREATE INDEX video_stats_fetched ON video_stats (fetched_at)")
    db.execute("""
        CREATE TABLE studio_stats (
            video_id TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            imported_at TEXT NOT NULL
        )""")


def m009_amount_columns(db: Connection) -> None:
    # Since m004 the amount columns count in `unit` (credits, dollars or characters), so they are named for that.
    db.execute("ALTER TABLE remote_tasks RENAME COLUMN credits_estimated TO amount_estimated")
    db.execute("ALTER TABLE remote_tasks RENAME COLUMN credits_spent TO amount_spent")


# Append only: a shipped migration is never edited, because databases in the wild have already run it.
MIGRATIONS: list[Callable[[Connection], None]] = [
    m001_remote_tasks,
    m002_topics,
    m003_uploads,
    m004_remote_task_units,
    m005_topic_queue,
    m006_upload_thumbnails,
    m007_posts,
    m008_video_stats,
    m009_amount_columns,
]
POST_COLUMNS = frozenset({"stage", "remote_id", "upload_url", "post_id", "link", "detail"})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Ledger:
    """The ledger in a SQLite file (`path`), or on the Postgres server `url` names; every call is one transaction."""

    def __init__(self, path: Path, timeout: float = 30.0, url: str | None = None) -> None:
        self.database = Database(path, url, timeout)
        self.path = self.database.path
        self._db = self.database.connect
        self._migrate()

    @property
    def shared(self) -> bool:
        """Whether other machines may use this ledger (a database server, not a local file)."""
        return self.database.postgres

    def hold(self, name: str, waiting: str | None = None) -> AbstractContextManager[None]:
        """Hold the lock `name` for the block, for every thread, process (and, when shared, machine) of this ledger;
        it dies with its holder."""
        return holding(self.database.lock(name), waiting)

    def _migrate(self) -> None:
        with self.database.migrating() as db:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            done = {row["name"] for row in db.execute("SELECT name FROM _migrations")}
            for migration in MIGRATIONS:
                if migration.__name__ not in done:
                    migration(db)
                    db.execute("INSERT INTO _migrations VALUES (?, ?)", (migration.__name__, _now()))

    def migrations(self) -> list[str]:
        """Names of the migrations this file has run, in order."""
        with self._db() as db:
            return [row["name"] for row in db.execute("SELECT name FROM _migrations ORDER BY applied_at, name")]

    def latest(self, provider: str, key: str) -> RemoteTask | None:
        """The newest task recorded for `key` with this provider."""
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM remote_tasks WHERE provider = ? AND key = ? ORDER BY row DESC LIMIT 1", (provider, key)
            ).fetchone()
        return RemoteTask(**row) if row else None

    def task(self, provider: str, task_id: str) -> RemoteTask | None:
        """The newest row recording the vendor's task `task_id`."""
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM remote_tasks WHERE provider = ? AND task_id = ? ORDER BY row DESC LIMIT 1",
                (provider, task_id),
            ).fetchone()
        return RemoteTask(**row) if row else None

    def get(self, row: int) -> RemoteTask:
        """One recorded task by its row number."""
        with self._db() as db:
            return RemoteTask(**db.execute("SELECT * FROM remote_tasks WHERE row = ?", (row,)).fetchone())

    def tasks(self) -> list[RemoteTask]:
        """Every recorded task, oldest first."""
        with self._db() as db:
            return [RemoteTask(**row) for row in db.execute("SELECT * FROM remote_tasks ORDER BY row")]

    def newest_billed(self, provider: str, model: str, key_like: str) -> RemoteTask | None:
        """The newest finished task of this provider and model whose key matches the SQL pattern `key_like`, with
        what it was billed."""
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM remote_tasks WHERE provider = ? AND model = ? AND key LIKE ? AND status = ?"
                " AND amount_spent IS NOT NULL ORDER BY row DESC LIMIT 1",
                (provider, model, key_like, DONE),
            ).fetchone()
        return RemoteTask(**row) if row else None

    def spent_since(self, since: datetime, unit: str = CREDITS) -> float:
        """Credits (or dollars) spent, or at most to be spent, by tasks created since `since`."""
        with self._db() as db:
            return self._spent(db, since, unit)

    @staticmethod
    def _spent(db: Connection, since: datetime, unit: str) -> float:
        row = db.execute(
            "SELECT SUM(COALESCE(amount_spent, amount_estimated)) AS total FROM remote_tasks "
            "WHERE created_at >= ? AND status != ? AND unit = ?",
            (since.isoformat(timespec="microseconds"), REJECTED, unit),
        )
        return float(row.fetchone()["total"] or 0.0)

    @staticmethod
    def _spent_on_short(db: Connection, provider: str, unit: str, short: str, key: str) -> float:
        # The newest row of each other task of the Short: a task asked for again (a rerun, --fresh) counts once.
        row = db.execute(
            "SELECT SUM(COALESCE(amount_spent, amount_estimated)) AS total FROM remote_tasks WHERE row IN"
            " (SELECT MAX(row) FROM remote_tasks WHERE provider = ? AND unit = ? AND key LIKE ? AND"
            " key != ? AND status != ? GROUP BY key)",
            (provider, unit, f"{short}/%", key, REJECTED),
        )
        return float(row.fetchone()["total"] or 0.0)

    def reserve(
        self,
        *,
        key: str,
        provider: str,
        kind: str,
        model: str,
        estimate: float,
        daily_cap: float,
        unit: str = CREDITS,
        task_id: str | None = None,
        short: str | None = None,
        short_cap: float = float("inf"),
    ) -> int:
        """Record that a task is about to be created (with its id, when the client makes it), unless it would
        pass the daily cap of its unit, or, for one task of a Short (its `key` starts with `short` and a slash),
        the Short's cap: the check and the record are one transaction, so tasks reserved at once cannot both pass."""
        with self._db(write=True) as db:
            spent = self._spent(db, datetime.now(UTC) - timedelta(days=1), unit)
            if spent + estimate > daily_cap:
                raise ConfigError(
                    f"This {kind} would bring the last 24 hours' {provider} spend to "
                    f"{Cost.of(spent + estimate, unit)}, over SHORTS_MAX_{unit.upper()}_PER_DAY="
                    f"{daily_cap:g}; raise it or wait, nothing was submitted."
                )
            if short is not None and short_cap != float("inf"):
                so_far = self._spent_on_short(db, provider, unit, short, key)
                if so_far + estimate > short_cap:
                    raise ConfigError(
                        f"This {kind} would bring the Short's {provider} spend to "
                        f"{Cost.of(so_far + estimate, unit)}, over SHORTS_MAX_{unit.upper()}_PER_SHORT="
                        f"{short_cap:g}; raise it or shorten the script, nothing was submitted."
                    )
            now = _now()
            return db.insert(
                "INSERT INTO remote_tasks (key, provider, kind, model, task_id, status, amount_estimated, unit,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, provider, kind, model, task_id, SUBMITTING, estimate, unit, now, now),
            )

    def update(self, row: int, **changes: object) -> None:
        """Change some columns of a recorded task (status, task_id, remote_status, amount_*, detail)."""
        allowed = {"status", "task_id", "remote_status", "amount_estimated", "amount_spent", "detail"}
        if not changes or set(changes) - allowed:
            raise ValueError(f"cannot update {sorted(set(changes) - allowed)} in the ledger")
        columns = ", ".join(f"{name} = ?" for name in changes)
        with self._db(write=True) as db:
            db.execute(
                f"UPDATE remote_tasks SET {columns}, updated_at = ? WHERE row = ?", (*changes.values(), _now(), row)
            )

    def record_topic(
        self,
        key: str,
        topic: str,
        event: str,
        *,
        link: str | None = None,
        detail: str | None = None,
        run_id: str | None = None,
    ) -> None:
        """Append a topic event (made, failed or requeued)."""
        with self._db(write=True) as db:
            db.execute(
                "INSERT INTO topics (key, topic, event, link, detail, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, topic, event, link, detail, run_id, _now()),
            )

    def topic_events(self) -> list[TopicEvent]:
        """Every topic event, oldest first."""
        with self._db() as db:
            return [
                TopicEvent(**row)
                for row in db.execute(
                    "SELECT key, topic, event, link, detail, run_id, created_at FROM topics ORDER BY row"
                )
            ]

    def upload(self, video_hash: str, channel: str) -> Upload | None:
        """What is known of uploading this video to this channel, if anything."""
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM uploads WHERE video_hash = ? AND channel = ?", (video_hash, channel)
            ).fetchone()
        return Upload(**row) if row else None

    def record_upload_session(
        self, video_hash: str, channel: str, session_uri: str | None, *, title: str | None = None
    ) -> None:
        """Remember the resumable session an upload uses (None: it expired), before a byte is sent on it."""
        now = _now()
        with self._db(write=True) as db:
            db.execute(
                "INSERT INTO uploads (video_hash, channel, title, session_uri, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (video_hash, channel) DO UPDATE SET "
                "session_uri = excluded.session_uri, title = COALESCE(excluded.title, uploads.title), "
                "updated_at = excluded.updated_at",
                (video_hash, channel, title, session_uri, now, now),
            )

    def record_upload_done(self, video_hash: str, channel: str, video_id: str) -> None:
        """Remember the id YouTube gave the video; from now on it is never uploaded to this channel again."""
        now = _now()
        with self._db(write=True) as db:
            db.execute(
                "INSERT INTO uploads (video_hash, channel, video_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (video_hash, channel) DO UPDATE SET "
                "video_id = excluded.video_id, session_uri = NULL, updated_at = excluded.updated_at",
                (video_hash, channel, video_id, now, now),
            )

    def record_thumbnail_set(self, video_hash: str, channel: str) -> None:
        """Remember that the uploaded video's thumbnail is set; a rerun then leaves it alone."""
        with self._db(write=True) as db:
            now = _now()
            db.execute(
                "UPDATE uploads SET thumbnail_set_at = ?, updated_at = ? WHERE video_hash = ? AND channel = ?",
                (now, now, video_hash, channel),
            )

    def post(self, platform: str, account: str, video_hash: str) -> Post | None:
        """What is known of posting this video to this account of `platform`, if anything."""
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM posts WHERE platform = ? AND account = ? AND video_hash = ?",
                (platform, account, video_hash),
            ).fetchone()
        return Post(**row) if row else None

    def record_post(self, platform: str, account: str, video_hash: str, **changes: str | None) -> None:
        """Create or change the record of one post (stage, remote_id, upload_url, post_id, link, detail)."""
        if "stage" not in changes or set(changes) - POST_COLUMNS:
            raise ValueError(f"cannot record {sorted(changes)} for a post")
        now = _now()
        names = ", ".join(changes)
        marks = ", ".join("?" for _ in changes)
        updates = ", ".join(f"{name} = excluded.{name}" for name in changes)
        with self._db(write=True) as db:
            db.execute(
                f"INSERT INTO posts (platform, account, video_hash, {names}, created_at, updated_at) "
                f"VALUES (?, ?, ?, {marks}, ?, ?) ON CONFLICT (platform, account, video_hash) DO UPDATE SET "
                f"{updates}, updated_at = excluded.updated_at",
                (platform, account, video_hash, *changes.values(), now, now),
            )

    def posts_since(self, platform: str, account: str, since: datetime, stages: tuple[str, ...]) -> int:
        """How many posts to this account reached one of `stages` since `since` (a platform's daily cap)."""
        marks = ", ".join("?" for _ in stages)
        with self._db() as db:
            row = db.execute(
                f"SELECT COUNT(*) AS n FROM posts WHERE platform = ? AND account = ? AND updated_at >= ?"
                f" AND stage IN ({marks})",
                (platform, account, since.isoformat(timespec="microseconds"), *stages),
            ).fetchone()
        return int(row["n"])

    def queued_topics(self) -> list[str]:
        """The shared topic queue, oldest first."""
        with self._db() as db:
            return [row["topic"] for row in db.execute("SELECT topic FROM topic_queue ORDER BY row")]

    def queue_topics(self, topics: list[tuple[str, str]], comment: str | None = None) -> None:
        """Add (key, topic) pairs to the shared queue; a key already queued stays where it is."""
        with self._db(write=True) as db:
            for key, topic in topics:
                db.execute(
                    "INSERT INTO topic_queue (key, topic, comment, created_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (key) DO NOTHING",
                    (key, topic, comment, _now()),
                )


def open_ledger(settings: Settings) -> Ledger:
    """The ledger these settings name: SHORTS_DATABASE_URL, else the SQLite file under SHORTS_HOME."""
    url = settings.database_url.get_secret_value() if settings.database_url else None
    return Ledger(settings.paths.ledger, url=url)

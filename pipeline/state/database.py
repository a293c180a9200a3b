"""Where the ledger lives: the SQLite file under SHORTS_HOME (the default), or a Postgres server several machines share.

Both take the same SQL, written for SQLite with `?` placeholders; the few words the two spell differently go through
`Database.sql`. Every call opens its own connection, so threads and processes can share one database.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from pipeline.errors import ConfigError
from pipeline.state.locks import AdvisoryLock, FileLock, hold, lock_file, lock_number, postgres_driver

POSTGRES_SCHEMES = ("postgresql", "postgres")
# Writers of one Postgres ledger take this transaction lock first, as SQLite's BEGIN IMMEDIATE does: a daily cap
# checked and a task inserted by one writer cannot interleave with another writer's, on any machine.
_WRITE_LOCK = "shorts-ledger-write"


def is_postgres(url: str | None) -> bool:
    """Whether a database URL names a Postgres server."""
    return bool(url) and urlsplit(url).scheme in POSTGRES_SCHEMES


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def _private_file(path: Path) -> None:
    """The SQLite file created readable by its owner only (it holds topics and upload session URLs), or narrowed to
    that when found open; SQLite gives its -wal and -shm files the same mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    except OSError:
        return  # an unwritable folder: the first connection says so in its own sentence
    try:
        if path.stat().st_mode & 0o077 and path.stat().st_uid == os.geteuid():
            path.chmod(0o600)
    except OSError:
        pass  # not ours to change (a shared file); SQLite still opens it as before


class Cursor(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection:
    """One open transaction; `execute` takes SQLite-style SQL on either database."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw = raw
        self.postgres = postgres

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        if self.postgres:
            sql = sql.replace("?", "%s")  # our SQL has no literal question marks
        return self.raw.execute(sql, tuple(params))

    def insert(self, sql: str, params: Sequence[object]) -> int:
        """Run an INSERT into a table whose key is `row`; returns the new row's number."""
        if self.postgres:
            return int(self.execute(f"{sql} RETURNING row", params).fetchone()["row"])
        return int(self.raw.execute(sql, tuple(params)).lastrowid)

    def sql(self, text: str) -> str:
        """SQLite's spelling of a column type, in this database's: an auto-numbered key, and 8-byte floats."""
        if not self.postgres:
            return text
        return text.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY").replace(
            " REAL", " DOUBLE PRECISION"
        )


class Database:
    """A SQLite file, or a Postgres server when `url` is a postgresql:// URL."""

    def __init__(self, sqlite_file: Path, url: str | None = None, timeout: float = 30.0) -> None:
        self.url = url or None
        self.timeout = timeout
        self.postgres = is_postgres(url)
        if url and not self.postgres:
            scheme = urlsplit(url).scheme
            if scheme != "sqlite":
                raise ConfigError(f"SHORTS_DATABASE_URL must start with postgresql:// or sqlite:///, not {scheme}://.")
            sqlite_file = Path(urlsplit(url).path)
        self.path = sqlite_file  # the SQLite file, and where its locks live beside it
        if not self.postgres:
            sqlite_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _private_file(sqlite_file)

    @property
    def name(self) -> str:
        """Where the database is, without a password: for messages."""
        return redacted(self.url) if self.url and self.postgres else str(self.path)

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        if self.postgres:
            with self._postgres(write) as db:
                yield db
            return
        raw = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        raw.row_factory = sqlite3.Row
        try:
            # IMMEDIATE takes the write lock up front, so check-then-insert cannot race another process.
            raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Connection(raw, postgres=False)
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")
        finally:
            raw.close()

    @contextmanager
    def _postgres(self, write: bool) -> Iterator[Connection]:
        psycopg = postgres_driver()
        from psycopg.rows import dict_row

        try:
            raw = psycopg.connect(self.url, row_factory=dict_row, connect_timeout=int(self.timeout))
        except psycopg.OperationalError as exc:
            raise ConfigError(
                f"Cannot reach the ledger database {self.name}; check SHORTS_DATABASE_URL and that the server is up."
            ) from exc
        try:
            with raw.transaction():
                db = Connection(raw, postgres=True)
                if write:
                    db.execute("SELECT pg_advisory_xact_lock(?)", (lock_number(_WRITE_LOCK),))
                yield db
        finally:
            raw.close()

    @contextmanager
    def migrating(self) -> Iterator[Connection]:
        """The transaction that runs migrations: one process at a time, however many start at once."""
        if self.postgres:
            with self.connect(write=True) as db:  # DDL is transactional in Postgres; the write lock serialises it
                yield db
            return
        # Switching a new file to WAL fails at once ("database is locked"), without waiting, when another thread or
        # process switches it at the same moment (two first runs at once): one at a time.
        with hold(self.path.parent, f"ledger-{self.path.name}"):
            raw = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            try:
                raw.execute("PRAGMA journal_mode=WAL")  # readers never block the one writer
            finally:
                raw.close()
        with self.connect(write=True) as db:
            yield db

    def lock(self, name: str) -> FileLock | AdvisoryLock:
        """A lock named `name` that every user of this database shares: an advisory lock on Postgres (any machine),
        else a flock file beside the SQLite file (this machine)."""
        if self.url and self.postgres:
            return AdvisoryLock(self.url, name)
        return FileLock(lock_file(self.path.parent, name))

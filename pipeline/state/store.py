"""The asset store: files named by a hash of everything that determines them."""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pipeline.errors import ConfigError, ProviderError
from pipeline.settings import Settings
from pipeline.state.ledger import DONE, Ledger, open_ledger
from pipeline.state.locks import FileLock, holding

# Bump when the meaning of a key changes, so old files become misses instead of wrong hits.
HASH_PREFIX = "shorts-asset-v1"
RECORD_SUFFIX = ".sum"  # beside each stored file: what it was when it was written (StoredFile, as JSON)
# What a damaged paid file is, in its sentence.
WHAT = {"frames": "first frame", "clips": "clip", "voice": "narration"}
# Vendors whose finished task a rerun downloads again without a charge (runway/tasks.py resumes a DONE task, and
# Runway hands out fresh output URLs for it); Runware may have dropped a finished task, and a rerun would then buy it.
COLLECTS_AGAIN = ("runway",)

log = logging.getLogger("shorts")


def content_key(kind: str, **inputs: Any) -> str:
    """A stable hash of `inputs` (models, paths and plain values) for an asset of `kind`."""
    canonical = json.dumps({"kind": kind, **inputs}, sort_keys=True, default=_jsonable, ensure_ascii=False)
    return hashlib.sha256(f"{HASH_PREFIX}\n{canonical}".encode()).hexdigest()[:32]


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        # A path stands for its content: the same bytes elsewhere give the same key.
        return file_digest(value) if value.is_file() else str(value)
    raise TypeError(f"cannot hash {type(value).__name__}")


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it into place if the block succeeds and wrote it.

    A reader only ever sees `final` whole or not at all. What a killed writer leaves (the temporary file, and any
    `<temporary>.*` helper beside it) is removed by the next writer of the same file.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_parts(final)
    tmp = final.with_name(f".{final.stem}.{temp_tag()}.part{final.suffix}")
    try:
        yield tmp
        if tmp.exists():
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def temp_tag() -> str:
    """A unique part of a temporary name that also names its writer, so leftovers of dead writers can be told apart."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


_TAG = re.compile(r"[.-](\d+)-[0-9a-f]{8}\.part")


def is_stale(temporary: Path) -> bool:
    """Whether a temporary file or folder named with `temp_tag` was left by a writer that has died."""
    tag = _TAG.search(temporary.name)
    return tag is not None and not _alive(int(tag.group(1)))


def sweep_stale_parts(final: Path) -> list[Path]:
    """Remove the temporary files of `final` whose writer has died (SIGKILL, power cut) before renaming them."""
    removed = []
    for leftover in final.parent.glob(f".{glob.escape(final.stem)}.*.part*"):
        if is_stale(leftover):
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class StoredFile(BaseModel):
    """What a stored file was when the store wrote it, so a read can tell a damaged file from a good one."""

    size: int
    sha256: str
    paid_by: str | None = None  # the vendor that billed it: a damaged one is never bought again unasked
    task_id: str | None = None  # the vendor's task, which the ledger may let a rerun collect again for free


class DamagedAsset(ProviderError):
    """A paid file in the store no longer matches its record, and buying it again needs a person's yes."""


def record_path(path: Path) -> Path:
    """Where the record of the stored file `path` is kept: `<key><ext>.sum` beside it."""
    return path.with_name(path.name + RECORD_SUFFIX)


def read_record(path: Path) -> StoredFile | None:
    """The record written with `path`, or None for a file stored before records were kept (or an unreadable one)."""
    try:
        return StoredFile.model_validate_json(record_path(path).read_bytes())
    except (OSError, ValidationError):
        return None


def damage(path: Path, record: StoredFile | None) -> str | None:
    """How `path` differs from its record (a few words), or None when it matches or has no record to match."""
    if record is None:
        return None
    try:
        size = path.stat().st_size
    except OSError:
        return "it is gone"
    if size != record.size:
        return f"{size} bytes, {record.size} when stored"
    if file_digest(path) != record.sha256:  # same size: only the bytes can tell
        return "its bytes changed since it was stored"
    return None


def intact(path: Path) -> bool:
    """Whether `path` exists and matches its record (a file with no record counts as intact, as it did before)."""
    return path.is_file() and damage(path, read_record(path)) is None


class RemoteStore:
    """A folder in object storage (`s3://bucket/prefix`, through fsspec), holding `<kind>/<key>.<ext>` as the local
    store does. Credentials and the endpoint come from the usual AWS variables, never from the URL."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        try:
            import fsspec  # only object storage needs it (and s3fs behind it)

            self.fs, self.base = fsspec.core.url_to_fs(self.url)
        except ImportError as exc:
            raise ConfigError(
                f'SHORTS_STORE_URL={self.url} needs s3fs; install it with `pip install -e ".[scale]"`.'
            ) from exc

    def check(self) -> None:
        """Reach the bucket (a free call), or ConfigError saying it is missing."""
        bucket = self.base.split("/", 1)[0]
        self.fs.invalidate_cache(bucket)
        if not self.fs.exists(bucket):
            raise ConfigError(
                f"The bucket {bucket!r} of SHORTS_STORE_URL does not exist or these AWS credentials "
                "cannot see it; create it or check the AWS variables."
            )

    def _remote(self, name: str) -> str:
        return f"{self.base}/{name}"

    def has(self, name: str) -> bool:
        """Whether the object `name` (`<kind>/<file>`) is stored, as of now (not as an older listing said)."""
        self.fs.invalidate_cache(self._remote(name))
        return self.fs.exists(self._remote(name))

    def download(self, name: str, dest: Path) -> None:
        """Copy the object `name` to `dest`, whole or not at all."""
        with atomic_path(dest) as tmp:
            self.fs.get_file(self._remote(name), str(tmp))

    def download_record(self, name: str, path: Path) -> None:
        """Copy the record of the object `name` beside `path`, or remove a local one it does not have."""
        if self.has(name + RECORD_SUFFIX):
            self.download(name + RECORD_SUFFIX, record_path(path))
        else:
            record_path(path).unlink(missing_ok=True)

    def upload(self, source: Path, name: str) -> None:
        """Store `source` as `name` (replacing it: a --fresh remake must reach the other machines too)."""
        self.fs.put_file(str(source), self._remote(name))

    def link(self, name: str, seconds: int) -> str:
        """A URL that opens the object `name` for `seconds`, with no credentials needed."""
        return self.fs.sign(self._remote(name), expiration=seconds)


class AssetStore:
    """Content-addressed files under one root: `<root>/<kind>/<key>.<ext>`; with `remote`, object storage holds them
    for every machine and `root` is this machine's read-through cache of it.

    Each file is written with a record of its size and sha256 (`<file>.sum`), and each `find` checks the file against
    it: a damaged free file is a miss (made again), a damaged paid one stops the run unless `ledger` shows its task
    can be collected again for free.
    """

    def __init__(
        self, root: Path, remote: RemoteStore | None = None, ledger: Callable[[], Ledger] | None = None
    ) -> None:
        self.root = root
        self.remote = remote
        self.ledger = ledger  # opened only when a damaged paid file is found

    def path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / f"{key}{suffix}"

    def find(self, kind: str, key: str, suffix: str) -> Path | None:
        """The stored file for `key` (fetched into the cache if only object storage has it), or None when it was
        never made, has gone, or is a damaged free file (to be made again); raises DamagedAsset for a damaged paid
        file that cannot be collected again for free."""
        path = self.path(kind, key, suffix)
        record = read_record(path)
        if path.is_file() and (record or path.stat().st_size > 0):
            problem = damage(path, record)
            if problem is None:
                return path
            found, again = self._fetch(path)  # this machine's copy broke; the shared one may be whole
            if found and again is None:
                return path
            self._damaged(path, read_record(path) or record, problem)
            return None
        found, problem = self._fetch(path)
        if found and problem:
            self._damaged(path, read_record(path), f"{problem}, as fetched from object storage")
            return None
        return path if found else None

    @contextmanager
    def making(self, kind: str, key: str) -> Iterator[None]:
        """Held while this store's `key` is looked for and made, so two scenes (or runs) that ask at once for the same
        file make it once: the second finds the first one's file, not a file of its own that replaced it."""
        with holding(FileLock(self.root / "making" / f"{kind}-{key}.lock"), waiting=f"waiting for the same {kind}"):
            yield

    def saved(self, path: Path, paid_by: str | None = None, task_id: str | None = None) -> Path:
        """Say that a file of the store was just made: its record is written beside it, and object storage gets both,
        for the other machines. `paid_by` names the vendor that billed it (and `task_id` its task there)."""
        record = StoredFile(size=path.stat().st_size, sha256=file_digest(path), paid_by=paid_by, task_id=task_id)
        with atomic_path(record_path(path)) as tmp:
            tmp.write_text(record.model_dump_json(), encoding="utf-8")
        if self.remote:
            self.remote.upload(path, self._name(path))
            self.remote.upload(record_path(path), self._name(path) + RECORD_SUFFIX)
        return path

    def local(self, path: Path) -> Path:
        """A stored file's path on this machine; `path` may be another machine's (from a shared result record)."""
        if not self.remote or path.is_relative_to(self.root):
            return path
        mine = self.root / self._name(path)
        return self.find(mine.parent.name, mine.stem, mine.suffix) or path

    def link(self, path: Path, seconds: int = 7 * 24 * 3600) -> str | None:
        """A time-limited URL of a stored file in object storage (a week by default), or None without one."""
        return self.remote.link(self._name(path), seconds) if self.remote else None

    def _fetch(self, path: Path) -> tuple[bool, str | None]:
        """Copy `path` (and its record) from object storage into this cache: whether it is there, and how the copy
        differs from its record (None when whole)."""
        name = self._name(path)
        if not self.remote or not self.remote.has(name):
            return False, None
        self.remote.download(name, path)
        self.remote.download_record(name, path)
        return True, damage(path, read_record(path))

    def _damaged(self, path: Path, record: StoredFile | None, problem: str) -> None:
        """A damaged file: a free one is removed and counts as never made; a paid one is collected again when the
        ledger has its finished task, else it stops the run with the command that buys only it again."""
        what = WHAT.get(path.parent.name, "file")
        if record is None or record.paid_by is None:
            log.warning("  %s is damaged (%s); making it again", path, problem)
            self._forget(path)
            return None
        if self._collectable(record):
            log.warning(
                "  %s is damaged (%s); collecting %s task %s again (no new charge)",
                path,
                problem,
                record.paid_by,
                record.task_id,
            )
            self._forget(path)
            return None
        shared = f" and `{self._name(path)}` under SHORTS_STORE_URL" if self.remote else ""
        # A new first frame has other bytes, so the scene's clip is made from it again (a paid clip is bought again).
        also = " (the scene's clip is then made again from it)" if what == "first frame" else ""
        raise DamagedAsset(
            f"The {what} {path} is damaged ({problem}) and was bought from {record.paid_by}, so it is "
            f"not bought again unasked; to buy only it again{also}, delete it (`rm {path}`{shared}) and "
            "rerun the same command."
        )

    def _collectable(self, record: StoredFile) -> bool:
        """Whether the ledger shows the paid task finished and is the one a rerun resumes (downloading it again)."""
        if not (self.ledger and record.task_id and record.paid_by in COLLECTS_AGAIN):
            return False
        ledger = self.ledger()
        task = ledger.task(record.paid_by, record.task_id)
        latest = ledger.latest(record.paid_by, task.key) if task else None
        return bool(task and latest and latest.row == task.row and task.status == DONE)

    def _forget(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        record_path(path).unlink(missing_ok=True)

    @staticmethod
    def _name(path: Path) -> str:
        return f"{path.parent.name}/{path.name}"  # <kind>/<key>.<ext>, wherever the root is


def open_store(settings: Settings) -> AssetStore:
    """The asset store these settings name: HOME/assets, backed by SHORTS_STORE_URL/assets when that is set."""
    remote = RemoteStore(f"{settings.store_url.rstrip('/')}/assets") if settings.store_url else None
    return AssetStore(settings.paths.assets, remote, ledger=lambda: open_ledger(settings))

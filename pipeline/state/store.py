"""The asset store: files named by a hash of everything that determines them."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pipeline.errors import ConfigError
from pipeline.settings import Settings

# Bump when the meaning of a key changes, so old files become misses instead of wrong hits.
HASH_PREFIX = "shorts-asset-v1"


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
    return bool(tag) and not _alive(int(tag.group(1)))


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


class RemoteStore:
    """A folder in object storage (`s3://bucket/prefix`, through fsspec), holding `<kind>/<key>.<ext>` as the local
    store does. Credentials and the endpoint come from the usual AWS variables, never from the URL."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        try:
            import fsspec  # only object storage needs it (and s3fs behind it)

            self.fs, self.base = fsspec.core.url_to_fs(self.url)
        except ImportError as exc:
            raise ConfigError(f"SHORTS_STORE_URL={self.url} needs s3fs; install it with "
                              "`pip install -e \".[scale]\"`.") from exc

    def check(self) -> None:
        """Reach the bucket (a free call), or ConfigError saying it is missing."""
        bucket = self.base.split("/", 1)[0]
        self.fs.invalidate_cache(bucket)
        if not self.fs.exists(bucket):
            raise ConfigError(f"The bucket {bucket!r} of SHORTS_STORE_URL does not exist or these AWS credentials "
                              "cannot see it; create it or check the AWS variables.")

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

    def upload(self, source: Path, name: str) -> None:
        """Store `source` as `name` (replacing it: a --fresh remake must reach the other machines too)."""
        self.fs.put_file(str(source), self._remote(name))

    def link(self, name: str, seconds: int) -> str:
        """A URL that opens the object `name` for `seconds`, with no credentials needed."""
        return self.fs.sign(self._remote(name), expiration=seconds)


class AssetStore:
    """Content-addressed files under one root: `<root>/<kind>/<key>.<ext>`; with `remote`, object storage holds them
    for every machine and `root` is this machine's read-through cache of it."""

    def __init__(self, root: Path, remote: RemoteStore | None = None) -> None:
        self.root = root
        self.remote = remote

    def path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / f"{key}{suffix}"

    def find(self, kind: str, key: str, suffix: str) -> Path | None:
        """The stored file for `key` (fetched into the cache if only object storage has it), or None when it was
        never made or has gone."""
        path = self.path(kind, key, suffix)
        if path.is_file() and path.stat().st_size > 0:
            return path
        if self.remote and self.remote.has(f"{kind}/{path.name}"):
            self.remote.download(f"{kind}/{path.name}", path)
            return path
        return None

    def saved(self, path: Path) -> Path:
        """Say that a file of the store was just made: object storage gets a copy, for the other machines."""
        if self.remote:
            self.remote.upload(path, self._name(path))
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

    @staticmethod
    def _name(path: Path) -> str:
        return f"{path.parent.name}/{path.name}"  # <kind>/<key>.<ext>, wherever the root is


def open_store(settings: Settings) -> AssetStore:
    """The asset store these settings name: HOME/assets, backed by SHORTS_STORE_URL/assets when that is set."""
    remote = RemoteStore(f"{settings.store_url.rstrip('/')}/assets") if settings.store_url else None
    return AssetStore(settings.paths.assets, remote)

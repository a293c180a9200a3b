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


class AssetStore:
    """Content-addressed files under one root: `<root>/<kind>/<key>.<ext>`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / f"{key}{suffix}"

    def find(self, kind: str, key: str, suffix: str) -> Path | None:
        """The stored file for `key`, or None when it was never made or has gone."""
        path = self.path(kind, key, suffix)
        return path if path.is_file() and path.stat().st_size > 0 else None

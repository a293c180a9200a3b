"""Step 6: publish. Here, drop the finished package into the outbox folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.models import Published
from pipeline.package import PACKAGE_FILES
from pipeline.store import file_digest


def publish_to_outbox(out_dir: Path, outbox: Path, name: str) -> Published:
    """Copy the package to `outbox/<name>-<video hash>`; the same video is dropped only once."""
    target = outbox / f"{name}-{file_digest(out_dir / 'final.mp4')[:10]}"
    if target.is_dir():
        return Published(destination="outbox", location=str(target))
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=outbox))
        try:
            for file in PACKAGE_FILES:
                shutil.copyfile(out_dir / file, staging / file)
            os.replace(staging, target)  # a reader never sees half a package
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise ConfigError(f"Cannot write to the outbox {outbox} ({exc.strerror}); set SHORTS_OUTBOX_DIR.",
                          step="publish") from exc
    return Published(destination="outbox", location=str(target))

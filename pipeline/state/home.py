"""What lives under SHORTS_HOME: the one object that names each path there, and who may read it."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError

log = logging.getLogger("shorts")
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


@dataclass(frozen=True)
class Home:
    """The layout of a SHORTS_HOME folder."""

    root: Path

    @property
    def assets(self) -> Path:
        """The asset store: content-addressed frames, clips, voice and renders."""
        return self.root / "assets"

    @property
    def ledger(self) -> Path:
        """The SQLite ledger (unless SHORTS_DATABASE_URL names a shared one)."""
        return self.root / "ledger.sqlite"

    @property
    def topics(self) -> Path:
        """The queue of topics the daily runs make."""
        return self.root / "topics.txt"

    @property
    def locks(self) -> Path:
        """One flock file per lock name."""
        return self.root / "locks"

    @property
    def youtube_tokens(self) -> Path:
        """One OAuth token per YouTube channel."""
        return self.root / "youtube"

    @property
    def outbox(self) -> Path:
        """Finished packages, when they are not uploaded (unless SHORTS_OUTBOX_DIR says otherwise)."""
        return self.root / "outbox"

    @property
    def prefect_results(self) -> Path:
        """Prefect's result records (unless SHORTS_STORE_URL keeps them in a bucket)."""
        return self.root / "prefect-results"

    @property
    def prefect_server_log(self) -> Path:
        """What the Prefect server `shorts serve` starts writes."""
        return self.root / "prefect-server.log"

    @property
    def background_server(self) -> Path:
        """The background Prefect server `shorts make` starts and reuses: its state, lock, database and log."""
        return self.root / "prefect-server"

    @property
    def server_login(self) -> Path:
        """The credentials our Prefect servers ask for (the UI's login), readable by the owner only."""
        return self.root / "prefect-login"

    @property
    def voices(self) -> Path:
        """Offline voice models prepared once (Piper's voice patched to report its timings)."""
        return self.root / "voices"


def make_private(path: Path) -> bool:
    """Make a secret file (0600) or folder (0700) readable by its owner only; True if it had to be fixed.

    Raises ConfigError (one sentence) when it belongs to another user, or when its mode cannot be changed (a
    filesystem without Unix permissions), so a token is never used while others can read it.
    """
    info = path.stat()
    wanted = PRIVATE_DIR if stat.S_ISDIR(info.st_mode) else PRIVATE_FILE
    if info.st_uid != os.geteuid():
        raise ConfigError(
            f"{path} belongs to another user (uid {info.st_uid}); move it away and create it again "
            "as yourself, so no one else can read or replace it."
        )
    if not info.st_mode & 0o077:
        return False
    try:
        path.chmod(wanted)
        still_open = path.stat().st_mode & 0o077
    except OSError as exc:
        raise ConfigError(
            f"{path} is readable by others and could not be made private ({exc.strerror}); "
            f"run `chmod {wanted:o} {path}`."
        ) from exc
    if still_open:
        raise ConfigError(
            f"{path} is readable by others and its filesystem keeps it so; move SHORTS_HOME to a "
            "filesystem with Unix permissions."
        )
    log.warning("%s was readable by others; it is now readable by its owner only (mode %o).", path, wanted)
    return True


def private_home(root: Path) -> Path:
    """SHORTS_HOME, created 0700 (or narrowed to 0700 when found open); a home that cannot be narrowed is only
    warned about, since everything in it is still created private."""
    try:
        root.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    except OSError:
        return root  # the command that writes there says why in its own sentence
    try:
        make_private(root)
    except ConfigError as exc:
        log.warning("%s", exc)
    except OSError:
        pass  # unreadable: the command that uses it says so in its own sentence
    return root


def private_secret(path: Path, make: bool = True) -> str:
    """The secret kept in `path` (created 0600 with a new random value when missing and `make`); fixed if too open."""
    if make and not path.exists():
        # Written aside, then linked in place: a reader never sees it half written, and of two first starts the
        # second's link fails, so both use the first one's secret.
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "w") as out:
            out.write(f"shorts:{secrets.token_urlsafe(24)}\n")
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    make_private(path)
    value = path.read_text().strip()
    if not value:
        raise ConfigError(f"{path} is empty; delete it and the next server start makes a new one.")
    return value


MIN_FREE_BYTES = 100 * 1024 * 1024  # a Short's frames, clips, voice and renders, and Prefect's records, with room


def check_free_space(root: Path, need: int = MIN_FREE_BYTES) -> None:
    """Refuse, in one sentence and before anything starts, a SHORTS_HOME on a disk that is (nearly) full: Prefect's
    database there would answer every write with an error, and half-made files would be left behind."""
    folder = root
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # a home not made yet: the disk it would be made on
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # unreadable: the command that writes there says why in its own sentence
    if free < need:
        raise ConfigError(
            f"The disk under SHORTS_HOME ({root}) has {free / 2**20:.0f} MB free and a Short needs "
            f"about {need / 2**20:.0f} MB; free some space, or set SHORTS_HOME to another disk, then "
            "rerun."
        )

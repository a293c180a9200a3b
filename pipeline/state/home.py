"""What lives under SHORTS_HOME: the one object that names each path there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
    def voices(self) -> Path:
        """Offline voice models prepared once (Piper's voice patched to report its timings)."""
        return self.root / "voices"

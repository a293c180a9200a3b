"""Prefect settings this project needs, set before Prefect is imported (it reads them at import)."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from typing import Any

from pipeline import Settings, private_home, redact

_SAVED: set[str] = set()
_SAVED_LOCK = threading.Lock()


def redact_log_records() -> None:
    """Every log record made in this process, Prefect's included, with the keys the settings hold redacted, in its
    message and in the traceback it carries (a vendor SDK's error, chained behind ours, may quote the key it was
    sent); records are redacted as they are made, before any handler sends them to the terminal or Prefect's API."""
    make = logging.getLogRecordFactory()
    if getattr(make, "redacts", False):
        return

    def redacted(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        message = record.getMessage()
        if redact(message) != message:
            record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    redacted.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacted)


def configure_prefect(settings: Settings | None = None, quiet: bool = False) -> None:
    """Fill in Prefect's environment, never overriding what the user set."""
    settings = settings or Settings()
    private_home(settings.home_dir)  # 0700: the ledger, Prefect's records and the tokens live there
    redact_log_records()
    defaults = {
        # The first local start migrates a new database: 12-23 s on 2 cores, over Prefect's 20 s default.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(settings.prefect_startup_timeout),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # Result records live beside the asset store, so one SHORTS_HOME holds all caches.
        "PREFECT_LOCAL_STORAGE_PATH": str(settings.paths.prefect_results),
        # Our step logs (logger "shorts") also reach the Prefect UI.
        "PREFECT_LOGGING_EXTRA_LOGGERS": "shorts",
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    }
    if quiet:  # the CLI prints its own step lines and its own one-line error; Prefect's would bury them
        defaults["PREFECT_LOGGING_LEVEL"] = "CRITICAL"
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    shorts = logging.getLogger("shorts")
    # A worker's flow-run process (`python -m prefect.engine`) set up Prefect's logging before it imported the flow,
    # so PREFECT_LOGGING_EXTRA_LOGGERS came too late there: give "shorts" the API handler Prefect gives extra loggers.
    if "shorts" in os.environ["PREFECT_LOGGING_EXTRA_LOGGERS"].split(","):
        for handler in logging.getLogger("prefect.extra").handlers:  # none until Prefect has set up its logging
            if handler not in shorts.handlers:
                shorts.addHandler(handler)
    # Prefect gives "shorts" its API handler but no level; without one, a served run's step lines never reach the UI.
    if shorts.level == logging.NOTSET:
        shorts.setLevel(logging.INFO)


def result_storage(settings: Settings) -> str | None:
    """The Prefect block that keeps result records in SHORTS_STORE_URL/prefect-results (saved on the server once per
    process), so a run resumed on another machine finds the first one's; None keeps them under SHORTS_HOME."""
    if not settings.store_url:
        return None
    from prefect.filesystems import RemoteFileSystem

    basepath = f"{settings.store_url.rstrip('/')}/prefect-results"
    # Named by the URL, so two stores on one Prefect server never share a block; the block holds no credentials
    # (each worker's AWS variables do), so it is safe on the server.
    name = f"shorts-results-{hashlib.sha256(basepath.encode()).hexdigest()[:12]}"
    with _SAVED_LOCK:
        if name not in _SAVED:
            RemoteFileSystem(basepath=basepath).save(name, overwrite=True)
            _SAVED.add(name)
    return f"remote-file-system/{name}"

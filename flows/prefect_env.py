"""Prefect settings this project needs, set before Prefect is imported (it reads them at import)."""

from __future__ import annotations

import logging
import os

from pipeline import Settings


def configure_prefect(settings: Settings | None = None, quiet: bool = False) -> None:
    """Fill in Prefect's environment, never overriding what the user set."""
    settings = settings or Settings()
    defaults = {
        # The first local start migrates a new database: 12-23 s on 2 cores, over Prefect's 20 s default.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(settings.prefect_startup_timeout),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # Result records live beside the asset store, so one SHORTS_HOME holds all caches.
        "PREFECT_LOCAL_STORAGE_PATH": str(settings.home_dir / "prefect-results"),
        # Our step logs (logger "shorts") also reach the Prefect UI.
        "PREFECT_LOGGING_EXTRA_LOGGERS": "shorts",
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    }
    if quiet:  # the CLI prints its own step lines and its own one-line error; Prefect's would bury them
        defaults["PREFECT_LOGGING_LEVEL"] = "CRITICAL"
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    # Prefect gives "shorts" its API handler but no level; without one, a served run's step lines never reach the UI.
    if logging.getLogger("shorts").level == logging.NOTSET:
        logging.getLogger("shorts").setLevel(logging.INFO)

"""The pull step of prefect.yaml's deployments: a worker runs each flow from its own machine's checkout of this
repository, the folder SHORTS_CHECKOUT names in the worker's environment."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import UUID

from prefect.deployments.steps import set_working_directory
from prefect.logging.loggers import flow_run_logger

HOW = "set it to the folder of this repository's checkout on that machine and start the worker again"


def use_checkout(directory: str) -> dict[str, str]:
    """Work in the checkout SHORTS_CHECKOUT names. Unset (Prefect passes ""), Prefect's own set_working_directory
    would stay in a temporary folder and the run would crash on a missing flows/make_short.py; this says what to set
    instead."""
    if not directory:
        _refuse(f"SHORTS_CHECKOUT is not set where this worker runs: {HOW}.")
    path = Path(directory).expanduser()
    if not (path / "flows" / "make_short.py").is_file():
        _refuse(f"SHORTS_CHECKOUT={directory} is not a checkout of shorts (no flows/make_short.py in it): {HOW}.")
    return set_working_directory(str(path))


def _refuse(message: str) -> None:
    # Prefect logs a failed pull step on the worker's console only: the run's page in the UI says it too.
    if run_id := os.environ.get("PREFECT__FLOW_RUN_ID"):
        flow_run_logger(flow_run_id=UUID(run_id)).error(message)
    raise ValueError(message)

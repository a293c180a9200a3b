"""Prefect set up for this project, imported before Prefect itself: Prefect reads its settings when it is imported, so
importing this package sets them (`configure_prefect`). Every flow module imports `flows.bootstrap.flow` first
(pyproject.toml sorts it ahead of the third-party imports), and Python runs this package's `__init__` before it."""

from flows.prefect_env import configure_prefect

configure_prefect()

"""Prefect set up for this project, and the flow class its flows are made with.

Prefect reads its settings when it is imported, so importing this module sets them first (`configure_prefect`), and
every flow module imports it before anything else (pyproject.toml sorts it ahead of the third-party imports).
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticSerializationError, to_jsonable_python

from flows.prefect_env import configure_prefect

configure_prefect()  # before `import prefect` below

from prefect import Flow, State
from prefect.futures import PrefectFuture


class PydanticParametersFlow(Flow):
    """A flow whose run's parameters (a request, flags, a path) are put in JSON form by pydantic, the same values
    FastAPI's encoder gives them: Prefect imports FastAPI for that alone, 0.25-0.7 s of every `shorts make`. Any other
    value (a future, a state) takes Prefect's own way."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        if any(isinstance(value, (PrefectFuture, State)) for value in parameters.values()):
            return super().serialize_parameters(parameters)  # shown as placeholders
        try:
            return {name: to_jsonable_python(value) for name, value in parameters.items()}
        except PydanticSerializationError:
            return super().serialize_parameters(parameters)

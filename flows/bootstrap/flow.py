"""The flow class this project's flows are made with; its package (`flows.bootstrap`) sets Prefect's settings first."""

from __future__ import annotations

from typing import Any

from prefect import Flow, State
from prefect.futures import PrefectFuture
from pydantic_core import PydanticSerializationError, to_jsonable_python


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

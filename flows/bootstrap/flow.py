"""The flow class this project's flows are made with; its package (`flows.bootstrap`) sets Prefect's settings first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Flow, State
from prefect.futures import PrefectFuture
from pydantic_core import PydanticSerializationError, to_jsonable_python

P = ParamSpec("P")
R = TypeVar("R")


class PydanticParametersFlow(Flow[P, R]):
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


def pydantic_flow(**options: Any) -> Callable[[Callable[P, R]], PydanticParametersFlow[P, R]]:
    """`@flow(**options)` making a PydanticParametersFlow; unlike `partial(PydanticParametersFlow, ...)`, the type
    checker keeps the function's parameters and return type."""

    def decorate(fn: Callable[P, R]) -> PydanticParametersFlow[P, R]:
        return PydanticParametersFlow(fn, **options)

    return decorate

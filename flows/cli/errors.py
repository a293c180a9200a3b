"""The CLI's one error boundary: our errors become one line on stderr and an exit code.

Exit codes: 2 for bad input or settings found before anything is made, 1 for a run that failed, 130 for Ctrl-C.
With SHORTS_DEBUG set, the boundary re-raises instead, so the traceback shows where the error came from.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from typer.models import ArgumentInfo
from typer.utils import get_params_from_function

from pipeline import ConfigError, Settings, ShortRequest, ShortsError, disk_error, provider_names

log = logging.getLogger("shorts")

_INTERRUPTED = threading.Event()  # Ctrl-C was pressed during this command


def _on_ctrl_c(signum: int, frame: FrameType | None) -> None:
    _INTERRUPTED.set()
    signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt, as Python does


def notice_ctrl_c() -> None:
    """Remember a Ctrl-C, so that whatever it turns into on its way out (Prefect can make it "Task run is not set")
    still ends as an interruption: exit 130, not a failed step."""
    _INTERRUPTED.clear()  # a new command (tests run several in one process)
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ):
        signal.signal(signal.SIGINT, _on_ctrl_c)


def fail(message: str, code: int = 1) -> NoReturn:
    """Say what is wrong in one line on stderr and exit with `code`."""
    typer.echo(f"shorts: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def one_line_errors(
    code: int = 1,
    *,
    config_code: int | None = None,
    interrupted: str = "Interrupted.",
    name_step: bool = False,
    prefect: bool = False,
    flags: dict[str, str] | None = None,
) -> Iterator[None]:
    """Run the block; our errors exit with `code` (a ConfigError with `config_code`, when given), Ctrl-C with 130.

    `name_step` starts the line with the step that failed; `prefect` also turns any other exception (Prefect itself
    failing to start or to reach its database) into one line; `flags` (`flags_of(command)`) names a bad value by the
    flag it came in.
    """
    try:
        try:
            yield
        except typer.Exit:
            raise
        except Exception:
            if not _INTERRUPTED.is_set():
                raise
            _reraise_when_debugging()
            fail(interrupted, code=130)
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        _reraise_when_debugging()
        fail(interrupted, code=130)
    except ValidationError as exc:
        _reraise_when_debugging()
        fail(explain(exc, flags), code=2)
    except ShortsError as exc:
        _reraise_when_debugging()
        message = f"{exc.step or 'run'} failed: {exc}" if name_step else str(exc)
        fail(message, code=config_code if config_code is not None and isinstance(exc, ConfigError) else code)
    except OSError as exc:  # a folder we must write in (SHORTS_HOME, the output) refuses: say which, in one line
        _reraise_when_debugging()
        error = disk_error(exc) or ConfigError(
            f"Cannot use {exc.filename or 'a file'} ({exc.strerror or exc}); check SHORTS_HOME and --out, then rerun."
        )
        fail(str(error), code=config_code if config_code is not None else code)
    except Exception as exc:
        if not prefect:
            raise
        _reraise_when_debugging()
        first_line = (str(exc).strip().splitlines() or [""])[0]
        fail(f"Prefect failed to run the flow ({type(exc).__name__}: {first_line}); set SHORTS_DEBUG=1 for details.")


def _reraise_when_debugging() -> None:
    if os.environ.get("SHORTS_DEBUG"):
        raise  # called only from the except clauses above, so this re-raises the error being handled


def flags_of(command: Callable[..., Any]) -> dict[str, str]:
    """The flag a person types for each parameter of a typer command, as typer makes it: an argument's name in
    capitals, an option's first declared flag, else its name with dashes. `shorts make` names its parameters after
    ShortRequest's fields, so this names a bad field by its flag."""
    flags = {}
    for name, param in get_params_from_function(command).items():
        declared = getattr(param.default, "param_decls", None)
        if isinstance(param.default, ArgumentInfo):
            flags[name] = name.upper()
        else:
            flags[name] = declared[0].split("/")[0] if declared else f"--{name.replace('_', '-')}"
    return flags


def explain(exc: ValidationError, flags: dict[str, str] | None = None) -> str:
    """One sentence for the first problem pydantic found; a request's field is named by its flag (`flags`, else as
    typer would name a parameter called after it)."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    flag = (flags or {}).get(field) or _as_parameter(field)
    if error["type"] == "literal_error" and field in ShortRequest.model_fields:
        choices = ", ".join(provider_names(ShortRequest.model_fields[field].annotation))
        return f"{flag}: unknown provider {error['input']!r}; choose one of {choices}."
    if error["type"] in ("greater_than_equal", "less_than_equal") and field in ShortRequest.model_fields:
        bounds = {type(m).__name__: m for m in ShortRequest.model_fields[field].metadata}
        low, high = bounds["Ge"].ge, bounds["Le"].le
        return f"{flag} must be between {low} and {high} (got {error['input']})."
    if error["type"] == "string_pattern_mismatch" and field in ShortRequest.model_fields:
        description = ShortRequest.model_fields[field].description
        assert description is not None  # each patterned field (language, channel) says what it takes
        return f"{flag} {error['input']!r} is not valid ({description.rstrip('.')})."
    if error["type"] == "value_error":
        return f"{flag}: {error['ctx']['error']}." if flag else f"{str(error['ctx']['error']).capitalize()}."
    if field in Settings.model_fields:
        return f"The setting SHORTS_{field.upper()} is invalid: {error['msg'].lower()}."
    return f"{flag}: {error['msg'].lower()}."


def _as_parameter(field: str) -> str:
    """A request's field as typer names a parameter of that name (TOPIC, --seconds); any other name as it is."""
    if field not in ShortRequest.model_fields:
        return field
    return field.upper() if ShortRequest.model_fields[field].is_required() else f"--{field.replace('_', '-')}"


def log_to_stderr() -> None:
    """Progress lines on stderr, so stdout stays for what a command prints (one JSON object with --json)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

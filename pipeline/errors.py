"""The errors a person can act on.

    ShortsError            anything this package raises on purpose
    ├── ConfigError        bad input or settings: fix the command or the environment
    ├── ProviderError      a remote or offline provider failed (retry_safe says if a retry may pay twice)
    └── RenderError        stitching, captioning or encoding failed

Each message is one sentence saying what failed, where, and what to do. Messages never carry secrets.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Callable
from typing import Any

# The keys the settings hold (Settings adds them as it reads them): a vendor that echoes one back in its error text
# must not put it in a message, a log line or Prefect's database.
_SECRETS: set[str] = set()
REDACTED = "[redacted]"


def remember_secrets(*values: str) -> None:
    """Keep these secret values out of every error message from now on."""
    _SECRETS.update(value for value in values if len(value) >= 8)


def redact(text: str) -> str:
    """`text` with every remembered secret replaced."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class ShortsError(Exception):
    """Base of every error this package raises on purpose; its message never holds a remembered secret."""

    def __init__(self, message: str, *, step: str | None = None, scene: int | None = None) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.step = step
        self.scene = scene

    def at(self, step: str, scene: int | None = None) -> ShortsError:
        """Record where the error happened, keeping what is already known."""
        self.step = self.step or step
        self.scene = self.scene if self.scene is not None else scene
        return self

    def __str__(self) -> str:
        where = f"Scene {self.scene}: " if self.scene is not None else ""
        return f"{where}{self.message}"

    def __reduce__(self) -> tuple[Callable[..., ShortsError], tuple[Any, ...]]:
        # Keeps step and scene when Prefect pickles a failed task's exception.
        return (_rebuild, (type(self), self.message, self.step, self.scene, self.__dict__))


def _rebuild(
    cls: type[ShortsError], message: str, step: str | None, scene: int | None, state: dict[str, Any]
) -> ShortsError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ConfigError(ShortsError):
    """Bad input or settings; the command or the environment needs fixing."""


class ProviderError(ShortsError):
    """A provider failed; `retry_safe` is False once a paid remote task may exist, and `maybe_billed` says that a
    billed request may have been made (or was), so it counts as spent."""

    def __init__(
        self,
        message: str,
        *,
        retry_safe: bool = False,
        maybe_billed: bool = False,
        step: str | None = None,
        scene: int | None = None,
    ) -> None:
        super().__init__(message, step=step, scene=scene)
        self.retry_safe = retry_safe
        self.maybe_billed = maybe_billed


class RenderError(ShortsError):
    """Stitching, captioning or encoding the final video failed."""


def disk_error(exc: BaseException, step: str | None = None) -> ConfigError | None:
    """One sentence for a write the disk refused (full, read-only, not allowed), whichever step ran into it; None
    for any other error. What was made before it is kept, so the same command continues once it is fixed."""
    if isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc):
        exc = OSError(errno.ENOSPC, "No space left on device")
    full = (errno.ENOSPC, errno.EDQUOT)
    if (
        not isinstance(exc, OSError)
        or exc.errno not in (*full, errno.EROFS, errno.EACCES, errno.EPERM)
        or (exc.errno not in full and not exc.filename)
    ):  # refused permission, but not to write a file
        return None
    then = "(or use --out for the Short, SHORTS_HOME for the rest) and rerun, which continues where this run stopped."
    if exc.errno in full:
        where = f" writing {exc.filename}" if exc.filename else ""
        return ConfigError(f"The disk is full{where} ({exc.strerror}); free some space {then}", step=step)
    return ConfigError(f"Cannot write {exc.filename} ({exc.strerror}); fix the folder's permissions {then}", step=step)


def last_line(output: bytes, default: str) -> str:
    """The last line a tool printed (its error, as a rule), for a one-line message; `default` if it printed none."""
    lines = output.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else default

"""The errors a person can act on.

    ShortsError            anything this package raises on purpose
    ├── ConfigError        bad input or settings: fix the command or the environment
    ├── ProviderError      a remote or offline provider failed (retry_safe says if a retry may pay twice)
    └── RenderError        stitching, captioning or encoding failed

Each message is one sentence saying what failed, where, and what to do. Messages never carry secrets.
"""

from __future__ import annotations


class ShortsError(Exception):
    """Base of every error this package raises on purpose."""

    def __init__(self, message: str, *, step: str | None = None, scene: int | None = None) -> None:
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

    def __reduce__(self):  # keeps step and scene when Prefect pickles a failed task's exception
        return (_rebuild, (type(self), self.message, self.step, self.scene, self.__dict__))


def _rebuild(cls, message, step, scene, state):
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ConfigError(ShortsError):
    """Bad input or settings; the command or the environment needs fixing."""


class ProviderError(ShortsError):
    """A provider failed; `retry_safe` is False once a paid remote task may exist."""

    def __init__(self, message: str, *, retry_safe: bool = False, **where) -> None:
        super().__init__(message, **where)
        self.retry_safe = retry_safe


class RenderError(ShortsError):
    """Stitching, captioning or encoding the final video failed."""

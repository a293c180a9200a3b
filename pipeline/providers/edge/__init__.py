"""Microsoft Edge's online voices (edge-tts): free, an explicit choice only."""

from __future__ import annotations

from pipeline.providers.base import Finding
from pipeline.settings import Settings


def describe_edge(settings: Settings) -> list[Finding]:
    """Doctor's line: what Edge's voices are and how to ask for them (nothing to check: no key, no call)."""
    return [
        Finding(
            text="Edge voices: free and keyless, online, only when asked for (--voice edge); `shorts voices "
            "--provider edge` lists them"
        )
    ]

"""The variety guard: before anything is paid for, a new script is compared with the channel's Shorts of the last
30 days (their manifests in the output folder), so a near-copy of a hook or a script is never published silently.
YouTube's "inauthentic content" policy ends channels that repeat one template."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from difflib import SequenceMatcher
from pathlib import Path
from typing import Literal

from pipeline.models import MAX_TOPIC_CHARS, Model, Script

RECENT_DAYS = 30
HOOK_LIMIT = 0.8  # SequenceMatcher ratio of two hooks' words: at or over it, the hook is a near-copy
SCRIPT_LIMIT = 0.5  # share of word triples two narrations have in common (Jaccard): at or over it, a near-copy
_WORD = re.compile(r"[^\W_]+")


class Earlier(Model):
    """A recent Short's words, from its manifest."""

    title: str
    topic: str
    hook: str
    narration: str
    created_at: datetime


class NearCopy(Model):
    """The closest recent Short a new script repeats."""

    part: Literal["hook", "script"]
    similarity: float
    earlier: Earlier

    def line(self) -> str:
        """One line for the log and the manifest's reader."""
        words = f"hook {self.earlier.hook!r}" if self.part == "hook" else "script"
        return (
            f"Variety: this {self.part} is {self.similarity:.0%} like the {words} of {self.earlier.title!r} "
            f"({self.earlier.created_at:%Y-%m-%d}); change the topic's angle, or write with an LLM, which "
            "rewrites it once."
        )

    def ask(self) -> str:
        """What the script writer is told when it rewrites once."""
        return (
            f"Variety: do not reuse the opening or the wording of the channel's recent Short "
            f"{self.earlier.title[:100]!r} (hook: {self.earlier.hook[:MAX_TOPIC_CHARS]!r}); write a clearly "
            "different hook and angle."
        )


def recent_scripts(output_dir: Path, skip: Path, now: datetime | None = None) -> list[Earlier]:
    """The scripts of the Shorts made in the last 30 days, from the output folder's manifests, except `skip`'s (the
    Short being made, whose earlier take is no copy)."""
    since = (now or datetime.now(UTC)) - timedelta(days=RECENT_DAYS)
    found = []
    for path in output_dir.expanduser().glob("*/manifest.json"):
        if path.parent.resolve() == skip.resolve():
            continue
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            made = datetime.fromisoformat(manifest["created_at"])
            script = manifest["script"]
            earlier = Earlier(
                title=script["title"],
                topic=manifest["request"]["topic"],
                hook=script.get("hook", ""),
                narration=" ".join(s["narration"] for s in script["scenes"]),
                created_at=made,
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a half-written or foreign file is no earlier Short
        if made.tzinfo and made >= since:
            found.append(earlier)
    return found


def near_copy(script: Script, earlier: list[Earlier]) -> NearCopy | None:
    """The closest earlier Short whose hook or narration this script nearly repeats, if any."""
    hook, triples = _words(script.hook), _triples(" ".join(s.narration for s in script.scenes))
    closest: NearCopy | None = None
    for other in earlier:
        for part, similarity, limit in (
            ("hook", SequenceMatcher(None, hook, _words(other.hook)).ratio() if hook else 0.0, HOOK_LIMIT),
            ("script", jaccard(triples, _triples(other.narration)), SCRIPT_LIMIT),
        ):
            if similarity >= limit and (closest is None or similarity > closest.similarity):
                closest = NearCopy(part=part, similarity=round(similarity, 2), earlier=other)
    return closest


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _triples(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def jaccard(a: set, b: set) -> float:
    """How alike two sets are: what they share over what either has (0 when one is empty)."""
    return len(a & b) / len(a | b) if a and b else 0.0

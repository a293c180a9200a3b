"""A script writer that needs no LLM: sentences from `prompts/offline_script.txt`, paced to the clock."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from typing import ClassVar

from pipeline.models import Scene, Script, ShortRequest
from pipeline.prompts import load_sections, render
from pipeline.script_rules import WORDS_PER_SECOND, scene_seconds
from pipeline.search_terms import derive_search_terms
from pipeline.publish.youtube_limits import TITLE_MAX_CHARS
from pipeline.providers.base import ScriptWriter



def _pick(options: list[str], *salt: object) -> str:
    digest = hashlib.sha256("|".join(map(str, salt)).encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def _fit_words(sentences: list[str], budget: int) -> str:
    """Join sentences up to `budget` words, cutting the last on a word boundary."""
    words: list[str] = []
    for sentence in sentences:
        words.extend(sentence.split())
        if len(words) >= budget:
            break
    text = " ".join(words[:budget]).rstrip(",;:")
    return text if text.endswith((".", "!", "?")) else text + "."


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


class OfflineScriptWriter(ScriptWriter):
    """Builds a structured script deterministically from the topic and the template file."""

    name: ClassVar[str] = "offline"
    model = "templates-v1"

    def write(self, request: ShortRequest) -> Script:
        t = load_sections("offline_script.txt")
        count = request.scene_count
        values = dict(
            topic=request.topic, seconds=request.seconds, scene_count=count,
            language=request.language, style=request.style,
        )

        def fill(template: str, **extra: object) -> str:
            return render(template, "offline_script.txt", **values, **extra)

        hook = fill(_pick(t["hook"], request.topic, "hook"))
        middles = [fill(line) for line in t["middle"]]
        scenes = []
        for index, seconds in enumerate(scene_seconds(request.seconds, count), start=1):
            start = int.from_bytes(hashlib.sha256(f"{request.topic}|{index}".encode()).digest()[:2], "big")
            sentences = [middles[(start + k) % len(middles)] for k in range(len(middles))]
            if index == 1:
                sentences.insert(0, hook)
            if index == count and count > 1:
                sentences.insert(0, fill(_pick(t["closing"], request.topic, "closing")))
            scenes.append(
                Scene(
                    index=index,
                    narration=_fit_words(sentences, max(3, round(WORDS_PER_SECOND * seconds))),
                    first_frame_prompt=fill(_pick(t["frame"], request.topic, index), n=index),
                    motion_prompt=fill(_pick(t["motion"], request.topic, index, "motion"), n=index),
                    seconds=seconds,
                    search_terms=derive_search_terms(request.topic, middles[start % len(middles)]),
                )
            )
        tags = [w.lower() for w in re.findall(r"\w+", request.topic) if len(w) > 2][:8] + ["shorts"]
        return Script(
            title=_cut(fill(_pick(t["title"], request.topic, "title")), TITLE_MAX_CHARS),
            description=fill(t["description"][0]),
            tags=list(dict.fromkeys(tags)),
            hook=hook,
            scenes=scenes,
        )

    def brainstorm(self, niche: str, count: int, avoid: Collection[str] = ()) -> list[str]:
        """Topics for a channel niche from `prompts/topics.txt`, in order, leaving out those in `avoid`."""
        seen = {" ".join(t.split()).casefold() for t in avoid}
        ideas = (render(line, "topics.txt", niche=niche) for line in load_sections("topics.txt")["topic"])
        return [idea for idea in ideas if " ".join(idea.split()).casefold() not in seen][:count]

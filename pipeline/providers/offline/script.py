"""A script writer that needs no LLM: sentences from `prompts/offline_script.txt`, paced to the clock."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from typing import ClassVar

from pipeline.models import Scene, ScenePlan, Script, ShortRequest
from pipeline.music import mood_for
from pipeline.prompts import load_sections, render
from pipeline.script_rules import plan_scenes, target_words
from pipeline.search_terms import derive_search_terms
from pipeline.publish.youtube_limits import TITLE_MAX_CHARS
from pipeline.providers.base import ScriptWriter

QUESTION_WORDS = frozenset({"how", "why", "what", "when", "where", "who", "which", "whether"})
MAX_TAILS = 2  # short sentences that top up a scene; more in a row sound like filler


def _pick(options: list[str], *salt: object) -> str:
    digest = hashlib.sha256("|".join(map(str, salt)).encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def in_sentence(topic: str) -> str:
    """The topic as it reads inside a sentence: a question ("How bees dance") starts in lower case."""
    first, space, rest = topic.partition(" ")
    if first.lower() in QUESTION_WORDS and first[:1].isupper() and first[1:].islower():
        return first.lower() + space + rest
    return topic


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def fit_words(sentences: list[str], budget: int, tails: list[str], last: str | None = None) -> list[str]:
    """About `budget` words of whole sentences: those of `sentences` that fit, in order, then either up to
    MAX_TAILS short `tails` (not two starting alike) to top it up or, to end the Short, `last`. Only a first
    sentence longer than the budget is cut, on a word boundary, so no scene ends on a stray word."""
    room = budget - (len(last.split()) if last else 0)
    chosen: list[str] = []
    for sentence in [*sentences, *([] if last else sorted(tails, key=lambda t: -len(t.split())))]:
        if sentence in tails and (sum(c in tails for c in chosen) == MAX_TAILS or
                                  any(c in tails and c.split()[0] == sentence.split()[0] for c in chosen)):
            continue
        if len(sentence.split()) <= room - sum(len(c.split()) for c in chosen):
            chosen.append(sentence)
    if not chosen and not last:
        text = " ".join(sentences[0].split()[:budget]).rstrip(",;:")
        return [text if text.endswith((".", "!", "?")) else text + "."]
    return chosen + ([last] if last else [])


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


class OfflineScriptWriter(ScriptWriter):
    """Builds a structured script deterministically from the topic and the template file."""

    name: ClassVar[str] = "offline"
    model = "templates-v2"

    def write(self, request: ShortRequest, plan: ScenePlan | None = None) -> Script:
        t = load_sections("offline_script.txt")
        plan = plan or plan_scenes(request)
        count = len(plan.seconds)
        values = dict(
            topic=in_sentence(request.topic), seconds=request.seconds, scene_count=count,
            language=request.language, style=request.style,
        )

        def fill(template: str, **extra: object) -> str:
            return sentence_case(render(template, "offline_script.txt", **values, **extra))

        hook = fill(_pick(t["hook"], request.topic, "hook"))
        middles = [fill(line) for line in t["middle"]]
        tails = [fill(line) for line in t["tail"]]
        first = int.from_bytes(hashlib.sha256(request.topic.encode()).digest()[:2], "big") % len(middles)
        unused = middles[first:] + middles[:first]  # each scene takes the sentences least used so far
        scenes, planned, written = [], 0, 0
        for index, seconds in enumerate(plan.seconds, start=1):
            closing = fill(_pick(t["closing"], request.topic, "closing")) if index == count and count > 1 else None
            # Whole sentences fall a word or two short of a scene's words; the next scene makes up for it, so the
            # Short as a whole keeps to the voice's pace.
            planned += target_words(seconds, plan)
            said = fit_words([hook, *unused] if index == 1 else unused, max(3, planned - written), tails, closing)
            written += sum(len(s.split()) for s in said)
            unused = [m for m in unused if m not in said] + [m for m in unused if m in said]
            scenes.append(
                Scene(
                    index=index,
                    narration=" ".join(said),
                    first_frame_prompt=fill(_pick(t["frame"], request.topic, index), n=index),
                    motion_prompt=fill(_pick(t["motion"], request.topic, index, "motion"), n=index),
                    seconds=seconds,
                    search_terms=derive_search_terms(request.topic, said[0]),
                )
            )
        tags = [w.lower() for w in re.findall(r"\w+", request.topic) if len(w) > 2][:8] + ["shorts"]
        return Script(
            title=_cut(fill(_pick(t["title"], request.topic, "title")), TITLE_MAX_CHARS),
            description=fill(t["description"][0]),
            tags=list(dict.fromkeys(tags)),
            hook=hook,
            scenes=scenes,
            mood=mood_for(request.topic),
        )

    def brainstorm(self, niche: str, count: int, avoid: Collection[str] = ()) -> list[str]:
        """Topics for a channel niche from `prompts/topics.txt`, in order, leaving out those in `avoid`."""
        seen = {" ".join(t.split()).casefold() for t in avoid}
        ideas = (render(line, "topics.txt", niche=niche) for line in load_sections("topics.txt")["topic"])
        return [idea for idea in ideas if " ".join(idea.split()).casefold() not in seen][:count]

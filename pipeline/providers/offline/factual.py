"""A script with no LLM that says only what its source article says: its sentences, made plain and short, one fact
per scene (two short ones where a scene has room), the most surprising first, a closing line naming the article.

Scenes are filled to the plan's words like the template writer's: a scene a word or two short is made up by the
next, so the Short keeps to the voice's pace. No sentence is said twice, and the topic is never padded in.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from pipeline.limits import TITLE_MAX_CHARS
from pipeline.models import Scene, ScenePlan, Script, ShortRequest
from pipeline.music import mood_for
from pipeline.script_rules import max_words, plan_scenes, target_words
from pipeline.search_terms import derive_search_terms
from pipeline.source.models import Source
from pipeline.source.text import sentences, simplify, stems

log = logging.getLogger("shorts")

MIN_FACT_WORDS = 5
SHORT_OF_FACTS = 0.8  # below this share of the planned words, the run says the Short will be shorter than asked
HOOK_SLACK = 1.15  # the opening passage may run this much over a scene's most words: the next scenes make up for it
MOTION = "Slow push-in on the subject, then a gentle drift across it"
# The last line says where the facts are from, in the request's language (one not listed gets the neutral form).
# Plain and short, so the last title card takes its headline from the fact beside it (the description names the
# article in full).
CLOSINGS = {
    "en": "That is what Wikipedia says.",
    "fr": "Voilà ce que dit Wikipédia.",
    "es": "Eso es lo que dice Wikipedia.",
    "de": "Das sagt Wikipedia.",
    "pt": "É o que diz a Wikipédia.",
}
NEUTRAL_CLOSING = "Wikipedia."
# Words that make a fact worth opening with, per language; numbers count everywhere.
SURPRISING = {
    "en": "most only first never all every largest smallest fastest deadly venomous three hundreds thousands million",
    "fr": "plus seul seule premier première jamais tous toutes mortel venimeux trois milliers millions",
    "es": "más único única primer primera nunca todos todas mortal venenoso tres miles millones",
    "de": "meisten einzige erste nie alle größte kleinste schnellste tödlich giftig drei tausende millionen",
    "pt": "mais único única primeiro primeira nunca todos todas mortal venenoso três milhares milhões",
}
# A sentence that opens on one of these leans on the one before it: never the hook, and later only when it must.
LEANING = {
    "en": "they it he she this these those its their such",
    "fr": "il elle ils elles ce cet cette ces son sa ses leur leurs",
    "es": "él ella ellos ellas este esta estos estas su sus",
    "de": "er sie es dieser diese dieses ihr ihre sein seine",
    "pt": "ele ela eles elas este esta estes estas seu sua seus suas",
}


@dataclass(frozen=True)
class Fact:
    """One or more sentences of the article said together (a sentence that leans on the one before it, "They ...",
    is only said after it), with where they stand and how much they are worth saying."""

    text: str
    order: int  # the first sentence's place in the article: the options of one passage share it
    score: float

    @property
    def words(self) -> int:
        return len(self.text.split())


def article_facts(source: Source, topic: str, language: str) -> list[Fact]:
    """Every passage of the lead and kept sections, and each shorter start of it, once each, scored: words of the
    topic (beyond the article's own name) most, then numbers and surprising words, then being in the lead or in a
    section the topic names."""
    primary = language.split("-")[0].lower()
    title, asked = stems(source.title), stems(topic)
    wanted = asked - title
    surprising, leaning = set(SURPRISING.get(primary, "").split()), set(LEANING.get(primary, "").split())
    texts = [(source.lead, 0.5)] + [(s.text, 1.5 * bool(stems(s.title) & wanted)) for s in source.sections]
    passages: list[list[tuple[str, float]]] = []
    seen: set[str] = set()
    for text, bonus in texts:
        passage: list[tuple[str, float]] = []
        for sentence in sentences(text):
            for part, plain in enumerate(simplify(sentence, primary)):
                key = " ".join(re.findall(r"\w+", plain.casefold()))
                if key in seen or len(plain.split()) < (3 if passage else MIN_FACT_WORDS):
                    passage = []  # what follows would lean on a sentence left out
                    continue
                seen.add(key)
                words = {w.casefold().strip(".,;:!?«»“”\"'") for w in plain.split()}
                score = (
                    2.0 * len(stems(plain) & wanted)
                    + 0.5 * bool(stems(plain) & title)
                    + bonus
                    + 1.5 * bool(re.search(r"\d", plain))
                    + 1.0 * bool(words & surprising)
                )
                leans = part > 0 or plain.split()[0].casefold() in leaning
                if leans and passage:
                    passage.append((plain, score))
                elif not leans:
                    passage = [(plain, score)]
                    passages.append(passage)
    facts = []
    for order, passage in enumerate(passages):
        for length in range(1, len(passage) + 1):
            scores = [score for _, score in passage[:length]]
            facts.append(
                Fact(
                    " ".join(text for text, _ in passage[:length]),
                    order,
                    max(scores) + 0.3 * (sum(scores) - max(scores)),
                )
            )
    return facts


def write_factual(request: ShortRequest, source: Source, plan: ScenePlan | None = None) -> Script | None:
    """The script told from the article's facts, scenes sized by `plan`; None when the article has fewer usable
    passages than the Short has scenes, or none short enough for its scenes (a Short of many short scenes)."""
    plan = plan or plan_scenes(request)
    primary = request.language.split("-")[0].lower()
    facts = article_facts(source, request.topic, primary)
    count = len(plan.seconds)
    if len({f.order for f in facts}) < count:
        return None
    closing = CLOSINGS.get(primary, NEUTRAL_CLOSING)
    unused = sorted(facts, key=lambda f: (-f.score, f.order))
    said: list[list[Fact]] = []
    planned = written = 0
    for index, seconds in enumerate(plan.seconds, start=1):
        planned += target_words(seconds, plan)
        last = index == count and count > 1
        room = max(MIN_FACT_WORDS, planned - written - (len(closing.split()) if last else 0))
        cap = max(room, max_words(seconds, plan) - (len(closing.split()) if last else 0))
        cap = round(cap * HOOK_SLACK) if index == 1 else cap
        chosen = _fill(unused, room, cap, spare=len({f.order for f in unused}) - (count - index + 1))
        unused = [f for f in unused if f.order not in {c.order for c in chosen}]
        said.append(chosen)
        written += sum(f.words for f in chosen) + (len(closing.split()) if last else 0)
    # The middle scenes follow the article's order, so one fact leads to the next as it does there.
    if count > 2:
        said[1:-1] = sorted(said[1:-1], key=lambda scene: scene[0].order)
    scenes = []
    for index, (seconds, chosen) in enumerate(zip(plan.seconds, said, strict=True), start=1):
        narration = " ".join([f.text for f in chosen] + ([closing] if index == count and count > 1 else []))
        # The picture is of what the scene says; as its words are all in the prompt, the title card's headline is
        # the best run of them (see title_card.key_phrase), never the topic's name alone.
        scenes.append(
            Scene(
                index=index,
                narration=narration,
                first_frame_prompt=f"{source.title}: {narration}",
                motion_prompt=MOTION,
                seconds=seconds,
                search_terms=derive_search_terms(source.title, chosen[0].text),
            )
        )
    words = sum(f.words for scene in said for f in scene)
    if words > sum(max_words(seconds, plan) for seconds in plan.seconds):
        return None  # the Short would run well past its length
    if words < SHORT_OF_FACTS * planned:  # scenes last as long as their narration: a true Short, shorter
        log.info(
            "  “%s” holds about %.0f s of facts, so the Short will be shorter than %g s",
            source.title,
            words / plan.words_per_second,
            request.seconds,
        )
    hook = said[0][0].text
    title = request.topic[:1].upper() + request.topic[1:]
    if len(title) > TITLE_MAX_CHARS:
        title = title[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
    tags = [w.lower() for w in re.findall(r"\w+", f"{request.topic} {source.title}") if len(w) > 2][:8]
    return Script(
        title=title,
        description=" ".join(f.text for f in [said[0][0], *(s[0] for s in said[1:2])]),
        tags=list(dict.fromkeys([*tags, "wikipedia", "shorts"])),
        hook=hook,
        scenes=scenes,
        mood=mood_for(request.topic),
    )


def _fill(ranked: list[Fact], room: int, cap: int, spare: int) -> list[Fact]:
    """A scene's facts: the best passage that fits within `cap` words, then, while `room` allows (a long scene) and
    `spare` passages are left beyond one for each scene to come, another that fits whole."""
    fits = [f for f in ranked if f.words <= cap]
    chosen = [fits[0] if fits else min(ranked, key=lambda f: f.words)]
    while spare > 0:
        left = room - sum(f.words for f in chosen)
        used = {f.order for f in chosen}
        more = [f for f in ranked if f.order not in used and f.words <= left]
        if not more:
            break
        chosen.append(more[0])
        spare -= 1
    return chosen

"""Stock-footage search terms: cleaned when a script writer gives them, derived from a scene's words when not."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.models import Scene

MAX_TERMS = 4
MAX_TERM_CHARS = 60
# Words that say how a picture looks or what a sentence does, not what is in it; useless as a search.
STOPWORDS = frozenset(
    """
a about after all also an and any are as at be been behind being between both but by can close could day
does dramatic each every explained far fast few for from full has have here how illustration in into is it
its just know light look made make many more most much never new next nobody not of on once one only or
other our out over poster rich scene shapes should since so soft some still story stranger such than that
the their them then there these they thing things this those through to too under up us very vertical was
way we were what when where which while who why will with without you your bold centred centered subject
composition depth style bright cinematic high contrast photo image shot view seconds tells
surprising truth really secret secrets world around close-up closeup wide angle
""".split()
)


def clean_search_terms(terms: list[str]) -> list[str]:
    """Terms trimmed, lower-cased and without repeats or empties; at most MAX_TERMS of them."""
    cleaned = (" ".join(re.sub(r"[^\w\s'-]", " ", term).split()).lower()[:MAX_TERM_CHARS].strip() for term in terms)
    return list(dict.fromkeys(t for t in cleaned if t))[:MAX_TERMS]


def content_words(text: str) -> list[str]:
    """The words of `text` that name things, in order, without repeats."""
    words = (w.lower() for w in re.findall(r"[^\W\d_][\w'-]*", text))
    return list(dict.fromkeys(w for w in words if len(w) > 2 and w not in STOPWORDS))


def derive_search_terms(*texts: str) -> list[str]:
    """Terms from the first text that has content words: its first words as a phrase, then each word alone."""
    for text in texts:
        words = content_words(text)
        if words:
            return clean_search_terms([" ".join(words[:3]), " ".join(words[:2]), *words[:2]])
    return []


def scene_terms(scene: Scene) -> list[str]:
    """What to search for a scene: its own terms, else terms derived from its first-frame prompt and narration."""
    return clean_search_terms(scene.search_terms) or derive_search_terms(scene.first_frame_prompt, scene.narration)


def broader_terms(terms: list[str], extra: Sequence[str] = ()) -> list[str]:
    """Wider searches for when a scene's terms find nothing: each single word of them, then `extra` (the tags)."""
    singles = [w for term in terms for w in content_words(term)]
    wider = dict.fromkeys([*singles, *clean_search_terms(list(extra))])
    return [t for t in wider if t not in terms][:MAX_TERMS]

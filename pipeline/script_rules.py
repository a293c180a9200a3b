"""What a language model fills in for a script, and the rules its answer must keep.

The draft models carry no constraints on purpose: strict structured output accepts few JSON-schema
keywords, and a broken rule should come back as a sentence the model can act on in a repair round,
not as a schema error.
"""

from __future__ import annotations

import math
from typing import get_args

from pydantic import BaseModel, Field

from pipeline.models import Mood, Scene, Script
from pipeline.search_terms import clean_search_terms, derive_search_terms
from pipeline.publish.youtube_limits import DESCRIPTION_MAX_BYTES, TAGS_MAX_CHARS, TITLE_MAX_CHARS, tags_length

WORDS_PER_SECOND = 2.5
WORDS_SLACK = 1.2  # narration may run this much over the pace; the render lengthens a scene to its voice


class SceneDraft(BaseModel):
    """One scene as the model writes it."""

    narration: str
    first_frame_prompt: str
    motion_prompt: str
    # Stock-footage searches; optional (a factory, so the strict schema carries no default) for older answers.
    search_terms: list[str] = Field(default_factory=list)


class ScriptDraft(BaseModel):
    """The whole script as the model writes it; seconds per scene are ours to set."""

    title: str
    description: str
    tags: list[str]
    hook: str
    scenes: list[SceneDraft]
    # The music's mood: calm, energetic, happy, nostalgic or tender; optional (a factory, as above) for older answers.
    mood: str = Field(default_factory=str)

    def to_script(self, scene_seconds: list[float]) -> Script:
        """The checked draft as our Script model."""
        scenes = [
            Scene(index=i, narration=s.narration.strip(), first_frame_prompt=s.first_frame_prompt.strip(),
                  motion_prompt=s.motion_prompt.strip(), seconds=seconds,
                  search_terms=clean_search_terms(s.search_terms) or derive_search_terms(s.first_frame_prompt))
            for i, (s, seconds) in enumerate(zip(self.scenes, scene_seconds, strict=True), start=1)
        ]
        mood = self.mood.strip().casefold()
        return Script(title=self.title.strip(), description=self.description.strip(), tags=clean_tags(self.tags),
                      hook=self.hook.strip(), scenes=scenes, mood=mood if mood in get_args(Mood) else None)


def target_words(seconds: float) -> int:
    """Words a scene of `seconds` holds at the speaking pace."""
    return max(1, round(WORDS_PER_SECOND * seconds))


def scene_seconds(total: int, count: int) -> list[float]:
    """Split `total` seconds into `count` scenes that add up exactly."""
    base = round(total / count, 2)
    return [base] * (count - 1) + [round(total - base * (count - 1), 2)]


def max_words(seconds: float) -> int:
    """The most words a scene of `seconds` may hold."""
    return max(2, math.floor(WORDS_PER_SECOND * seconds * WORDS_SLACK))


def clean_tags(tags: list[str]) -> list[str]:
    """Tags stripped of spaces and '#', empty ones and repeats dropped."""
    cleaned = (" ".join(t.replace("#", " ").split()) for t in tags)
    return list(dict.fromkeys(t for t in cleaned if t))


def script_problems(draft: ScriptDraft, scene_seconds: list[float]) -> list[str]:
    """Every rule the draft breaks, one sentence each; empty when it is fine."""
    problems: list[str] = []
    title = draft.title.strip()
    if not title:
        problems.append("the title is empty")
    elif len(title) > TITLE_MAX_CHARS:
        problems.append(f"the title has {len(title)} characters; YouTube allows at most {TITLE_MAX_CHARS}")
    for field in ("title", "description"):
        if any(c in getattr(draft, field) for c in "<>"):
            problems.append(f"the {field} contains '<' or '>', which YouTube rejects")
    if len(draft.description.encode()) > DESCRIPTION_MAX_BYTES:
        problems.append(f"the description takes {len(draft.description.encode())} bytes in UTF-8; YouTube allows "
                        f"{DESCRIPTION_MAX_BYTES}")
    if not draft.hook.strip():
        problems.append("the hook is empty")
    length = tags_length(clean_tags(draft.tags))
    if length > TAGS_MAX_CHARS:
        problems.append(f"the tags take {length} characters as YouTube counts them (quotes around tags with "
                        f"spaces, commas between); the limit is {TAGS_MAX_CHARS}, so drop or shorten tags")
    if len(draft.scenes) != len(scene_seconds):
        problems.append(f"there are {len(draft.scenes)} scenes; write exactly {len(scene_seconds)}")
    for index, (scene, seconds) in enumerate(zip(draft.scenes, scene_seconds), start=1):
        words = len(scene.narration.split())
        if words == 0:
            problems.append(f"scene {index} has no narration")
        elif words > max_words(seconds):
            problems.append(f"scene {index}'s narration has {words} words, too many for {seconds:g} seconds at "
                            f"{WORDS_PER_SECOND:g} words per second; use about {target_words(seconds)} and at "
                            f"most {max_words(seconds)}")
        for field in ("first_frame_prompt", "motion_prompt"):
            if not getattr(scene, field).strip():
                problems.append(f"scene {index}'s {field} is empty")
    return problems

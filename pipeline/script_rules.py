"""What a language model fills in for a script, and the rules its answer must keep.

The draft models carry no constraints on purpose: strict structured output accepts few JSON-schema
keywords, and a broken rule should come back as a sentence the model can act on in a repair round,
not as a schema error.
"""

from __future__ import annotations

import math
from typing import get_args

from pydantic import BaseModel, Field

from pipeline.limits import DESCRIPTION_MAX_BYTES, TAGS_MAX_CHARS, TITLE_MAX_CHARS, tags_length
from pipeline.models import BREATH, MAX_SHORT_SECONDS, Mood, Scene, ScenePlan, Script, ShortRequest
from pipeline.search_terms import clean_search_terms, derive_search_terms

# The reading pace: captions with no voice are timed at it, and a script is planned at it when no voice's pace is
# known (each voice's own is in pipeline.providers.REGISTRY).
WORDS_PER_SECOND = 2.5
WORDS_SLACK = 1.2  # narration may run this much over the pace; the render lengthens a scene to its voice
# The longest Short is planned a little shorter: a voice can run a few percent slower than its pace (Piper spoke 68-word
# scenes 2 % slower), and past MAX_SHORT_SECONDS the render would have to cut the pauses, then the words.
MAX_PLANNED_SECONDS = MAX_SHORT_SECONDS - 5


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
            Scene(
                index=i,
                narration=s.narration.strip(),
                first_frame_prompt=s.first_frame_prompt.strip(),
                motion_prompt=s.motion_prompt.strip(),
                seconds=seconds,
                search_terms=clean_search_terms(s.search_terms) or derive_search_terms(s.first_frame_prompt),
            )
            for i, (s, seconds) in enumerate(zip(self.scenes, scene_seconds, strict=True), start=1)
        ]
        mood = self.mood.strip().casefold()
        return Script(
            title=self.title.strip(),
            description=self.description.strip(),
            tags=clean_tags(self.tags),
            hook=self.hook.strip(),
            scenes=scenes,
            mood=mood if mood in get_args(Mood) else None,
        )


def plan_scenes(
    request: ShortRequest,
    words_per_second: float = WORDS_PER_SECOND,
    breath: float = BREATH,
    longest_clip: float | None = None,
) -> ScenePlan:
    """The scenes' seconds for a request and the pace they are written at: as many scenes as the request asks for,
    or more when a scene would be longer than the longest clip the clip model makes."""
    count, total = request.scene_count, min(request.seconds, MAX_PLANNED_SECONDS)
    if longest_clip:
        count = max(count, math.ceil(total / longest_clip - 1e-9))
    return ScenePlan(seconds=scene_seconds(total, count), words_per_second=words_per_second, breath=breath)


def target_words(seconds: float, plan: ScenePlan) -> int:
    """Words a scene of `seconds` holds at the voice's pace, leaving the breath after them (rounded down, so the
    words of a whole plan never take longer than its seconds)."""
    return max(1, math.floor(plan.words_per_second * _spoken(seconds, plan) + 1e-9))


def scene_seconds(total: float, count: int) -> list[float]:
    """Split `total` seconds into `count` scenes that add up exactly, none more than a hundredth of a second longer
    than another (so none is longer than `total / count` rounded up to the hundredth)."""
    cents, extra = divmod(round(total * 100), count)
    return [(cents + (i >= count - extra)) / 100 for i in range(count)]


def max_words(seconds: float, plan: ScenePlan) -> int:
    """The most words a scene of `seconds` may hold."""
    return max(2, math.floor(plan.words_per_second * _spoken(seconds, plan) * WORDS_SLACK))


def _spoken(seconds: float, plan: ScenePlan) -> float:
    """The seconds of a scene the voice speaks in: all but the breath (at most half the scene)."""
    return seconds - min(plan.breath, seconds / 2)


def clean_tags(tags: list[str]) -> list[str]:
    """Tags stripped of spaces and '#', empty ones and repeats dropped."""
    cleaned = (" ".join(t.replace("#", " ").split()) for t in tags)
    return list(dict.fromkeys(t for t in cleaned if t))


def script_problems(draft: ScriptDraft, plan: ScenePlan) -> list[str]:
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
        problems.append(
            f"the description takes {len(draft.description.encode())} bytes in UTF-8; YouTube allows "
            f"{DESCRIPTION_MAX_BYTES}"
        )
    if not draft.hook.strip():
        problems.append("the hook is empty")
    length = tags_length(clean_tags(draft.tags))
    if length > TAGS_MAX_CHARS:
        problems.append(
            f"the tags take {length} characters as YouTube counts them (quotes around tags with "
            f"spaces, commas between); the limit is {TAGS_MAX_CHARS}, so drop or shorten tags"
        )
    if len(draft.scenes) != len(plan.seconds):
        problems.append(f"there are {len(draft.scenes)} scenes; write exactly {len(plan.seconds)}")
    for index, (scene, seconds) in enumerate(zip(draft.scenes, plan.seconds, strict=False), start=1):
        words = len(scene.narration.split())
        if words == 0:
            problems.append(f"scene {index} has no narration")
        elif words > max_words(seconds, plan):
            problems.append(
                f"scene {index}'s narration has {words} words, too many for {seconds:g} seconds at "
                f"{plan.words_per_second:g} words per second; use about {target_words(seconds, plan)} "
                f"and at most {max_words(seconds, plan)}"
            )
        for field in ("first_frame_prompt", "motion_prompt"):
            if not getattr(scene, field).strip():
                problems.append(f"scene {index}'s {field} is empty")
    return problems

"""The loop: what the channel's Shorts with enough data say about topics, hook styles and lengths. No LLM: medians,
and word overlap between topics. The numbers read are YouTube's; the findings are ours."""

from __future__ import annotations

import re
from collections.abc import Callable
from statistics import median

from pipeline.analytics.models import MILESTONES, AnalyticsNumbers, Learnings, ShortStats
from pipeline.analytics.variety import jaccard
from pipeline.settings import ScheduleSettings

MIN_SHORTS = 3  # fewer Shorts with enough data than this teach nothing
STYLES = {
    "question": "asking a question",
    "number": "opening with a number",
    "you": "speaking to the viewer (you)",
    "statement": "a plain statement",
}
LENGTHS = ((20, "up to 20 s"), (35, "21-35 s"), (60, "36-60 s"), (180, "over 60 s"))
_NUMBER = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b")
_WORD = re.compile(r"[^\W_]+")
_STOP = frozenset(
    "a an and are as at be by can do does for from how in into is it its of on or the their they this "
    "to was what when where which who why with your you".split()
)


def hook_style(hook: str) -> str:
    """The hook's style, by rule: a question, a number, speaking to the viewer, else a statement."""
    text = hook.strip().casefold()
    if not text:
        return ""
    if "?" in text:
        return "question"
    if _NUMBER.search(text):
        return "number"
    if re.search(r"\b(you|your|you're)\b", text):
        return "you"
    return "statement"


def length_bucket(seconds: float) -> str:
    return next(name for limit, name in LENGTHS if seconds <= limit)


class _Read:
    """One Short as the learnings compare it: the same window of days for every Short."""

    def __init__(self, row: ShortStats, numbers: AnalyticsNumbers) -> None:
        self.row, self.numbers = row, numbers
        self.at_3s: float = numbers.retention_3s or 0.0
        self.engaged: float = numbers.engaged_views / numbers.views if numbers.views else 0.0


def _readable(rows: list[ShortStats], settings: ScheduleSettings) -> list[_Read]:
    """The Shorts old enough and watched enough, each read over the same window (the longest one within
    SHORTS_LEARN_MIN_DAYS), so an older Short's longer window does not count against a younger one's."""
    label = f"d{max(days for days in MILESTONES if days <= settings.learn_min_days)}"
    found = []
    for row in rows:
        numbers = row.snapshots.get(label)
        if (
            numbers is not None
            and row.age_days is not None
            and row.age_days >= settings.learn_min_days
            and numbers.engaged_views >= settings.learn_min_engaged_views
            and numbers.retention_3s is not None
        ):
            found.append(_Read(row, numbers))
    return found


def derive_learnings(rows: list[ShortStats], settings: ScheduleSettings) -> Learnings:
    """Findings from the Shorts with enough data: which topics and hook styles beat the channel's median on
    retention at 3 s and engaged ratio, and which length kept people watching the largest share."""
    ready = _readable(rows, settings)
    if len(ready) < MIN_SHORTS:
        return Learnings(counted=len(ready))
    hold = median(r.at_3s for r in ready)
    engaged = median(r.engaged for r in ready)
    winners = [r for r in ready if r.at_3s > hold and r.engaged >= engaged]
    losers = [r for r in ready if r.at_3s < hold and r.engaged <= engaged]
    lines = [
        f"Of {len(ready)} Shorts with {settings.learn_min_days}+ days of data, the channel's median retention at "
        f"3 s is {hold:.0%} and its median engaged ratio {engaged:.0%}."
    ]
    style, style_line = _best_style(ready, hold, engaged)
    if style_line:
        lines.append(style_line)
    seconds, length_line = _best_length(ready)
    if length_line:
        lines.append(length_line)
    if winners:
        lines.append("Topics that beat both medians: " + "; ".join(_topic(r) for r in winners[-5:]) + ".")
    if losers:
        lines.append("Topics below both: " + "; ".join(_topic(r) for r in losers[-5:]) + ".")
    return Learnings(
        counted=len(ready),
        winners=[_topic(r) for r in winners],
        losers=[_topic(r) for r in losers],
        hook_style=style,
        seconds=seconds,
        lines=lines,
    )


def _topic(read: _Read) -> str:
    return read.row.short.topic or read.row.title


def _best_style(ready: list[_Read], hold: float, engaged: float) -> tuple[str | None, str | None]:
    """The hook style whose Shorts beat the channel's medians on both, by most retention at 3 s, and a line on it."""
    by_style: dict[str, list[_Read]] = {}
    for read in ready:
        if read.row.short.hook_style:
            by_style.setdefault(read.row.short.hook_style, []).append(read)
    scored = {
        style: (median(r.at_3s for r in group), median(r.engaged for r in group), len(group))
        for style, group in by_style.items()
    }
    beating = {style: s for style, s in scored.items() if s[0] > hold and s[1] >= engaged}
    if not beating:
        return None, None
    style = max(beating, key=lambda name: beating[name][0])
    at_3s, ratio, count = beating[style]
    others = [s for name, s in scored.items() if name != style]
    rest = f" (other hooks: {median(s[0] for s in others):.0%})" if others else ""
    return style, (
        f"Hooks {STYLES[style]} held best: {at_3s:.0%} at 3 s{rest}, engaged ratio {ratio:.0%}, over "
        f"{count} Short{'s' if count != 1 else ''}; open with a hook {STYLES[style]}."
    )


def _best_length(ready: list[_Read]) -> tuple[float | None, str | None]:
    """The length band whose Shorts were watched to the largest share (YouTube's average % viewed)."""
    by_length: dict[str, list[tuple[float, _Read]]] = {}  # each Short's length, with its read
    for read in ready:
        if length := read.row.short.seconds:
            by_length.setdefault(length_bucket(length), []).append((length, read))
    if len(by_length) < 2:
        return None, None
    viewed = {name: median(r.numbers.average_view_percentage for _, r in group) for name, group in by_length.items()}
    best, worst = max(viewed, key=viewed.__getitem__), min(viewed, key=viewed.__getitem__)
    seconds = float(5 * round(median(length for length, _ in by_length[best]) / 5))
    return seconds, (
        f"Shorts of {best} kept people best ({viewed[best]:.0f}% viewed on average, against "
        f"{viewed[worst]:.0f}% for {worst}); aim for about {seconds:g} s."
    )


def _words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.casefold()) if word not in _STOP and len(word) > 2}


def topic_preference(learnings: Learnings) -> Callable[[str], float]:
    """A score per topic for the queue order: how close it is to the winners, less how close to the losers."""
    winners = [_words(t) for t in learnings.winners]
    losers = [_words(t) for t in learnings.losers]

    def score(topic: str) -> float:
        words = _words(topic)
        best = max((jaccard(words, w) for w in winners), default=0.0)
        worst = max((jaccard(words, w) for w in losers), default=0.0)
        return best - worst

    return score

"""Brainstorming topics for SHORTS_NICHE when the queue runs dry: a call to the chosen script provider (a remote LLM,
or the offline templates), so the daily flow runs it as a task of its own, not the topic queue (pipeline.state)."""

from __future__ import annotations

import logging
from collections.abc import Collection

from pipeline.errors import ConfigError
from pipeline.models import ShortRequest
from pipeline.providers import build_provider, choose_provider
from pipeline.settings import Settings
from pipeline.state.topics import clean_topic, known_topics, queue_brainstormed, topic_key

log = logging.getLogger("shorts")


def refill_queue(settings: Settings, count: int, learnings: str = "") -> list[str]:
    """`count` new topics (or fewer) brainstormed for SHORTS_NICHE, none the queue or the ledger knows, appended to
    the queue so a Short that fails keeps its topic for the next run; `learnings` as for brainstorm_topics."""
    ideas = brainstorm_topics(settings, count, known_topics(settings), learnings)
    if ideas:
        queue_brainstormed(settings, ideas)
    return ideas


def brainstorm_topics(settings: Settings, count: int, avoid: Collection[str] = (), learnings: str = "") -> list[str]:
    """New topics for SHORTS_NICHE from the chosen script provider (offline templates if it cannot brainstorm);
    a provider that `learns` also reads `learnings`, the channel's stats note."""
    niche = clean_topic(settings.niche or "")
    choice = choose_provider("script", ShortRequest(topic=niche), settings)
    writer = build_provider("script", choice.name, settings)
    seen = {topic_key(t) for t in avoid}
    ideas: list[str] = []
    extra = {"learnings": learnings} if learnings and writer.learns else {}
    for idea in writer.brainstorm(niche, count, avoid, **extra):
        try:
            idea = clean_topic(idea)
        except ConfigError:
            continue
        if topic_key(idea) not in seen:
            seen.add(topic_key(idea))
            ideas.append(idea)
    log.info("  brainstormed %d topic(s) for %r with the %s script provider", len(ideas[:count]), niche, writer.name)
    return ideas[:count]

"""The source step and what it feeds: the article found on a fake Wikipedia, the keyless script told from its
facts, the grounded LLM prompt, the free pictures under the cards, and the credits."""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fakes.openai import BASE_URL, FakeOpenAI, good_script
from fakes.wikipedia import FILES, FakeWikipedia
from PIL import Image

from pipeline import (
    Settings,
    ShortRequest,
    find_source,
    make_first_frame,
    open_store,
    scene_pictures,
    used_source,
    with_credits,
    write_script,
)
from pipeline.providers.offline.image import OfflineImageMaker
from pipeline.providers.offline.script import OfflineScriptWriter
from pipeline.providers.offline.title_card import key_phrase
from pipeline.providers.openai.client import Connection
from pipeline.providers.openai.script import OpenAIScriptWriter
from pipeline.script_rules import max_words, plan_scenes

OCTOPUS = ShortRequest(topic="How octopuses change colour", seconds=30)
PIEUVRE = ShortRequest(topic="Comment les pieuvres changent de couleur", seconds=30, language="fr")
PACE = 3.1  # Piper's, which keyless Shorts are planned at


@pytest.fixture
def wikipedia(monkeypatch):
    with FakeWikipedia() as fake:
        monkeypatch.setenv("SHORTS_SOURCE", "wikipedia")
        monkeypatch.setenv("SHORTS_WIKIPEDIA_URL", fake.url)
        yield fake


def source_for(request: ShortRequest, pictures: bool = True):
    settings = Settings()
    return find_source(request, settings, open_store(settings), pictures=pictures)


def api_calls(fake: FakeWikipedia) -> list[dict]:
    return [r for r in fake.requests if r["path"].endswith("/w/api.php")]


def test_the_best_article_is_found_with_its_revision_licence_and_only_free_pictures(wikipedia):
    source = source_for(OCTOPUS)

    assert (source.title, source.revision, source.licence) == ("Octopus", 1_234_567, "CC BY-SA 4.0")
    assert source.url == "https://en.wikipedia.org/wiki/Octopus"
    assert source.lead.startswith("The octopus is a soft-bodied, eight-limbed mollusc of the order Octopoda.")
    assert [s.title for s in source.sections] == ["Etymology", "Camouflage and colour change"]  # no References
    # The lead picture first; the non-free logo, the CC BY-NC photo and the SVG map are never taken.
    assert [(p.file, p.licence, p.author, p.lead) for p in source.pictures] == [
        ("File:Octopus2.jpg", "CC BY-SA 3.0", "Jane Diver", True),
        ("File:Octopus camouflage.jpg", "Public domain", "NOAA", False),
    ]
    assert all(
        p.path.is_file() and p.page.startswith("https://commons.wikimedia.org/wiki/File:") for p in source.pictures
    )
    downloads = [r["path"] for r in wikipedia.requests if r["path"].startswith("/upload/")]
    assert downloads == ["/upload/Octopus2.jpg", "/upload/Octopus%20camouflage.jpg"]
    assert len(api_calls(wikipedia)) == 3  # search, article, image info
    assert all(r["agent"].startswith("shorts/") and "httpx/" in r["agent"] for r in wikipedia.requests)

    asked = len(wikipedia.requests)
    assert source_for(OCTOPUS) == source
    assert len(wikipedia.requests) == asked  # a rerun reads the asset store, and asks nothing


def test_a_disambiguation_page_is_skipped_and_french_is_asked_of_the_french_wikipedia(wikipedia):
    assert source_for(ShortRequest(topic="mercury")).title == "Mercury (planet)"
    pieuvre = source_for(PIEUVRE)
    assert (pieuvre.title, pieuvre.language, pieuvre.revision) == ("Pieuvre", "fr", 7_654_321)
    assert pieuvre.lead.startswith("Les pieuvres sont des mollusques céphalopodes")  # no "(ou poulpes, /pulp/)"
    assert [p.file for p in pieuvre.pictures] == ["File:Octopus2.jpg", "File:Octopus camouflage.jpg"]
    assert {r["path"].split("/")[1] for r in api_calls(wikipedia)} == {"en", "fr"}


def test_no_article_unreachable_or_no_source_is_one_line_and_none(wikipedia, monkeypatch, caplog):
    with caplog.at_level(logging.INFO, logger="shorts"):
        assert source_for(ShortRequest(topic="quasar jets")) is None
    assert caplog.messages == [
        "  no source: en Wikipedia has no article for 'quasar jets', so the script uses no article"
    ]

    asked = len(wikipedia.requests)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="shorts"):
        assert source_for(OCTOPUS.model_copy(update={"source": "none"})) is None
    assert caplog.messages == ["  no source: --source none, so the script uses no article"]
    assert len(wikipedia.requests) == asked

    with socket.socket() as closed:  # bound, never listening: refused at once
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("SHORTS_WIKIPEDIA_URL", f"http://127.0.0.1:{closed.getsockname()[1]}")
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="shorts"):
            assert source_for(OCTOPUS) is None
    [line] = caplog.messages
    assert line.startswith("  no source: no answer from Wikipedia at http://127.0.0.1:") and "no connection" in line
    assert line.endswith("so the script uses no article")
    # and the script is then the templates'
    assert write_script(OCTOPUS, OfflineScriptWriter(), plan_scenes(OCTOPUS, PACE), None).scenes


def sentences_of(script) -> list[str]:
    return [s for scene in script.scenes for s in re.split(r"(?<=[.!?])\s+", scene.narration)]


@pytest.mark.parametrize(
    "request_", [OCTOPUS, PIEUVRE, OCTOPUS.model_copy(update={"seconds": 90})], ids=["en-30s", "fr-30s", "en-90s"]
)
def test_the_keyless_script_tells_the_articles_facts_plainly_once_each_at_the_shorts_pace(wikipedia, request_):
    source = source_for(request_, pictures=False)
    plan = plan_scenes(request_, PACE)
    script = write_script(request_, OfflineScriptWriter(), plan, source)

    article = " ".join([source.lead, *(s.text for s in source.sections)])
    said = sentences_of(script)
    closing = said[-1]
    facts = said[:-1]
    assert closing in ("That is what Wikipedia says.", "Voilà ce que dit Wikipédia.")  # in the request's language
    # Every sentence is the article's own (a clause cut at a semicolon starts with a capital and ends on a stop).
    assert all(fact.rstrip(".").casefold() in article.casefold() for fact in facts)
    assert len(set(facts)) == len(facts) >= 3  # at least three facts, none said twice
    assert not re.search(r"[()\[\]/ˈ]", " ".join(said))  # no parentheses, citations or pronunciations
    # The hook is the most surprising: here the article's colour-change speed, in the request's language.
    assert script.scenes[0].narration.startswith(script.hook)
    assert re.search(r"200 milliseconds|dixièmes de seconde", script.scenes[0].narration)
    topic_words = sum(len(re.findall(re.escape(request_.topic), s.narration, re.I)) for s in script.scenes)
    words = sum(len(s.narration.split()) for s in script.scenes)
    assert topic_words * len(request_.topic.split()) <= words / 5
    # Paced like any keyless script: no scene past its most words (the hook's slack made up by the next scenes).
    assert words <= sum(max_words(seconds, plan) for seconds in plan.seconds)
    assert [s.seconds for s in script.scenes] == plan.seconds
    # Each title card's headline comes from its own fact, not from the topic.
    for scene in script.scenes:
        phrase = key_phrase(scene.narration, scene.first_frame_prompt, first=scene.index == 1)
        assert phrase.lower() in scene.narration.lower() and phrase.lower() != request_.topic.lower()


def test_an_openai_script_gets_the_articles_lead_to_keep_to(wikipedia):
    source = source_for(OCTOPUS, pictures=False)
    fake = FakeOpenAI()
    fake.chat.append(good_script())
    writer = OpenAIScriptWriter(Connection("sk-fake-key-for-tests", BASE_URL, fake.client()), model="test-model")
    request = OCTOPUS.model_copy(update={"seconds": 10, "scenes": 2})
    write_script(request, writer, plan_scenes(request), source)

    system, user = (m["content"] for m in fake.bodies("/chat/completions")[0]["messages"])
    assert "Use only facts it supports" in user and "https://en.wikipedia.org/wiki/Octopus" in user
    assert f"<source>\n{source.lead}\n</source>" in user
    assert "When a source is given, use only facts it supports." in system


def test_free_pictures_open_the_scenes_under_the_cards_phrase_and_are_credited(wikipedia, tiny):
    source = source_for(OCTOPUS)
    script = write_script(OCTOPUS, OfflineScriptWriter(), plan_scenes(OCTOPUS, PACE), source)
    picks = scene_pictures(source, script, tiny)

    assert picks[0].id == "File:Octopus2.jpg"  # the lead picture for the hook
    assert [p.id for p in picks if p] == ["File:Octopus2.jpg", "File:Octopus camouflage.jpg"]
    # A panorama 300 pixels high would have to grow 4x to fill a 720x1280 frame: its scene keeps the card.
    panorama = source.model_copy(
        update={"pictures": [source.pictures[0], source.pictures[1].model_copy(update={"height": 300})]}
    )
    assert [
        p and p.id
        for p in scene_pictures(
            panorama, script, Settings().video_format.model_copy(update={"width": 720, "height": 1280})
        )
    ] == ["File:Octopus2.jpg"] + [None] * 5
    settings = Settings()
    frames = [
        make_first_frame(scene, OCTOPUS.style, tiny, OfflineImageMaker(), open_store(settings), footage=pick)
        for scene, pick in zip(script.scenes, picks, strict=False)
    ]
    for frame, pick in zip(frames, picks, strict=False):
        with Image.open(frame.path) as image:
            corner = image.getpixel((4, tiny.height - 6))  # below the phrase: the picture as it is
        if pick:
            assert all(abs(a - b) <= 12 for a, b in zip(corner, FILES[pick.id.split(":")[1]].colour, strict=False))
        else:
            assert corner not in [f.colour for f in FILES.values()]  # the designed card
    shown = used_source(source, picks)
    description = with_credits(script, [], shown.credits()).description
    assert description.endswith(
        "Sources:\nText: “Octopus”, Wikipedia (https://en.wikipedia.org/wiki/Octopus), CC BY-SA 4.0\n"
        "Picture: Octopus2.jpg by Jane Diver, CC BY-SA 3.0, https://commons.wikimedia.org/wiki/File:Octopus2.jpg\n"
        "Picture: Octopus camouflage.jpg by NOAA, Public domain, "
        "https://commons.wikimedia.org/wiki/File:Octopus_camouflage.jpg"
    )


def test_an_unknown_source_is_one_sentence_and_exit_code_2():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "shorts"), "make", "octopus", "--source", "encarta"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "shorts: --source must be wikipedia or none (got 'encarta')."

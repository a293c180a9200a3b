"""The offline script (no LLM, no source) in English, French, Spanish, German and Portuguese, and in English, said so,
for a language with no templates."""

from __future__ import annotations

import logging
import re

import pytest

from pipeline import ShortRequest
from pipeline.providers.offline.script import OfflineScriptWriter, in_sentence
from pipeline.script_rules import plan_scenes

# A few of each language's commonest small words: a script in that language says several of them.
FUNCTION_WORDS = {
    "en": {"the", "you", "to", "of", "and", "what", "is", "it", "a"},
    "fr": {"de", "la", "le", "les", "vous", "et", "un", "une", "en", "pour", "ce", "que"},
    "es": {"de", "la", "el", "que", "y", "en", "un", "una", "por", "lo", "más", "qué"},
    "de": {"der", "die", "das", "und", "du", "es", "ein", "einen", "mit", "zu", "nicht", "noch"},
    "pt": {"de", "o", "a", "que", "e", "um", "uma", "você", "em", "mais", "para", "do"},
}
# Words of the English templates no other language's script may say (outside the topic).
ENGLISH = {"the", "you", "and", "what", "follow", "look", "let's", "think", "more", "here", "that", "with"}
TOPICS = {
    "en": "How octopuses change colour",
    "fr": "Comment les pieuvres changent de couleur",
    "es": "Cómo cambian de color los pulpos",
    "de": "Wie Kraken ihre Farbe wechseln",
    "pt-BR": "Como os polvos mudam de cor",
}


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’]+", text.lower())


@pytest.mark.parametrize("language", TOPICS)
@pytest.mark.parametrize("seconds", [15, 30, 60, 120])
def test_each_language_has_its_own_script_and_never_says_a_sentence_twice(language, seconds):
    request = ShortRequest(topic=TOPICS[language], seconds=seconds, language=language)
    script = OfflineScriptWriter().write(request, plan_scenes(request, words_per_second=3.1))
    narration = " ".join(scene.narration for scene in script.scenes)
    sentences = _sentences(narration)
    assert len(sentences) == len(set(sentences)), [s for s in sentences if sentences.count(s) > 1]
    assert all(s[0].isupper() or s[0] == "¿" for s in sentences)
    code = language[:2]
    words = _words(narration.replace(in_sentence(request.topic, language), " "))
    assert len(FUNCTION_WORDS[code] & set(words)) >= 4
    if code != "en":
        assert not ENGLISH & set(words), ENGLISH & set(words)
        assert not ENGLISH & set(_words(script.title + " " + script.description.split(".")[0]))
    assert script.scenes[0].narration.startswith(script.hook)  # the hook always opens the Short, whole
    assert in_sentence(request.topic, language) in script.hook


@pytest.mark.parametrize(
    ("topic", "language", "said"),
    [
        ("Les volcans d'Islande", "fr", "Revenons un instant aux volcans d'Islande."),
        ("Le ciel", "fr", "Revenons un instant au ciel."),
        ("L'Islande", "fr", "Revenons un instant à l'Islande."),
        ("El cielo", "es", "Volvamos un momento al cielo."),
        ("O céu", "pt", "Voltemos por um momento ao céu."),
        ("Os vulcões da Islândia", "pt", "Voltemos por um momento aos vulcões da Islândia."),
    ],
)
def test_the_topic_reads_inside_a_sentence_as_the_language_says_it(topic, language, said):
    # 120 s: every middle line is said, so the one that puts the topic after a preposition is too.
    script = OfflineScriptWriter().write(ShortRequest(topic=topic, seconds=120, language=language))
    text = " ".join([script.title, script.description, *(scene.narration for scene in script.scenes)])
    assert said in text
    assert not re.search(r"\b(de les?|à les?|a el|de el|de os?|a os?|em os?|por os?) ", text.replace(topic, ""))


def test_in_sentence_lowers_question_words_and_articles_but_not_names():
    assert in_sentence("How bees dance") == "how bees dance"
    assert in_sentence("The Beatles") == "The Beatles" and in_sentence("The sky?") == "the sky"
    assert in_sentence("Pourquoi le ciel est bleu ?", "fr") == "pourquoi le ciel est bleu"
    assert in_sentence("Die Vulkane Islands", "de") == "die Vulkane Islands"  # German nouns keep their capital
    assert in_sentence("NASA rockets") == "NASA rockets"


def test_no_line_claims_what_may_be_false():
    for language, topic in TOPICS.items():
        text = " ".join(
            " ".join(
                scene.narration
                for scene in OfflineScriptWriter()
                .write(ShortRequest(topic=topic, seconds=120, language=language))
                .scenes
            )
            for topic in (topic, "the sky")
        )
        assert not re.search(r"scientists|experts?|nobody|never like this|now you know|explained", text, re.I)


def test_a_language_without_templates_stays_english_and_says_why_in_one_line(caplog):
    with caplog.at_level(logging.INFO, logger="shorts"):
        script = OfflineScriptWriter().write(ShortRequest(topic="タコの色", seconds=15, language="ja"))
    lines = [r.getMessage() for r in caplog.records if "English" in r.getMessage()]
    assert len(lines) == 1 and "'ja'" in lines[0] and "templates" in lines[0] and "\n" not in lines[0]
    assert len(FUNCTION_WORDS["en"] & set(_words(" ".join(s.narration for s in script.scenes)))) >= 4

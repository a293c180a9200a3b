"""The title card's pictogram names the topic for most topics, in five languages, and unknown topics do not all get
the same fallback."""

from __future__ import annotations

from pipeline import ShortRequest
from pipeline.providers.offline.pictograms import FALLBACKS, emoji_font, pick_pictogram
from pipeline.providers.offline.script import OfflineScriptWriter
from pipeline.providers.offline.title_card import plan_title_card

# (language, topic, a pictogram that names it)
TOPICS = [
    ("en", "Why is the sky blue", "🌤"),
    ("en", "The volcanoes of Iceland", "🌋"),
    ("en", "How octopuses change colour", "🐙"),
    ("en", "Why cats purr", "🐈"),
    ("en", "How bees make honey", "🐝"),
    ("en", "The history of coffee", "☕"),
    ("en", "How black holes form", "🌌"),
    ("en", "Why we dream", "💭"),
    ("en", "How rainbows appear", "🌈"),
    ("en", "The life of penguins", "🐧"),
    ("en", "How airplanes fly", "✈"),
    ("en", "Why leaves change colour in autumn", "🍂"),
    ("en", "How the internet works", "🌐"),
    ("en", "The pyramids of Egypt", "🔺"),
    ("en", "How sharks find their prey", "🦈"),
    ("en", "Why the moon has phases", "🌙"),
    ("en", "The first Olympic Games", "🏅"),
    ("en", "How earthquakes happen", None),
    ("en", "The rules of cricket", "🏏"),
    ("fr", "Comment les pieuvres changent de couleur", "🐙"),
    ("fr", "Pourquoi le ciel est bleu", "🌤"),
    ("fr", "Les volcans d'Islande", "🌋"),
    ("fr", "La vie des abeilles", "🐝"),
    ("fr", "Les oiseaux migrateurs", "🐦"),
    ("es", "Cómo cambian de color los pulpos", "🐙"),
    ("es", "Los volcanes de Islandia", "🌋"),
    ("es", "Por qué soñamos", None),
    ("de", "Wie Kraken ihre Farbe wechseln", "🐙"),
    ("de", "Warum der Himmel blau ist", "🌤"),
    ("de", "Die Vulkane Islands", "🌋"),
    ("pt", "Como os polvos mudam de cor", "🐙"),
    ("pt", "Por que o céu é azul", "🌤"),
    ("pt", "Os vulcões da Islândia", "🌋"),
]
UNKNOWN = [
    "Compound interest",
    "Daylight saving",
    "How escrow works",
    "Zeno's paradox",
    "The Monty Hall problem",
    "Why queues form",
]


def _cards(topic: str, language: str = "en") -> list[str]:
    script = OfflineScriptWriter().write(ShortRequest(topic=topic, seconds=15, language=language))
    return [plan_title_card(scene, "bright, cinematic, high contrast", 1).emoji for scene in script.scenes]


def test_most_topics_get_a_pictogram_that_names_them_in_five_languages():
    shown = {(language, topic): _cards(topic, language) for language, topic, _ in TOPICS}
    named = [(language, topic) for language, topic, emoji in TOPICS if emoji and set(shown[language, topic]) == {emoji}]
    assert len(named) >= 0.85 * len(TOPICS), sorted(set(shown) - set(named))
    assert {language for language, _ in named} == {"en", "fr", "es", "de", "pt"}


def test_unknown_topics_get_different_fallbacks_each_drawn_by_the_emoji_font():
    shown = [pick_pictogram(f"bright illustration of {topic}, scene 1") for topic in UNKNOWN]
    assert set(shown) <= set(FALLBACKS) and len(set(shown)) >= 3
    assert pick_pictogram("illustration of compound interest") == pick_pictogram("illustration of compound interest")
    font = emoji_font(48)
    missing = bytes(font.getmask("\ue000"))
    assert all(bytes(font.getmask(emoji)) != missing for emoji in FALLBACKS)


def test_a_verb_or_an_english_word_spelt_like_a_foreign_one_is_not_taken_for_an_animal():
    assert pick_pictogram("how airplanes fly") == "✈"
    assert pick_pictogram("the pain of a broken bone") == "🦴" and pick_pictogram("let's chat about ours") in FALLBACKS

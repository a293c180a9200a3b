"""A script writer that needs no LLM: sentences from `prompts/offline_script.txt` (or the request language's own
`prompts/offline_script.<language>.txt`), paced to the clock."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Collection
from typing import ClassVar

from pipeline.limits import TITLE_MAX_CHARS
from pipeline.models import Scene, ScenePlan, Script, ShortRequest
from pipeline.music import mood_for
from pipeline.prompts import PROMPTS_DIR, load_sections, render
from pipeline.providers.base import ScriptWriter
from pipeline.script_rules import plan_scenes, target_words
from pipeline.search_terms import derive_search_terms
from pipeline.source.models import Source

TEMPLATES = "offline_script.txt"  # English, and the [frame] and [motion] prompts of every language
MAX_TAILS = 2  # short sentences that top up a scene; more in a row sound like filler
# Words that start a topic but read in lower case inside a sentence: question words ("How bees dance") and articles
# ("The sky", "Les volcans d'Islande"), per language (the primary subtag of the request's language).
LOWER_FIRST: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        "en": "how why what when where who which whether the a an",
        "fr": "comment pourquoi quand où qui quel quelle quels quelles que qu'est-ce le la les l' un une des du",
        "es": "cómo como por porqué qué cuándo dónde quién quiénes cuál cuáles cuánto el la los las un una unos unas",
        "de": "wie warum weshalb wieso was wann wo wer welche welcher welches der die das ein eine",
        "pt": "como por porque quando onde quem qual quais o a os as um uma uns umas",
    }.items()
}
# A template's preposition meeting the topic's article: "de les volcans" is said "des volcans".
CONTRACTIONS: dict[str, dict[str, str]] = {
    "fr": {"de le": "du", "de les": "des", "à le": "au", "à les": "aux"},
    "es": {"a el": "al", "de el": "del"},
    "pt": {f"{p} {a}": f"{c}{a}" for p, c in (("de", "d"), ("em", "n"), ("por", "pel")) for a in ("o", "a", "os", "as")}
    | {"a o": "ao", "a os": "aos", "a a": "à", "a as": "às"},
}
FRENCH_ELISION = re.compile(r"\b(d|qu)e \x00(?=[aeiouyàâéèêëîïôûAEIOUYÀÂÉÈÊÎÔÛ])")
TOPIC_MARK = "\x00"  # where the topic starts in a filled template, so only that boundary is contracted
log = logging.getLogger("shorts")


def _pick(options: list[str], *salt: object) -> str:
    digest = hashlib.sha256("|".join(map(str, salt)).encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def primary_language(language: str) -> str:
    """The language's primary subtag, lower case: "pt" for pt-BR."""
    return language.partition("-")[0].lower()


def in_sentence(topic: str, language: str = "en") -> str:
    """The topic as it reads inside a sentence: a question ("How bees dance") or an article ("The sky") starts in
    lower case, unless a name follows it ("The Beatles"; German capitalises every noun, so there it always does);
    a closing "?" or "." is left to the sentence."""
    code = primary_language(language)
    topic = topic.rstrip(" ?!.…")
    first, space, rest = topic.partition(" ")
    elided = first[:2].lower() in ("l'", "l’") and code == "fr"  # "L'Islande"
    word = first[:2].lower() if elided else first.lower()
    name_follows = code != "de" and rest[:1].isupper()
    if (
        word in LOWER_FIRST.get(code, LOWER_FIRST["en"])
        and first[:1].isupper()
        and (elided or first[1:] == first[1:].lower())
        and not name_follows
    ):
        return first[:1].lower() + first[1:] + space + rest
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
        if sentence in tails and (
            sum(c in tails for c in chosen) == MAX_TAILS
            or any(c in tails and c.split()[0] == sentence.split()[0] for c in chosen)
        ):
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


def templates(language: str) -> tuple[dict[str, list[str]], str]:
    """The template sections for a language, and the file they come from: the language's own file over the English
    one (which alone holds the image and motion prompts); English, said in one line, for a language with none."""
    sections, code = load_sections(TEMPLATES), primary_language(language)
    name = f"offline_script.{code}.txt"
    if code == "en":
        return sections, TEMPLATES
    if not (PROMPTS_DIR / name).is_file():
        log.warning(
            "  the script stays in English: with no LLM and no source it is written from templates, and "
            "there are none in %r yet (prompts/%s); an LLM (OPENAI_API_KEY, or Ollama) writes in any "
            "language",
            language,
            name,
        )
        return sections, TEMPLATES
    return sections | load_sections(name), name


def _contract(text: str, code: str) -> str:
    """A template's preposition joined to the topic's article as the language says it ("de les" is "des")."""
    for loose, joined in CONTRACTIONS.get(code, {}).items():
        preposition, article = loose.split(" ")
        text = re.sub(rf"(?<!\w){preposition} {TOPIC_MARK}{article} ", f"{joined} {TOPIC_MARK}", text)
        text = re.sub(
            rf"(?<!\w){preposition[:1].upper()}{preposition[1:]} {TOPIC_MARK}{article} ",
            f"{joined[:1].upper()}{joined[1:]} {TOPIC_MARK}",
            text,
        )
    if code == "fr":
        text = FRENCH_ELISION.sub(lambda m: f"{m.group(1)}'{TOPIC_MARK}", text)
    return text.replace(TOPIC_MARK, "")


class OfflineScriptWriter(ScriptWriter):
    """Builds a structured script deterministically from the topic and the template file of its language."""

    name: ClassVar[str] = "offline"
    model = "templates-v3"

    def write(self, request: ShortRequest, plan: ScenePlan | None = None, source: Source | None = None) -> Script:
        # `source` is not read: `write_script` writes from an article with `write_factual`, before the templates.
        t, template_file = templates(request.language)
        code = primary_language(request.language) if template_file != TEMPLATES else "en"
        plan = plan or plan_scenes(request)
        count = len(plan.seconds)
        values = dict(
            topic=TOPIC_MARK + in_sentence(request.topic, code),
            seconds=request.seconds,
            scene_count=count,
            language=request.language,
            style=request.style,
        )

        def fill(template: str, **extra: object) -> str:
            return sentence_case(_contract(render(template, template_file, **values, **extra), code))

        hook = fill(_pick(t["hook"], request.topic, "hook"))
        middles = [fill(line) for line in t["middle"]]
        tails = [fill(line) for line in t["tail"]]
        first = int.from_bytes(hashlib.sha256(request.topic.encode()).digest()[:2], "big") % len(middles)
        unused = middles[first:] + middles[:first]  # each scene takes the sentences least used so far
        scenes, planned, written = [], 0, 0
        spoken: set[str] = set()
        for index, seconds in enumerate(plan.seconds, start=1):
            closing = fill(_pick(t["closing"], request.topic, "closing")) if index == count and count > 1 else None
            # Whole sentences fall a word or two short of a scene's words; the next scene makes up for it, so the
            # Short as a whole keeps to the voice's pace.
            planned += target_words(seconds, plan)
            # A sentence is said again only once every other one has been said (a long Short with few templates).
            fresh = [m for m in unused if m not in spoken] or unused
            budget = max(3, planned - written)
            if index == 1:  # the hook opens the Short whole, even when it is a word or two longer than the scene's
                room = budget - len(hook.split())
                said = [hook, *(fit_words(fresh, room, tails, closing) if room >= 3 else [c for c in [closing] if c])]
            else:
                said = fit_words(fresh, budget, tails, closing)
            written += sum(len(s.split()) for s in said)
            spoken = spoken | set(said) if fresh is not unused else set(said)
            unused = [m for m in unused if m not in said] + [m for m in unused if m in said]
            tails = [tail for tail in tails if tail not in said]  # a tail said once is not said again
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

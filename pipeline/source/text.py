"""An article's plain text made into facts a voice can say: sections kept, brackets and pronunciations stripped,
sentences split, long ones cut at clause boundaries that leave whole sentences."""

from __future__ import annotations

import re

from pipeline.source.models import SourceSection

FIRST_SECTIONS = 2  # besides the lead, the first sections are kept, and any whose heading shares a topic word
MAX_SECTION_CHARS = 3000
_HEADING = re.compile(r"^(={2,6})\s*(.+?)\s*\1\s*$", re.MULTILINE)
_SKIPPED_SECTIONS = re.compile(
    r"^(see also|references|notes|further reading|external links|bibliography|sources|"
    r"voir aussi|références|notes et références|liens externes|bibliographie|"
    r"véase también|referencias|enlaces externos|siehe auch|literatur|weblinks|"
    r"einzelnachweise|ver também|referências|ligações externas)$",
    re.IGNORECASE,
)
_IPA = set("ˈˌəɒɪʊʃʒθðŋɑɔɛæʌːɜɐʔɾ")
# Words that start a clause of its own after ", and" / ", but" (so the cut leaves two sentences), per language.
_CLAUSE_STARTS = {
    "en": ("and", "but", "while", "whereas"),
    "fr": ("et", "mais", "tandis que", "alors que"),
    "es": ("y", "pero", "mientras que"),
    "de": ("und", "aber", "während"),
    "pt": ("e", "mas", "enquanto"),
}
_SUBJECTS = {
    "en": "it they he she its their this these some many most the a an",
    "fr": "il elle ils elles les la le l' leur leurs ce ces cette certains certaines on",
    "es": "él ella ellos ellas los las el la su sus este estos esta estas algunos algunas se",
    "de": "er sie es die der das ihre ihr sein seine diese dieser einige viele man",
    "pt": "ele ela eles elas os as o a seu sua seus suas este estes esta estas alguns algumas",
}
_ABBREVIATIONS = (
    "e.g.",
    "i.e.",
    "c.",
    "ca.",
    "approx.",
    "etc.",
    "vs.",
    "St.",
    "Dr.",
    "Mr.",
    "Mrs.",
    "No.",
    "av.",
    "J.-C.",
    "apr.",
    "env.",
    "z.B.",
    "bzw.",
    "d.h.",
    "Nr.",
    "aprox.",
    "p.ex.",
)


def sections(text: str, topic_words: set[str]) -> tuple[str, list[SourceSection]]:
    """The lead (the text before the first heading) and the sections worth reading: the first few, and those whose
    heading shares a word with the topic; references and link lists never."""
    parts = _HEADING.split(text)
    lead, kept, firsts = parts[0].strip(), [], 0
    for marks, title, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=False):
        body = body.strip()
        if not body or _SKIPPED_SECTIONS.match(title.strip()):
            continue
        first = marks == "==" and firsts < FIRST_SECTIONS  # a top-level section (its subsections count apart)
        firsts += first
        if first or stems(title) & topic_words:
            kept.append(SourceSection(title=title.strip(), text=body[:MAX_SECTION_CHARS]))
    return lead, kept


def stems(text: str) -> set[str]:
    """A text's longer words, cut to a common stem (so "colour" meets "coloured", "octopuses" "octopus")."""
    return {word.lower()[:6] for word in re.findall(r"\w{4,}", text)}


def clean(text: str) -> str:
    """Plain text a voice can read: no citations or bracketed notes, no parentheses (pronunciations, plurals,
    dates), no IPA between slashes; spaces tidied."""
    text = re.sub(r"\[[^\[\]]*\]", "", text)
    previous = None
    while previous != text:  # nested parentheses, innermost first
        previous, text = text, re.sub(r"\s*[(（][^()（）]*[)）]", "", text)
    text = re.sub(r"\s*/[^/\n]{1,60}/", lambda m: "" if set(m.group()) & _IPA else m.group(), text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))
    return re.sub(r"([,;:])(?=[^\s\d])", r"\1 ", text).replace(",,", ",").strip()


def sentences(text: str) -> list[str]:
    """The text's sentences, not split after an abbreviation or an initial."""
    pieces = re.split(r"(?<=[.!?])\s+(?=[\"«“¿¡]?[^\W\d_]|\d)", clean(text))
    merged: list[str] = []
    for piece in pieces:
        last = merged[-1].split()[-1] if merged else ""
        if merged and (last in _ABBREVIATIONS or re.fullmatch(r"[A-Z]\.", last) or piece[:1].islower()):
            merged[-1] += " " + piece
        else:
            merged.append(piece)
    return [s for s in merged if s]


def simplify(sentence: str, language: str) -> list[str]:
    """A sentence as plain short ones: cut at semicolons, and at ", and"/", but" where a new subject follows."""
    primary = language.split("-")[0].lower()
    parts = [p.strip() for p in re.split(r"\s*;\s*", sentence) if p.strip()]
    starts, subjects = _CLAUSE_STARTS.get(primary, ()), set(_SUBJECTS.get(primary, "").split())
    out: list[str] = []
    for part in parts:
        out += _cut_clauses(part, starts, subjects)
    return [_sentence(p) for p in out if len(p.split()) >= 4]


def _cut_clauses(text: str, starts: tuple[str, ...], subjects: set[str]) -> list[str]:
    for start in starts:
        match = re.search(rf",\s+{re.escape(start)}\s+(\S+)\s", text)
        if match and match.group(1).lower().rstrip(",") in subjects and len(text[: match.start()].split()) >= 4:
            rest = text[match.end(0) - len(match.group(1)) - 1 :].strip()
            return [text[: match.start()], *_cut_clauses(rest, starts, subjects)]
    return [text]


def _sentence(text: str) -> str:
    """Capitalised, ending on a full stop (or the mark it has)."""
    text = text.strip().rstrip(",:")
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."

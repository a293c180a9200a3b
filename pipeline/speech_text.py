"""What a voice should say for a written narration ("$5.50" -> "five dollars and fifty cents"), and the spoken
words' timings put back on the written words, so captions show the text as written.

English only; other languages go to the voice as written.
"""

from __future__ import annotations

import re

from pipeline.models import WordTiming

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_MONTHS = ("January February March April May June July August September October November December").split()
_TITLES = {
    "Dr.": "Doctor",
    "Mr.": "Mister",
    "Mrs.": "Missus",
    "Ms.": "Miz",
    "Prof.": "Professor",
    "St.": "Saint",
    "Mt.": "Mount",
    "Jr.": "Junior",
    "Sr.": "Senior",
    "No.": "number",
    "Nos.": "numbers",
}
_ABBREVIATIONS = {
    "e.g.": "for example",
    "i.e.": "that is",
    "etc.": "et cetera",
    "vs.": "versus",
    "vs": "versus",
    "approx.": "approximately",
    "&": "and",
    "%": "percent",
    "°C": "degrees Celsius",
    "°F": "degrees Fahrenheit",
    **{m[:3] + ".": m for m in _MONTHS},
    "Sept.": "September",
}
# Units spoken as words only after a number ("5 km", "5km"); "m" alone is too ambiguous to expand.
_UNITS = {
    "km": "kilometres",
    "kg": "kilograms",
    "cm": "centimetres",
    "mm": "millimetres",
    "mph": "miles per hour",
    "km/h": "kilometres per hour",
    "kph": "kilometres per hour",
    "°C": "degrees Celsius",
    "°F": "degrees Fahrenheit",
    "°": "degrees",
    "x": "times",
    "ft": "feet",
    "lb": "pounds",
    "lbs": "pounds",
}
_MONEY = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
}
_SUFFIX_SCALE = {"k": "thousand", "m": "million", "bn": "billion", "b": "billion", "tn": "trillion"}

_SPLIT = re.compile(r"^([\"'(\[“‘]*)(.*?)([\"')\]”’.,;:!?]*)$")
_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+"
_PLAIN = re.compile(rf"^(-|−)?({_NUMBER})(\.\d+)?$")
_CURRENCY = re.compile(rf"^([$£€])({_NUMBER})(\.\d+)?(k|m|bn|b|tn)?$", re.I)
_PERCENT = re.compile(rf"^(-|−)?({_NUMBER})(\.\d+)?%$")
_DECADE = re.compile(r"^[’']?(\d{2}|\d{4})[’']?s$")
_ORDINAL_RE = re.compile(r"^(\d+)(st|nd|rd|th)$", re.I)
_RANGE = re.compile(rf"^({_NUMBER})[-–]({_NUMBER})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_WITH_UNIT = re.compile(rf"^({_NUMBER})(\.\d+)?(km/h|km|kg|cm|mm|mph|kph|°C|°F|°|x|ft|lbs|lb)$")


def cardinal(n: int) -> str:
    """A whole number in words: 21 -> "twenty-one", 1500000 -> "one million five hundred thousand"."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else "")
    if n < 1000:
        return _ONES[n // 100] + " hundred" + (" " + cardinal(n % 100) if n % 100 else "")
    for scale, name in _SCALES:
        if n >= scale:
            return cardinal(n // scale) + " " + name + (" " + cardinal(n % scale) if n % scale else "")
    raise AssertionError("unreachable")


def ordinal(n: int) -> str:
    """21 -> "twenty-first"."""
    words = cardinal(n)
    head, sep, last = words.rpartition("-") if "-" in words.split()[-1] else words.rpartition(" ")
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def year(n: int) -> str:
    """A year as said: 1905 -> "nineteen oh five", 2000 -> "two thousand", 2024 -> "twenty twenty-four"."""
    if 2000 <= n < 2010 or n % 1000 == 0:
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return cardinal(high) + " hundred"
    return cardinal(high) + (" oh " + _ONES[low] if low < 10 else " " + cardinal(low))


def spoken_text(text: str, language: str = "en") -> tuple[str, list[int]]:
    """The narration as the voice should say it, and how many spoken words say each written word."""
    written = text.split()
    if not language.lower().startswith("en"):
        return text, [1] * len(written)
    spoken: list[str] = []
    counts: list[int] = []
    for i, word in enumerate(written):
        before = written[i - 1] if i else ""
        after = written[i + 1] if i + 1 < len(written) else ""
        said = _say(word, before, after).split() or [word]
        spoken += said
        counts.append(len(said))
    return " ".join(spoken), counts


def written_timings(text: str, spoken: list[WordTiming], counts: list[int]) -> list[WordTiming]:
    """Each written word timed from the spoken words that say it (first start, last end)."""
    timings, k = [], 0
    for word, count in zip(text.split(), counts, strict=False):
        said = spoken[k : k + count]
        timings.append(WordTiming(word=word, start=said[0].start, end=said[-1].end))
        k += count
    return timings


def _say(word: str, before: str, after: str) -> str:
    """One written word as spoken, keeping its punctuation (which gives the voice its pauses)."""
    if word in _TITLES and after[:1].isalnum():
        return _TITLES[word]
    lead, core, trail = _SPLIT.match(word).groups()  # type: ignore[union-attr]  # the pattern matches anything
    if core + trail in _ABBREVIATIONS or (core + trail[:1]) in _ABBREVIATIONS:
        key = core + trail if core + trail in _ABBREVIATIONS else core + trail[:1]
        trail = trail[len(key) - len(core) :]
        if key == "etc." and (not after or after[:1].isupper()):
            trail = "." + trail  # "etc." that ends the sentence keeps its full stop
        return lead + _ABBREVIATIONS[key] + trail
    said = _say_core(core, _bare(before), _bare(after))
    return lead + said + trail if said is not None else word


def _say_core(core: str, before: str, after: str) -> str | None:
    if m := _CURRENCY.match(core):
        return _money(m, after)
    if m := _PERCENT.match(core):
        return _number(m.group(1), m.group(2), m.group(3)) + " percent"
    if m := _DECADE.match(core):
        digits = m.group(1)
        words = year(int(digits)) if len(digits) == 4 else cardinal(int(digits))
        return _plural(words)
    if m := _ORDINAL_RE.match(core):
        return ordinal(int(m.group(1)))
    if m := _RANGE.match(core):
        return f"{_whole(m.group(1))} to {_whole(m.group(2))}"
    if m := _TIME.match(core):
        hours, minutes = int(m.group(1)), int(m.group(2))
        if hours <= 24 and minutes < 60:
            said = "o'clock" if minutes == 0 else ("oh " + _ONES[minutes] if minutes < 10 else cardinal(minutes))
            return f"{cardinal(hours)} {said}"
    if m := _WITH_UNIT.match(core):
        return _number(None, m.group(1), m.group(2)) + " " + _UNITS[m.group(3)]
    if m := _PLAIN.match(core):
        if before in _MONTHS and not m.group(3) and 1 <= int(m.group(2)) <= 31:
            return ordinal(int(m.group(2)))  # "May 5" -> "May fifth"
        return _number(m.group(1), m.group(2), m.group(3))
    if (
        core.lower() in ("thousand", "million", "billion", "trillion")
        and (money := _CURRENCY.match(before))
        and not money.group(4)
    ):
        return f"{core} {_MONEY[money.group(1)][1]}"  # "$1.2 million" -> "... million dollars"
    if core in _UNITS and re.fullmatch(rf"(-|−)?({_NUMBER})(\.\d+)?", before) and core not in ("x", "°"):
        return _UNITS[core]
    return None


def _money(m: re.Match[str], after: str) -> str:
    one, many, cent, cents = _MONEY[m.group(1)]
    whole, fraction, suffix = m.group(2), m.group(3), (m.group(4) or "").lower()
    scale = _SUFFIX_SCALE.get(suffix) or (
        after.lower() if after.lower() in ("thousand", "million", "billion", "trillion") else ""
    )
    if scale:  # "$1.2 million": the unit is said after the scale ("one point two million dollars")
        spoken = _number(None, whole, fraction)
        return f"{spoken} {_SUFFIX_SCALE[suffix]} {many}" if suffix else spoken
    units = int(whole.replace(",", ""))
    hundredths = round(float("0" + fraction) * 100) if fraction else 0
    parts = [f"{cardinal(units)} {one if units == 1 else many}"] if units or not hundredths else []
    if hundredths:
        parts.append(f"{cardinal(hundredths)} {cent if hundredths == 1 else cents}")
    return " and ".join(parts)


def _number(sign: str | None, whole: str, fraction: str | None) -> str:
    words = _whole(whole)
    if fraction:
        words += " point " + " ".join(_ONES[int(d)] for d in fraction[1:])
    return ("minus " if sign else "") + words


def _whole(digits: str) -> str:
    n = int(digits.replace(",", ""))
    return year(n) if "," not in digits and len(digits) == 4 and 1100 <= n < 2100 else cardinal(n)


def _plural(words: str) -> str:
    """ "nineteen ninety" -> "nineteen nineties", "two thousand" -> "two thousands"."""
    return words[:-1] + "ies" if words.endswith("y") else words + ("es" if words.endswith("x") else "s")


def _bare(word: str) -> str:
    return _SPLIT.match(word).group(2)  # type: ignore[union-attr]

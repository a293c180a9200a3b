"""Which font draws which characters: the caption font for Latin, Greek and Cyrillic, Noto fonts for other scripts.

A font is opened only when a text needs it, so a Latin caption never loads the 17 MB CJK font. Characters no
bundled font has are looked for in the system's fonts (fontconfig), and those nothing can draw are left out
rather than drawn as empty boxes.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from PIL import ImageFont, features

from pipeline.settings import PROJECT_ROOT

FONT = PROJECT_ROOT / "assets" / "fonts" / "NotoSans-Bold.ttf"
BOLD = 700  # the weight set on variable fonts, to match NotoSans-Bold
NO_GLYPH = "\U0010fffd"  # a private-use code point no font maps: it draws as the font's "missing" box
ATTACHED = frozenset({"Mn", "Mc", "Me", "Cf"})  # marks and joiners: drawn with the character before them
# Bidi controls are dropped: the layout orders words itself, and an override would flip a run behind its back.
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SYSTEM_FONTS_FOUND: list[Path] = []


@dataclass(frozen=True)
class Script:
    """A writing system the captions and title cards can draw, and the font that draws it."""

    name: str
    sample: str  # characters doctor tries
    package: str  # the installed package holding the font
    file: str
    blocks: tuple[tuple[int, int], ...]

    def path(self) -> Path | None:
        """The font file, if its package is installed."""
        return _package_file(self.package, self.file)


def _noto(name: str, sample: str, *blocks: tuple[int, int]) -> Script:
    return Script(name, sample, "manimgx_fonts", f"NotoSans{name}[wght].ttf", blocks)


CJK = Script(
    "Chinese, Japanese, Korean",
    "漢字かなカナ한글",
    "noto_cjk_sans_jp_bold",
    "NotoSansCJKjp-Bold.otf",
    (
        (0x1100, 0x11FF),
        (0x2E80, 0x2FFF),
        (0x3000, 0x33FF),
        (0x3400, 0x4DBF),
        (0x4E00, 0x9FFF),
        (0xA960, 0xA97F),
        (0xAC00, 0xD7FF),
        (0xF900, 0xFAFF),
        (0xFE30, 0xFE4F),
        (0xFF00, 0xFFEF),
        (0x20000, 0x3134F),
    ),
)
SCRIPTS: tuple[Script, ...] = (
    _noto("Arabic", "عربي", (0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    _noto("Hebrew", "עברית", (0x0590, 0x05FF), (0xFB1D, 0xFB4F)),
    _noto("Devanagari", "हिन्दी", (0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    _noto("Thai", "ไทย", (0x0E00, 0x0E7F)),
    CJK,
    _noto("Armenian", "Հայ", (0x0530, 0x058F), (0xFB13, 0xFB17)),
    _noto("Bengali", "বাংলা", (0x0980, 0x09FF)),
    _noto("Gurmukhi", "ਪੰਜਾਬੀ", (0x0A00, 0x0A7F)),
    _noto("Gujarati", "ગુજરાતી", (0x0A80, 0x0AFF)),
    _noto("Oriya", "ଓଡ଼ିଆ", (0x0B00, 0x0B7F)),
    _noto("Tamil", "தமிழ்", (0x0B80, 0x0BFF)),
    _noto("Telugu", "తెలుగు", (0x0C00, 0x0C7F)),
    _noto("Kannada", "ಕನ್ನಡ", (0x0C80, 0x0CFF)),
    _noto("Malayalam", "മലയാളം", (0x0D00, 0x0D7F)),
    _noto("Sinhala", "සිංහල", (0x0D80, 0x0DFF)),
    _noto("Lao", "ລາວ", (0x0E80, 0x0EFF)),
    _noto("Myanmar", "မြန်မာ", (0x1000, 0x109F)),
    _noto("Georgian", "ქართული", (0x10A0, 0x10FF), (0x1C90, 0x1CBF), (0x2D00, 0x2D2F)),
    _noto("Ethiopic", "አማርኛ", (0x1200, 0x139F), (0x2D80, 0x2DDF)),
    _noto("Khmer", "ខ្មែរ", (0x1780, 0x17FF), (0x19E0, 0x19FF)),
)


@lru_cache(maxsize=64)  # the title cards try many sizes to fit a phrase
def load_font(path: Path, px: int) -> ImageFont.FreeTypeFont:
    """A font file at a pixel size, loaded once per process; a variable font at bold weight."""
    font = ImageFont.truetype(str(path), px)
    try:
        axes = font.get_variation_axes()
    except OSError:  # not a variable font
        return font
    font.set_variation_by_axes(
        [
            min(max(BOLD, a["minimum"] or 0), a["maximum"] or BOLD) if a["name"] == b"Weight" else a["default"] or 0
            for a in axes
        ]
    )
    return font


@lru_cache(maxsize=4096)
def has_glyph(font: Path, ch: str) -> bool:
    """Whether `font` maps `ch` to a glyph of its own."""
    # Pillow has no cmap lookup; a character the font lacks is drawn as exactly the missing box, so compare.
    return _mask(font, ch) != _mask(font, NO_GLYPH)


@lru_cache(maxsize=256)
def _mask(font: Path, ch: str) -> tuple[tuple[int, int], bytes]:
    mask = load_font(font, 32).getmask(ch)
    return mask.size, bytes(mask)


def script_of(ch: str) -> Script | None:
    """The script whose blocks hold `ch`, if it is one drawn by a font of its own."""
    code = ord(ch)
    if code < 0x0530:  # Latin, Greek and Cyrillic: the caption font's
        return None
    return next((s for s in SCRIPTS for lo, hi in s.blocks if lo <= code <= hi), None)


@lru_cache(maxsize=8192)
def font_for(ch: str, primary: Path = FONT) -> Path | None:
    """The font that draws `ch`: its script's font, else `primary`, else any other that has it; None if none does."""
    script = script_of(ch)
    if script and (path := script.path()) and has_glyph(path, ch):
        return path
    if has_glyph(primary, ch):
        return primary
    for other in SCRIPTS:
        if other is not script and (path := other.path()) and has_glyph(path, ch):
            return path
    return _system_font(ch)


def runs(text: str, primary: Path = FONT) -> list[tuple[str, Path]]:
    """`text` composed (NFC) and cut into runs that one font draws, leaving out what no font can draw."""
    out: list[tuple[str, Path]] = []
    pending = ""  # marks or joiners before any base character: they go with the next run
    for ch in unicodedata.normalize("NFC", text):
        if ch in BIDI_CONTROLS:
            continue
        if unicodedata.category(ch) in ATTACHED or 0xFE00 <= ord(ch) <= 0xFE0F:
            if out:
                out[-1] = (out[-1][0] + ch, out[-1][1])
            else:
                pending += ch
            continue
        font = font_for(ch, primary)
        if font is None:
            continue
        if out and out[-1][1] == font:
            out[-1] = (out[-1][0] + ch, font)
        else:
            out.append((pending + ch, font))
            pending = ""
    return out


def visible(text: str, primary: Path = FONT) -> str:
    """`text` composed, without the characters no font can draw."""
    return "".join(run for run, _ in runs(text, primary))


def missing(texts: list[str], primary: Path = FONT) -> list[str]:
    """The characters of `texts` that no font can draw, each once, in order."""
    return list(
        dict.fromkeys(
            ch
            for text in texts
            for ch in unicodedata.normalize("NFC", text)
            if not ch.isspace()
            and ch not in BIDI_CONTROLS
            and unicodedata.category(ch) not in ATTACHED
            and font_for(ch, primary) is None
        )
    )


def shapes_right_to_left() -> bool:
    """Whether Pillow has libraqm, which joins Arabic letters and lays right-to-left text out."""
    return bool(features.check("raqm"))


def drawable_scripts(primary: Path = FONT) -> tuple[list[str], list[str]]:
    """The scripts this machine can draw, and those it cannot, by name."""
    can: list[str] = ["Latin", "Greek", "Cyrillic"] if has_glyph(primary, "Ж") else []
    cannot: list[str] = []
    for script in SCRIPTS:
        (
            can
            if all(font_for(ch, primary) for ch in script.sample if unicodedata.category(ch) not in ATTACHED)
            else cannot
        ).append(script.name)
    return can, cannot


def _package_file(package: str, file: str) -> Path | None:
    # find_spec locates the package without importing it: no start-up cost for a font never used.
    spec = find_spec(package)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (path := Path(folder) / file).is_file():
            return path
    return None


@lru_cache(maxsize=1024)
def _system_font(ch: str) -> Path | None:
    """A system font with a glyph for a letter, mark or digit (not a symbol or emoji), via fontconfig."""
    if unicodedata.category(ch)[0] not in "LMN":
        return None
    for path in _SYSTEM_FONTS_FOUND:  # a font found for one letter of a script usually has the rest
        if has_glyph(path, ch):
            return path
    if not shutil.which("fc-list"):
        return None
    try:
        listed = subprocess.run(
            ["fc-list", f":charset={ord(ch):x}", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # Bold faces first, to match the caption font; outline fonts only (Pillow cannot size bitmap fonts).
    files = sorted(
        {Path(line.split(":")[0].strip()) for line in listed.splitlines()},
        key=lambda p: ("bold" not in p.name.lower(), p.name),
    )
    for path in files:
        if path.suffix.lower() in (".ttf", ".otf", ".ttc"):
            try:
                if has_glyph(path, ch):
                    _SYSTEM_FONTS_FOUND.append(path)
                    return path
            except OSError:
                continue
    return None


def describe_fonts(primary: Path = FONT) -> str:
    """One line for `shorts doctor`: the scripts the cards and captions can draw here, and whether right-to-left
    text is shaped."""
    can, cannot = drawable_scripts(primary)
    line = f"scripts on cards and captions: {', '.join(can)}"
    if cannot:
        line += f"; no font for {', '.join(cannot)} (left out of the picture; the SRT file keeps them)"
    if shapes_right_to_left():
        line += f"; right-to-left text shaped by libraqm {features.version('raqm')}"
    else:
        line += (
            "; Arabic and Hebrew NOT shaped (Pillow has no libraqm: install the system's libfribidi, e.g. "
            "`apt-get install libfribidi0`)"
        )
    return line

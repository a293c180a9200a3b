"""A topic pictogram for a title card: the emoji its words call for, drawn with Noto Emoji (monochrome, OFL)."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from PIL import ImageFont

DEFAULT = "\N{ELECTRIC LIGHT BULB}"  # a fact or an idea: fits any explainer when no word matches
# Broad words give way to a specific one in the same text: "the history of coffee" shows coffee.
BROAD = frozenset({"history", "ancient", "time", "science", "mystery", "question", "secret", "number", "animal",
                   "wildlife", "food", "travel", "sport", "health", "art", "music", "money", "space"})
EMOJI_WEIGHT = 650  # of the font's 300-700 axis: bold enough to hold up at the tests' 144 px width

# word or two-word name (singular, lower case) -> emoji. Words that styles and the offline script's templates use ("light", "colour",
# "shape", "world", "story", "eye") are left out on purpose, or every card would show the same one.
PICTOGRAMS: dict[str, str] = {
    # animals
    "octopus": "🐙", "squid": "🦑", "fish": "🐟", "shark": "🦈", "whale": "🐋", "dolphin": "🐬", "jellyfish": "🪼",
    "crab": "🦀", "lobster": "🦞", "shrimp": "🦐", "turtle": "🐢", "coral": "🪸", "reef": "🪸", "shell": "🐚",
    "bee": "🐝", "honeybee": "🐝", "bumblebee": "🐝", "hive": "🐝", "honey": "🍯", "honeycomb": "🍯", "ant": "🐜", "butterfly": "🦋", "spider": "🕷", "beetle": "🪲", "insect": "🐞",
    "bird": "🐦", "owl": "🦉", "eagle": "🦅", "penguin": "🐧", "parrot": "🦜", "chicken": "🐔", "egg": "🥚",
    "cat": "🐈", "dog": "🐕", "horse": "🐎", "cow": "🐄", "pig": "🐖", "sheep": "🐑", "rabbit": "🐇", "mouse": "🐁",
    "lion": "🦁", "tiger": "🐅", "bear": "🐻", "wolf": "🐺", "fox": "🦊", "elephant": "🐘", "giraffe": "🦒",
    "monkey": "🐒", "gorilla": "🦍", "bat": "🦇", "snake": "🐍", "frog": "🐸", "lizard": "🦎", "chameleon": "🦎",
    "camouflage": "🦎", "dinosaur": "🦖", "fossil": "🦴", "animal": "🐾", "pet": "🐾", "wildlife": "🐾",
    # nature, earth and space
    "ocean": "🌊", "sea": "🌊", "wave": "🌊", "water": "💧", "river": "🏞", "lake": "🏞", "rain": "🌧",
    "cloud": "☁", "storm": "⛈", "lightning": "⚡", "snow": "❄", "ice": "🧊", "glacier": "🧊", "weather": "🌦",
    "climate": "🌡", "temperature": "🌡", "heat": "🌡", "fire": "🔥", "volcano": "🌋", "mountain": "⛰",
    "rock": "🪨", "stone": "🪨", "desert": "🌵", "island": "🏝", "beach": "🏖", "forest": "🌲", "tree": "🌳",
    "plant": "🌱", "seed": "🌱", "flower": "🌸", "leaf": "🍃", "mushroom": "🍄", "fungus": "🍄", "garden": "🌻",
    "sun": "☀", "solar": "☀", "moon": "🌙", "star": "⭐", "planet": "🪐", "saturn": "🪐", "galaxy": "🌌", "black hole": "🌌", "hole": "🕳", "comet": "☄", "solar system": "🪐",
    "universe": "🌌", "space": "🚀", "rocket": "🚀", "astronaut": "🚀", "alien": "👽", "earth": "🌍",
    "map": "🗺", "telescope": "🔭",
    # science, body and technology
    "science": "🔬", "microscope": "🔬", "cell": "🦠", "bacteria": "🦠", "virus": "🦠", "germ": "🦠",
    "dna": "🧬", "gene": "🧬", "atom": "⚛", "physics": "⚛", "quantum": "⚛", "chemistry": "🧪", "experiment": "🧪",
    "magnet": "🧲", "energy": "⚡", "electricity": "⚡", "battery": "🔋", "brain": "🧠", "mind": "🧠",
    "memory": "🧠", "heart": "🫀", "blood": "🩸", "bone": "🦴", "skeleton": "🦴", "tooth": "🦷",
    "ear": "👂", "sleep": "😴", "dream": "💭", "health": "🩺", "doctor": "🩺", "medicine": "💊", "baby": "👶",
    "robot": "🤖", "ai": "🤖", "computer": "💻", "code": "💻", "software": "💻", "internet": "🌐", "phone": "📱",
    "camera": "📷", "photo": "📷", "video": "🎬", "game": "🎮",
    # people, culture and history
    "history": "📜", "ancient": "🏛", "empire": "🏛", "rome": "🏛", "greek": "🏛", "pyramid": "🔺", "egypt": "🐫",
    "castle": "🏰", "king": "👑", "queen": "👑", "war": "⚔", "battle": "⚔", "sword": "⚔", "pirate": "☠",
    "book": "📚", "alphabet": "🔤", "language": "🗣", "music": "🎵", "song": "🎵", "guitar": "🎸",
    "piano": "🎹", "art": "🎨", "painting": "🎨", "movie": "🎬", "film": "🎬", "theatre": "🎭", "mask": "🎭",
    "ghost": "👻", "mystery": "🔍", "secret": "🤫", "detective": "🔍", "question": "❓", "math": "➗",
    "number": "🔢", "time": "⏳", "clock": "⏰", "calendar": "📅", "love": "❤", "friend": "🤝", "family": "👪",
    # money, food, travel and sport
    "money": "💰", "coin": "🪙", "gold": "🪙", "bank": "🏦", "economy": "📈", "stock": "📈", "market": "📈",
    "food": "🍽", "cooking": "🍳", "coffee": "☕", "tea": "🍵", "pizza": "🍕", "bread": "🍞", "cheese": "🧀",
    "chocolate": "🍫", "sugar": "🍬", "apple": "🍎", "fruit": "🍓", "banana": "🍌", "wine": "🍷",
    "car": "🚗", "train": "🚆", "plane": "✈", "flight": "✈", "airport": "✈", "ship": "🚢", "boat": "⛵",
    "bicycle": "🚲", "bike": "🚲", "travel": "🧳", "city": "🏙", "house": "🏠", "home": "🏠", "building": "🏢",
    "sport": "🏅", "football": "⚽", "soccer": "⚽", "basketball": "🏀", "tennis": "🎾", "olympic": "🏅",
    "run": "🏃", "running": "🏃", "swim": "🏊", "oil": "🛢",
}


def _singular(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("ses", "s"), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2 and word not in PICTOGRAMS:
            candidate = word[: -len(suffix)] + replacement
            if candidate in PICTOGRAMS:
                return candidate
    return word


def pick_pictogram(*texts: str) -> str:
    """The emoji for the first word the table knows (a specific one before a broad one), in the first of `texts`
    that has one; else a bulb.

    Pass the picture's description before the narration: what is seen says more than what is said, and a
    description names its subject first.
    """
    for text in texts:
        words = [_singular(word) for word in re.findall(r"[a-z]+", text.lower())]
        pairs = [f"{a} {b}" for a, b in zip(words, words[1:])]  # two-word names ("black hole") before their words
        known = [pair if pair in PICTOGRAMS else word for word, pair in zip(words, [*pairs, ""])
                 if word in PICTOGRAMS or pair in PICTOGRAMS]
        if known:
            return PICTOGRAMS[next((word for word in known if word not in BROAD), known[0])]
    return DEFAULT


@lru_cache(maxsize=8)
def emoji_font(size: int) -> ImageFont.FreeTypeFont:
    """Noto Emoji at `size` pixels, in a heavier weight than its default."""
    font = ImageFont.truetype(str(files("manimgx_fonts") / "NotoEmoji[wght].ttf"), size)
    font.set_variation_by_axes([EMOJI_WEIGHT])
    return font

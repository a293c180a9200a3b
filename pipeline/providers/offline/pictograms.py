"""A topic pictogram for a title card: the emoji its words call for, drawn with Noto Emoji (monochrome, OFL)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from importlib.resources import files

from PIL import ImageFont

# When no word matches: signs of an idea, a discovery or a way in, which fit any explainer. The picture's description
# chooses one, so Shorts on unknown topics, and their scenes, do not all show the same.
FALLBACKS = ("\N{ELECTRIC LIGHT BULB}", "\N{SPARKLES}", "\N{COMPASS}", "\N{OPEN BOOK}", "\N{DIRECT HIT}",
             "\N{OLD KEY}")
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
    # more of what explainers are about
    "sky": "🌤", "rainbow": "🌈", "wind": "💨", "tornado": "🌪", "hurricane": "🌀", "tsunami": "🌊",
    "iceland": "🏔", "greenland": "🧊", "antarctica": "🐧", "arctic": "🧊", "aurora": "🌌", "northern light": "🌌",
    "eclipse": "🌑", "sunset": "🌅", "sunrise": "🌅", "night": "🌙", "autumn": "🍂", "winter": "❄", "salt": "🧂",
    "sound": "🔊", "noise": "🔊", "echo": "🔊", "gravity": "🍎", "canyon": "🏜", "cave": "🪨", "sand": "🏜",
    "deer": "🦌", "zebra": "🦓", "kangaroo": "🦘", "koala": "🐨", "panda": "🐼", "sloth": "🦥", "otter": "🦦",
    "hedgehog": "🦔", "squirrel": "🐿", "duck": "🦆", "swan": "🦢", "flamingo": "🦩", "peacock": "🦚",
    "mosquito": "🦟", "housefly": "🪰", "worm": "🪱", "snail": "🐌", "scorpion": "🦂", "crocodile": "🐊", "hippo": "🦛",
    "rhino": "🦏", "camel": "🐫", "llama": "🦙", "goat": "🐐", "seal": "🦭", "mammoth": "🦣",
    "nose": "👃", "hand": "✋", "foot": "🦶", "lung": "🫁", "muscle": "💪", "yawn": "🥱", "laugh": "😂",
    "smile": "😊", "satellite": "🛰", "television": "📺", "radio": "📻", "engine": "⚙", "machine": "⚙",
    "invention": "💡", "wifi": "📶", "password": "🔒", "email": "📧", "bitcoin": "🪙", "crypto": "🪙",
    "tower": "🗼", "eiffel": "🗼", "bridge": "🌉", "statue": "🗽", "japan": "🗾", "church": "⛪", "temple": "🛕",
    "mosque": "🕌", "ufo": "🛸", "rice": "🍚", "noodle": "🍜", "pasta": "🍝", "sushi": "🍣", "ice cream": "🍦",
    "cake": "🍰", "cookie": "🍪", "milk": "🥛", "beer": "🍺", "potato": "🥔", "tomato": "🍅", "corn": "🌽",
    "chili": "🌶", "spice": "🌶", "candy": "🍬", "popcorn": "🍿", "burger": "🍔", "luck": "🍀", "dice": "🎲",
    "chess": "♟", "puzzle": "🧩", "toy": "🧸", "lego": "🧱", "brick": "🧱", "paper": "📄", "pencil": "✏",
    "school": "🏫", "university": "🎓", "student": "🎓", "law": "⚖", "vote": "🗳", "election": "🗳",
    "diamond": "💎", "crystal": "💎", "magic": "🪄", "wizard": "🧙", "dragon": "🐉", "unicorn": "🦄",
    "vampire": "🧛", "zombie": "🧟", "halloween": "🎃", "christmas": "🎄", "birthday": "🎂", "party": "🎉",
    "gift": "🎁", "firework": "🎆", "soap": "🧼", "bubble": "🫧", "mirror": "🪞", "door": "🚪", "key": "🔑",
    "bell": "🔔", "trumpet": "🎺", "drum": "🥁", "violin": "🎻", "dance": "💃", "mars": "🔴", "magnetism": "🧲",
    "vase": "🏺", "pottery": "🏺", "archaeology": "🏺", "purr": "🐈", "kitten": "🐈", "puppy": "🐕",
    "airplane": "✈", "aeroplane": "✈", "aircraft": "✈", "tax": "🧾", "finance": "📈", "cricket": "🏏",
    "philosophy": "🤔", "philosopher": "🤔",
}
# The same subjects in French, Spanish, German and Portuguese (written without accents: text is matched without
# them), each pointing at its English word.
TRANSLATIONS: dict[str, str] = {
    "octopus": "pieuvre poulpe pulpo krake tintenfisch polvo", "squid": "calmar calamar kalmar",
    "fish": "poisson pez pescado fisch peixe", "shark": "requin tiburon hai tubarao",
    "whale": "baleine ballena wal baleia", "dolphin": "dauphin delfin golfinho", "turtle": "tortue tortuga "
    "schildkrote tartaruga", "bee": "abeille abeja biene abelha", "ant": "fourmi hormiga ameise formiga",
    "butterfly": "papillon mariposa schmetterling borboleta", "spider": "araignee arana spinne aranha",
    "bird": "oiseau pajaro vogel passaro", "penguin": "manchot pingouin pinguino pinguin pinguim",
    "cat": "gato katze", "dog": "chien perro hund cao cachorro", "horse": "cheval caballo pferd cavalo",
    "lion": "leon lowe leao", "bear": "oso urso", "wolf": "loup lobo", "fox": "renard zorro fuchs raposa",
    "elephant": "elefante elefant", "snake": "serpent serpiente schlange cobra", "frog": "grenouille rana frosch sapo",
    "dinosaur": "dinosaure dinosaurio dinosaurier dinossauro", "chameleon": "cameleon camaleon chamaleon camaleao",
    "sky": "ciel cielo himmel ceu", "sun": "soleil sonne", "moon": "lune luna mond lua",
    "star": "etoile estrella estrela", "planet": "planete planeta", "earth": "terre tierra erde terra",
    "space": "espace espacio weltraum espaco", "rocket": "fusee cohete rakete foguete",
    "ocean": "ocean oceano ozean", "sea": "mer mar meer", "volcano": "volcan vulkan vulcao",
    "mountain": "montagne montana berg montanha", "forest": "foret bosque selva wald floresta",
    "tree": "arbre arbol baum arvore", "flower": "fleur flor blume", "rain": "pluie lluvia regen chuva",
    "snow": "neige nieve schnee neve", "ice": "glace hielo eis gelo", "fire": "feu fuego feuer fogo",
    "water": "eau agua wasser", "river": "riviere fleuve rio fluss", "island": "ile isla insel ilha",
    "desert": "desierto wuste deserto", "storm": "orage tempete tormenta sturm gewitter tempestade",
    "lightning": "eclair foudre rayo blitz raio", "climate": "climat clima klima", "weather": "meteo wetter",
    "iceland": "islande islandia", "rainbow": "arcoiris regenbogen",
    "brain": "cerveau cerebro gehirn", "heart": "coeur corazon herz coracao", "sleep": "sommeil schlaf sono",
    "dream": "reve sueno traum sonho", "history": "histoire historia geschichte", "money": "argent dinero geld dinheiro",
    "coffee": "cafe kaffee", "tea": "tee cha", "chocolate": "chocolat schokolade", "bread": "brot pao",
    "cheese": "fromage queso kase queijo", "wine": "vin vino wein vinho", "car": "voiture coche auto carro",
    "train": "tren zug trem", "plane": "avion flugzeug aviao", "ship": "bateau barco schiff navio",
    "computer": "ordinateur ordenador computadora computador", "music": "musique musica musik",
    "book": "livre libro buch livro", "castle": "chateau castillo burg schloss castelo", "king": "roi rey konig rei",
    "war": "guerre guerra krieg", "pyramid": "pyramide piramide", "football": "futbol fussball futebol",
    "cell": "cellule celula zelle", "atom": "atome atomo", "dna": "adn", "robot": "roboter",
}


# Any word the table knows -> its English key; an English word wins over a foreign one spelt the same.
KNOWN: dict[str, str] = {word: key for key, words in TRANSLATIONS.items() for word in words.split()} | {
    key: key for key in PICTOGRAMS}
# Plural endings: English ones ("volcanoes", "bees"), then those of French, Spanish, German and Portuguese ("oiseaux",
# "vulcões" spelt vulcoes, "Vulkane", "Kraken", "Bienen"), which only lead to a foreign word: Spanish "antes" is not
# ants, French "celle" not a cell. Tried only when the word itself is unknown.
ENGLISH_PLURALS = (("ies", "y"), ("ses", "s"), ("es", ""), ("s", ""))
OTHER_PLURALS = (("oes", "ao"), ("aes", "ao"), ("es", ""), ("s", ""), ("x", ""), ("en", ""), ("n", ""), ("e", ""))
FOREIGN = frozenset(KNOWN) - frozenset(PICTOGRAMS)
SPELLED_OUT = str.maketrans({"ß": "ss", "œ": "oe", "æ": "ae"})


def _singular(word: str) -> str:
    if word in KNOWN:
        return word
    for suffixes, table in ((ENGLISH_PLURALS, PICTOGRAMS), (OTHER_PLURALS, FOREIGN)):
        for suffix, replacement in suffixes:
            candidate = word[: -len(suffix)] + replacement
            # English adds -es only after a hissing sound or an o ("boxes", "volcanoes"; not "antes")
            english_es = table is not PICTOGRAMS or suffix != "es" or candidate.endswith(("s", "x", "z", "ch", "sh", "o"))
            if word.endswith(suffix) and len(word) > len(suffix) + 2 and candidate in table and english_es:
                return candidate
    return word


def _plain_words(text: str) -> list[str]:
    """The text's words in lower case without accents ("Vulcões" is "vulcoes"), as the table spells them."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(SPELLED_OUT))
    return re.findall(r"[a-z]+", "".join(c for c in decomposed if not unicodedata.combining(c)))


def fallback(text: str) -> str:
    """The pictogram for a subject no word of the table names: one of FALLBACKS, the same for the same subject."""
    return FALLBACKS[int.from_bytes(hashlib.sha256(" ".join(_plain_words(text)).encode()).digest()[:4], "big")
                     % len(FALLBACKS)]


def pick_pictogram(*texts: str) -> str:
    """The emoji for the first word the table knows (a specific one before a broad one), in English, French,
    Spanish, German or Portuguese, in the first of `texts` that has one; else a fallback chosen by the first text.

    Pass the picture's description before the narration: what is seen says more than what is said, and a
    description names its subject first.
    """
    for text in texts:
        words = [_singular(word) for word in _plain_words(text)]
        pairs = [f"{a} {b}" for a, b in zip(words, words[1:])]  # two-word names ("black hole") before their words
        known = [KNOWN[pair] if pair in KNOWN else KNOWN[word] for word, pair in zip(words, [*pairs, ""])
                 if word in KNOWN or pair in KNOWN]
        if known:
            return PICTOGRAMS[next((key for key in known if key not in BROAD), known[0])]
    return fallback(texts[0] if texts else "")


@lru_cache(maxsize=8)
def emoji_font(size: int) -> ImageFont.FreeTypeFont:
    """Noto Emoji at `size` pixels, in a heavier weight than its default."""
    font = ImageFont.truetype(str(files("manimgx_fonts") / "NotoEmoji[wght].ttf"), size)
    font.set_variation_by_axes([EMOJI_WEIGHT])
    return font

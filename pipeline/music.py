"""The music bed: which track plays under the voice, where it comes from, and what its licence asks."""

from __future__ import annotations

import hashlib
import re
from importlib.metadata import PackageNotFoundError, metadata
from pathlib import Path
from typing import TypeGuard, get_args

from pipeline.errors import ConfigError
from pipeline.models import Model, Mood

MOODS: tuple[str, ...] = get_args(Mood)
CHOICES = ("auto", "none", *MOODS)
LIBRARY = "immich-memories-music"
# What LICENSE-MUSIC in the library's wheel says of every track; pyproject.toml keeps the library to 0.1.x, so this
# stays true. It asks for no credit, so the description names no track.
LIBRARY_TERMS = "generated with ACE-Step 1.5, no attribution required"
AUDIO_SUFFIXES = frozenset({".mp3", ".wav", ".m4a", ".aac", ".ogg", ".opus", ".flac"})

# Words that set a topic's mood, tried in this order; a topic that matches none is calm. A word matches itself and
# its plural; one ending in * matches every word it begins. English, with a few French, Spanish and German words.
_MOOD_WORDS: dict[Mood, tuple[str, ...]] = {
    "energetic": (
        "race",
        "racing",
        "sport*",
        "football",
        "soccer",
        "basketball",
        "olympi*",
        "fast",
        "speed*",
        "rocket*",
        "launch*",
        "explo*",
        "volcan*",
        "storm*",
        "hurricane",
        "tornado",
        "lightning",
        "earthquake",
        "tsunami",
        "shark",
        "predator",
        "hunt",
        "hunting",
        "hunter",
        "battle",
        "fight*",
        "extreme*",
        "record",
        "engine",
        "supercar",
        "jet",
        "cheetah",
        "workout",
        "vitesse",
        "fusée",
        "tempête",
        "rápido",
        "schnell",
    ),
    "nostalgic": (
        "histor*",
        "ancient",
        "medieval",
        "empire",
        "roman",
        "romans",
        "egypt*",
        "pharaoh",
        "viking",
        "century",
        "centuries",
        "retro",
        "vintage",
        "childhood",
        "memor*",
        "forgotten",
        "lost",
        "ruin",
        "old",
        "origin*",
        "invent*",
        "war",
        "dinosaur",
        "fossil",
        "extinct*",
        "ancien*",
        "geschichte",
    ),
    "tender": (
        "love",
        "baby",
        "babies",
        "mother*",
        "father*",
        "parent*",
        "family",
        "families",
        "friend*",
        "kindness",
        "caring",
        "heart*",
        "wedding",
        "grief",
        "grandp*",
        "grandm*",
        "elderly",
        "hug",
        "lonel*",
        "comfort*",
        "amour",
        "bébé",
        "amor",
        "liebe",
    ),
    "happy": (
        "fun",
        "funny",
        "joke",
        "laugh*",
        "party",
        "parties",
        "celebrat*",
        "festival",
        "holiday",
        "birthday",
        "dog",
        "puppy",
        "puppies",
        "cat",
        "kitten",
        "food",
        "recipe",
        "cake",
        "chocolate",
        "ice cream",
        "summer",
        "beach",
        "beaches",
        "game",
        "toy",
        "happ*",
        "smile",
        "rainbow",
        "dance",
        "dancing",
        "joie",
        "feliz",
    ),
}


class MusicTrack(Model):
    """The track under the voice, where it came from and its licence (recorded in the manifest)."""

    path: Path
    mood: Mood | None = None  # the library's mood folder it was picked from (or your folder's)
    package: str | None = None  # the pip package it ships in, with its version
    version: str | None = None
    licence: str | None = None  # None for your own file: its licence is yours to know


def mood_for(topic: str) -> Mood:
    """A topic's mood by keyword: the same topic always gets the same mood."""
    words = re.findall(r"\w+", topic.casefold())
    text = f" {' '.join(words)} "
    for mood, keys in _MOOD_WORDS.items():
        for key in keys:
            if key.endswith("*") and any(w.startswith(key[:-1]) for w in words):
                return mood
            if any(f" {key}{end} " in text for end in ("", "s", "es")):
                return mood
    return "calm"


def check_music(choice: str) -> None:
    """Refuse, in one sentence, a music choice that is no mood and names no file or folder with music in it."""
    _tracks_or_file(choice, None)


def choose_music(choice: str, mood: Mood | None, topic: str) -> MusicTrack | None:
    """The track for a Short, or None for `none`.

    `auto` takes the library's mood the script names (else the topic's), a mood name that mood; a file is that file;
    a folder gives one of its files, from its subfolder named for the mood when it has one. Among several, the mood
    and topic pick one, so the same Short always gets the same track.
    """
    key = choice.strip().casefold()
    if key == "none":
        return None
    mood = key if _is_mood(key) else mood or mood_for(topic)
    tracks, from_mood = _tracks_or_file(choice, mood)
    digest = hashlib.sha256(f"{mood}|{topic}".encode()).digest()
    path = tracks[int.from_bytes(digest[:4], "big") % len(tracks)]
    if key not in CHOICES:
        return MusicTrack(path=path, mood=mood if from_mood else None)
    version, licence = _library_terms()
    return MusicTrack(path=path, mood=mood, package=LIBRARY, version=version, licence=licence)


def _is_mood(name: str) -> TypeGuard[Mood]:
    return name in MOODS


def _tracks_or_file(choice: str, mood: str | None) -> tuple[list[Path], bool]:
    """The tracks to pick from, and whether they are the mood's own."""
    key = choice.strip().casefold()
    if key == "none":
        return [], False
    if key in CHOICES:
        folder = _library() / (key if key in MOODS else mood or "calm")
        return _audio_files(folder), True
    path = Path(choice.strip()).expanduser()
    if path.is_file():
        return [path], False
    if not path.is_dir():
        raise ConfigError(
            f"Music {choice!r} is no mood ({', '.join(CHOICES)}) and no file or folder; name one that exists."
        )
    if mood and (own := _audio_files(path / mood)):
        return own, True
    if found := _audio_files(path):
        return found, False
    raise ConfigError(
        f"The music folder {path} has no audio files ({', '.join(sorted(AUDIO_SUFFIXES))}); add some "
        "or use --music auto."
    )


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def _library() -> Path:
    """The library's folder of tracks (one folder per mood)."""
    try:
        import immich_memories_music
    except ImportError as exc:  # a dependency, so only a broken install lacks it
        raise ConfigError(
            f"The music library ({LIBRARY}) is not installed; run `pip install -e .` again, or use "
            "--music none or a file of your own."
        ) from exc
    return immich_memories_music.tracks_dir()


def _library_terms() -> tuple[str | None, str]:
    """The library's installed version and its licence, as its metadata and LICENSE-MUSIC give them."""
    try:
        about = metadata(LIBRARY)
    except PackageNotFoundError:
        return None, f"MIT, {LIBRARY_TERMS}"
    # PackageMetadata's stub declares get() from Python 3.12 on; on 3.11 it is an email Message, which has it.
    licence = about.get("License-Expression")  # type: ignore[attr-defined]
    return about["Version"], f"{licence or 'MIT'}, {LIBRARY_TERMS}"

"""The narrow interface each step's providers implement."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, Self

from pydantic import BaseModel

from pipeline.errors import ShortsError
from pipeline.models import (
    Cost,
    Footage,
    Model,
    Scene,
    ScenePlan,
    Script,
    ShortRequest,
    Speech,
    VideoFormat,
    WordTiming,
)
from pipeline.settings import Settings, key_variable
from pipeline.source.models import Source
from pipeline.state.home import Home
from pipeline.state.ledger import Ledger, open_ledger
from pipeline.state.store import AssetStore


@dataclass(frozen=True)
class Shared:
    """What a provider may use beyond its own settings: the paths under SHORTS_HOME, and the ledger (opened when a
    paid provider is built) that every paid provider records in and counts its caps from."""

    paths: Home
    ledger: Callable[[], Ledger]

    @classmethod
    def of(cls, settings: Settings) -> Shared:
        """What these settings share with every provider."""
        return cls(settings.paths, partial(open_ledger, settings))


class Provider(Protocol):
    """What every provider declares about itself. Each provider class inherits its step's interface below, and so
    the defaults of what it does not override.

    Which key configures it and what it costs are in the registry (`pipeline.providers.REGISTRY`), so a provider
    can be chosen and priced without importing its module.
    """

    name: ClassVar[str]
    model: str
    section: ClassVar[type[BaseModel] | None] = None  # the settings `from_settings` is given (None: none)

    @classmethod
    def from_settings(cls, settings: Any, shared: Shared) -> Self:
        """The provider configured from its `section` of the settings; one that needs none is built with no
        arguments."""
        return cls()

    @classmethod
    def configured(cls, settings: Settings) -> Self:
        """The provider built from the whole settings: its section, and what every provider shares."""
        return cls.from_settings(settings.section(cls.section) if cls.section else None, Shared.of(settings))

    def check(self, request: ShortRequest) -> None:
        """Raise ConfigError when this provider cannot make `request` (a model its vendor no longer serves, say),
        with free calls only: run before anything is paid for."""
        return None  # a default, not an abstract method: most providers have nothing to check


class ScriptWriter(Provider, Protocol):
    learns: ClassVar[bool] = False  # brainstorm takes `learnings=` (the channel's stats note) into its prompt

    def write(self, request: ShortRequest, plan: ScenePlan | None = None, source: Source | None = None) -> Script:
        """Write the whole script for a request, its scenes timed by `plan` (else the request's at reading pace), from
        the article `source` found for the topic where it has one (a writer that cannot read one ignores it)."""
        ...

    def brainstorm(self, niche: str, count: int, avoid: Collection[str] = ()) -> list[str]:
        """Suggest `count` new topics for a channel's niche, none of them in `avoid`."""
        ...


@dataclass(frozen=True)
class Made:
    """What making a first frame or a clip did: the vendor's task id (None when there was no remote task) and what
    this call cost (zero when free, or when an earlier run had paid for it)."""

    task_id: str | None = None
    cost: Cost = field(default_factory=Cost)


@dataclass(frozen=True, kw_only=True)
class Order:
    """What a maker is asked for one scene: exactly `fmt.size`, from `seed`."""

    scene: Scene
    fmt: VideoFormat
    seed: int


@dataclass(frozen=True, kw_only=True)
class FrameOrder(Order):
    """A scene's first frame to draw, in `style`. `reference` is another frame to look like (a maker that cannot match
    a look ignores it); `source` is the picture picked for the scene (your own media, the article's free pictures),
    which a maker that draws from a prompt ignores."""

    style: str
    reference: Path | None = None
    source: Path | None = None


@dataclass(frozen=True, kw_only=True)
class ClipOrder(Order):
    """A scene's clip to make from its first `frame`. A maker that fits existing media
    (`pipeline.providers.picks_footage`) is given the scene's `footage` and the `store` it keeps downloads in; the
    others ignore both."""

    frame: Path
    footage: Footage | None = None
    store: AssetStore | None = None


class ImageMaker(Provider, Protocol):
    draws_narration: ClassVar[bool] = False  # the frame shows the narration's words, so they are part of its key

    def make_image(self, order: FrameOrder, dest: Path) -> Made:
        """Write the ordered first frame to `dest` (PNG), and say what it cost."""
        ...


class ClipMaker(Provider, Protocol):
    def make_clip(self, order: ClipOrder, dest: Path) -> Made:
        """Write the ordered clip to `dest`, and say what it cost."""
        ...

    def clip_suffix(self, footage: Footage | None = None) -> str:
        """What make_clip writes: ".mp4" for a video, ".png" for a moving still (pipeline.media.motion)."""
        return ".mp4"


class FootagePicker(Provider, Protocol):
    """A provider that uses existing media (stock clips, your own files): it picks a file per scene for the whole
    script at once, then a clip maker fits each pick (`ClipOrder.footage`), an image maker crops it
    (`FrameOrder.source`). Its registry entry says so (`ProviderSpec.footage`)."""

    def plan(self, script: Script, fmt: VideoFormat, store: AssetStore, fresh: bool = False) -> list[Footage | None]:
        """A file per scene, in scene order, never the same stock clip twice; None where nothing fits."""
        ...


class VoiceInfo(Model):
    """One voice: what `--voice-name` takes, and the languages it speaks ("any" for a multilingual voice)."""

    provider: str
    name: str
    language: str
    note: str = ""


class Finding(Model):
    """One line `shorts doctor` prints about a vendor, and whether it is a problem (doctor then exits 1)."""

    text: str
    problem: bool = False


def keyed_findings(
    settings: Settings, key: str, label: str, lines: Callable[[], list[str]], unset: str | None = ""
) -> list[Finding]:
    """Doctor's lines for a vendor reached with a key (`key`: its setting's name): `lines()` when the key is set,
    else one line saying so, ending with `unset` (None: no line); a ShortsError from `lines` is the one problem."""
    variable = key_variable(key)
    if not settings.has_key(variable):
        return [] if unset is None else [Finding(text=f"{label}: no {variable} set{unset}")]
    try:
        return [Finding(text=line) for line in lines()]
    except ShortsError as exc:
        return [Finding(text=f"{label}: {exc}", problem=True)]


@dataclass(frozen=True)
class Line:
    """What a narrator is asked to say: a scene's narration as spoken, in a voice (None: the narrator's own) and a
    language, to fit `max_seconds` where the voice can. `previous_text` and `next_text` are the neighbouring scenes'
    narration, as spoken: a voice that `stitches` lets them carry its prosody across the cut, the others ignore them.
    """

    text: str
    voice: str | None
    language: str
    max_seconds: float
    previous_text: str = ""
    next_text: str = ""


class Narrator(Provider, Protocol):
    voice: str | None = None  # the voice it speaks with when the request names none
    word_timer: WordTimer | None = None  # times the words of a voice that gives no timings of its own
    # Speaks with its neighbours' text (request stitching), so that text is part of the asset store's key.
    stitches: ClassVar[bool] = False
    # The Short being narrated (a hash of its narration), set by `narrate`: a voice billed by the character holds
    # the per-Short cap over everything spoken for it, by every thread and run.
    short: str = ""

    @property
    def variant(self) -> dict[str, object] | None:
        """Settings beyond the request that change the audio, for the asset store's key."""
        return None

    def speak(self, line: Line, dest: Path) -> Speech | None:
        """Write speech for `line` to `dest` (16-bit PCM WAV) and say what it is; None when there is no voice here.

        A voice that knows when it speaks each word returns those timings in `Speech.words`.
        """
        ...

    @classmethod
    def voices(cls, settings: Settings) -> list[VoiceInfo] | None:
        """The voices `--voice-name` takes here, for `shorts voices`: from settings and free calls only, and without
        loading a speech engine. None when this provider does not list its voices; a ShortsError says why it cannot.
        """
        return None

    def hint(self, speech: Speech, language: str) -> str | None:
        """One line of advice for the run's log about how this voice spoke a Short (`speech` is a scene's), if any."""
        return None


class WordTimer(Protocol):
    """Times the words of spoken narration (e.g. from a transcript); a narrator may carry one as `word_timer`."""

    name: ClassVar[str]
    model: str

    @property
    def timing(self) -> Literal["transcript", "pauses"]:
        """How it times them, as the manifest records it (read-only, so a timer may declare its one kind)."""
        ...

    def time_words(self, text: str, audio: Path, language: str) -> list[WordTiming]:
        """When each word of `text` is spoken in `audio` (a WAV), keeping the words as `text` writes them."""
        ...

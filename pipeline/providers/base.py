"""The narrow interface each step's providers implement."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, Protocol, Self

from pipeline.models import Cost, Footage, Scene, ScenePlan, Script, ShortRequest, Speech, VideoFormat, WordTiming
from pipeline.settings import Settings
from pipeline.state.store import AssetStore


class Provider(Protocol):
    """What every provider declares about itself. Each provider class inherits its step's interface below, and so
    the defaults of what it does not override.

    Which key configures it and what it costs are in the registry (`pipeline.providers.REGISTRY`), so a provider
    can be chosen and priced without importing its module.
    """

    name: ClassVar[str]
    model: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The provider configured from settings; one that needs none is built with no arguments."""
        return cls()

    def check(self, request: ShortRequest) -> None:
        """Raise ConfigError when this provider cannot make `request` (a model its vendor no longer serves, say),
        with free calls only: run before anything is paid for."""


class ScriptWriter(Provider, Protocol):
    learns: ClassVar[bool] = False  # brainstorm takes `learnings=` (the channel's stats note) into its prompt

    def write(self, request: ShortRequest, plan: ScenePlan | None = None) -> Script:
        """Write the whole script for a request, its scenes timed by `plan` (else the request's at reading pace)."""
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


class ImageMaker(Provider, Protocol):
    draws_narration: ClassVar[bool] = False  # the frame shows the narration's words, so they are part of its key

    def make_image(
        self,
        scene: Scene,
        style: str,
        fmt: VideoFormat,
        seed: int,
        dest: Path,
        *,
        reference: Path | None = None,
        source: Path | None = None,
    ) -> Made:
        """Write the scene's first frame, exactly `fmt.size`, to `dest` (PNG), and say what it cost.

        `reference` is another frame to look like (a maker that cannot match a look ignores it); `source` is the
        picture picked for the scene (your own media, the article's free pictures), which a maker that draws from
        a prompt ignores.
        """
        ...


class ClipMaker(Provider, Protocol):
    def make_clip(
        self,
        scene: Scene,
        frame: Path,
        fmt: VideoFormat,
        seed: int,
        dest: Path,
        *,
        footage: Footage | None = None,
        store: AssetStore | None = None,
    ) -> Made:
        """Write the scene's clip (`fmt.size`) to `dest`, and say what it cost.

        A maker that fits existing media (`pipeline.providers.picks_footage`) is given the scene's `footage` and the
        `store` it keeps downloads in; the others ignore both.
        """
        ...

    def clip_suffix(self, footage: Footage | None = None) -> str:
        """What make_clip writes: ".mp4" for a video, ".png" for a moving still (pipeline.render.motion)."""
        return ".mp4"


class FootagePicker(Provider, Protocol):
    """A provider that uses existing media (stock clips, your own files): it picks a file per scene for the whole
    script at once, then a clip maker fits each pick (`make_clip(..., footage=, store=)`), an image maker crops it
    (`make_image(..., source=)`). Its registry entry says so (`ProviderSpec.footage`)."""

    def plan(self, script: Script, fmt: VideoFormat, store: AssetStore, fresh: bool = False) -> list[Footage | None]:
        """A file per scene, in scene order, never the same stock clip twice; None where nothing fits."""
        ...


class Narrator(Provider, Protocol):
    voice: str | None = None  # the voice it speaks with when the request names none
    word_timer: WordTimer | None = None  # times the words of a voice that gives no timings of its own
    # Settings beyond the request that change the audio, for the asset store's key.
    variant: dict[str, object] | None = None
    # Speaks with its neighbours' text (request stitching), so that text is part of the asset store's key.
    stitches: ClassVar[bool] = False
    # The Short being narrated (a hash of its narration), set by `narrate`: a voice billed by the character holds
    # the per-Short cap over everything spoken for it, by every thread and run.
    short: str = ""

    def speak(
        self,
        text: str,
        voice: str | None,
        language: str,
        max_seconds: float,
        dest: Path,
        *,
        previous_text: str = "",
        next_text: str = "",
    ) -> Speech | None:
        """Write speech for `text` to `dest` (16-bit PCM WAV) and say what it is; None when there is no voice here.

        A voice that knows when it speaks each word returns those timings in `Speech.words`. `previous_text` and
        `next_text` are the neighbouring scenes' narration, as spoken: a voice that `stitches` lets them carry its
        prosody across the cut, the others ignore them.
        """
        ...


class WordTimer(Protocol):
    """Times the words of spoken narration (e.g. from a transcript); a narrator may carry one as `word_timer`."""

    name: ClassVar[str]
    timing: ClassVar[Literal["transcript", "pauses"]]  # how it times them, as the manifest records it
    model: str

    def time_words(self, text: str, audio: Path, language: str) -> list[WordTiming]:
        """When each word of `text` is spoken in `audio` (a WAV), keeping the words as `text` writes them."""
        ...

"""Every value that crosses a step. They live here, in a package module, so Prefect cache keys and
the UI form stay the same whether a flow runs locally or from a deployment."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from pipeline.limits import TITLE_MAX_CHARS

# Provider names per step; "auto" means: the vendor whose key is set, else offline.
ScriptProviderName = Literal["auto", "openai", "ollama", "offline"]
# Your own media: "folder:PATH" takes the frames or clips from the files in a folder.
FolderSource = Annotated[str, StringConstraints(pattern=r"^folder:\S.*$")]
ImageProviderName = Literal["auto", "openai", "runway", "offline"] | FolderSource
VideoProviderName = Literal["auto", "runway", "runware", "pexels", "pixabay", "offline"] | FolderSource
VoiceProviderName = Literal["auto", "elevenlabs", "openai", "runway", "edge", "piper", "espeak", "offline"]
# The moods of the music library's folders; the script names one.
Mood = Literal["calm", "energetic", "happy", "nostalgic", "tender"]


def provider_names(annotation: object) -> list[str]:
    """The names a provider field accepts: its literals, and folder:PATH where your own media is allowed."""
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    return [
        name
        for arg in get_args(annotation)
        for name in (provider_names(arg) if get_origin(arg) is Literal else ["folder:PATH"])
    ]


STEPS = ("script", "image", "video", "voice")
MAX_TOPIC_CHARS = 200
MIN_SCENE_SECONDS = 2  # the shortest scene a request may ask for
MAX_SHORT_SECONDS = 180  # the longest Short YouTube takes
BREATH = 0.25  # seconds of pause after each scene's last word (SHORTS_SCENE_BREATH)


class Model(BaseModel):
    """Base for our models: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Prefect's result records are pickles: one made by an older version lacks the fields added since, which
        # then take their defaults (a field with no default was there from the start), and may hold fields renamed
        # since, which the model's "before" validator reads (so the pickle is validated again, as new input).
        values = state.get("__dict__", {})
        if values.keys() - type(self).model_fields.keys():
            fresh = type(self).model_validate(values)
            state = state | {"__dict__": fresh.__dict__, "__pydantic_fields_set__": fresh.model_fields_set}
        else:
            for name, field in type(self).model_fields.items():
                if name not in values and not field.is_required():
                    values[name] = field.get_default(call_default_factory=True, validated_data=values)
        super().__setstate__(state)


class Cost(Model):
    """What something cost, or may cost, in each unit a vendor bills in; each unit has its own caps.

    Zero by default; `a + b` and `sum(costs)` add unit by unit; `str()` says it for a person ("25 credits and $0.70").
    """

    # Named as the ledger names its units.
    credits: float = 0.0  # Runway credits
    usd: float = 0.0  # dollars (OpenAI images, Runware clips)
    characters: int = 0  # characters of speech, for a voice billed by them (ElevenLabs)

    @classmethod
    def of(cls, amount: float, unit: str) -> Cost:
        """`amount` in one unit (a ledger row's: credits, usd or characters)."""
        return cls(**{unit: round(amount) if unit == "characters" else amount})

    def __add__(self, other: Cost) -> Cost:
        # Rounded as the totals always were, so adding never leaves float dust in a manifest (0.1 + 0.2).
        return Cost(
            credits=round(self.credits + other.credits, 2),
            usd=round(self.usd + other.usd, 4),
            characters=self.characters + other.characters,
        )

    def __radd__(self, other: int) -> Cost:
        if other == 0:  # sum() starts from 0
            return self
        return NotImplemented

    def __bool__(self) -> bool:
        return bool(self.credits or self.usd or self.characters)

    def __str__(self) -> str:
        """Each unit billed, joined with "and": "25 credits", "$0.70", "5 credits and 900 characters"; "0 credits"
        for nothing."""
        parts = [f"{round(self.credits, 2):g} credits"] if self.credits or not (self.usd or self.characters) else []
        parts += [f"${self.usd:.2f}"] if self.usd else []
        parts += [f"{self.characters} characters"] if self.characters else []
        return " and ".join(parts)


def costs_from(data: Any, field: str = "cost", **old: str) -> Any:
    """`data` as an older version wrote it (a manifest, a pickle): its cost fields (`old`: field name -> unit) read
    into one Cost, `field`; anything else is returned as it is."""
    if not isinstance(data, dict) or not data.keys() & old.keys():
        return data
    data = dict(data)
    amounts = {unit: data.pop(name) for name, unit in old.items() if name in data}
    data.setdefault(field, Cost(**amounts))
    return data


class ShortRequest(Model):
    """What a person asks for: one Short about one topic."""

    topic: str = Field(description="What the Short is about.", json_schema_extra={"position": 0})
    seconds: int = Field(30, ge=5, le=180, description="Target length in seconds (5-180).")
    scenes: int | None = Field(None, ge=1, le=12, description="Number of scenes; empty means one per ~5 s.")
    language: str = Field(
        "en",
        min_length=2,
        max_length=16,
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description="Language of the narration, a BCP 47 tag such as en, fr or pt-BR.",
    )
    style: str = Field("bright, cinematic, high contrast", max_length=200, description="Visual style.")
    voice: str | None = Field(None, max_length=64, description="Voice name for the narration provider.")
    script_provider: ScriptProviderName = "auto"
    image_provider: ImageProviderName = "auto"
    video_provider: VideoProviderName = "auto"
    voice_provider: VoiceProviderName = "auto"
    upload: bool = Field(False, description="Upload to YouTube when done (else the outbox).")
    channel: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$",
        description="YouTube channel (token name) to upload to; default from settings.",
    )
    review: bool = Field(
        False,
        description="Pause after the storyboard (first frames and the estimate) until you "
        "approve buying the clips; Resume the run to answer.",
    )
    source: Literal["wikipedia", "none"] | None = Field(
        None,
        description="Where the facts come from: wikipedia (the best matching article, credited) or none; "
        "empty means SHORTS_SOURCE.",
    )
    music: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Music under the voice: auto (the "
        "script's mood), none, a mood (calm, energetic, happy, nostalgic, tender), or a file or "
        "folder of your own; empty means SHORTS_MUSIC.",
    )
    learnings: str = Field(
        "",
        max_length=2000,
        description="What the channel's stats taught (`shorts stats`), for "
        "the script writer's hook and length; daily runs fill it, empty means none.",
    )

    @field_validator("topic")
    @classmethod
    def _clean_topic(cls, value: str) -> str:
        value = "".join(" " if unicodedata.category(c).startswith("C") else c for c in value)
        value = " ".join(value.split())
        if not value:
            raise ValueError("the topic is empty; say what the Short is about")
        if len(value) > MAX_TOPIC_CHARS:
            raise ValueError(f"the topic is {len(value)} characters; keep it to {MAX_TOPIC_CHARS}")
        return value

    @model_validator(mode="after")
    def _scenes_fit(self) -> ShortRequest:
        # Under about 2 s a scene nobody can read a caption or see a shot, and a script cannot fill it with words.
        if self.seconds / self.scene_count < MIN_SCENE_SECONDS:
            raise ValueError(
                f"{self.scene_count} scenes in {self.seconds} s leave under {MIN_SCENE_SECONDS:g} s a "
                f"scene; use at most {self.seconds // MIN_SCENE_SECONDS} scenes or more seconds"
            )
        return self

    @property
    def scene_count(self) -> int:
        """Scenes to make: the explicit count, else about one per 5 seconds (3 to 8)."""
        return self.scenes or max(1, min(8, round(self.seconds / 5)))

    def provider(self, step: str) -> str:
        return getattr(self, f"{step}_provider")


class ScenePlan(Model):
    """How a script is timed before it is written: each scene's seconds (adding up to the request's), the pace of
    the voice that will say it, and the breath the render leaves after each scene's last word."""

    seconds: list[float] = Field(min_length=1)
    words_per_second: float = Field(gt=0)
    breath: float = Field(BREATH, ge=0)


class VideoFormat(Model):
    """Frame size and rate of every image, clip and the final video."""

    width: int = Field(720, ge=64, multiple_of=2)
    height: int = Field(1280, ge=64, multiple_of=2)
    fps: int = Field(24, ge=1, le=60)

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)


class Scene(Model):
    """One shot of the Short: what is said, what is seen first, and how it moves."""

    index: int = Field(ge=1)
    narration: str = Field(min_length=1)
    first_frame_prompt: str = Field(min_length=1)
    motion_prompt: str = Field(min_length=1)
    seconds: float = Field(gt=0, le=60)
    # Stock-footage search phrases, most specific first; scripts written before they existed have none.
    search_terms: list[str] = Field(default_factory=list)


class Script(Model):
    """The structured script: metadata for YouTube plus the scenes."""

    title: str = Field(min_length=1, max_length=TITLE_MAX_CHARS)
    description: str
    tags: list[str]
    hook: str
    scenes: list[Scene] = Field(min_length=1)
    mood: Mood | None = None  # for the music; scripts written before it have none, and the topic decides

    @property
    def seconds(self) -> float:
        return sum(scene.seconds for scene in self.scenes)


class ProviderChoice(Model):
    """Which provider a step uses, and why (printed once per run)."""

    step: str
    name: str
    reason: str


class FrameAsset(Model):
    """The first frame of a scene."""

    scene: int
    path: Path
    provider: str
    model: str
    seed: int
    prompt: str
    task_id: str | None = None
    cost: Cost = Field(default_factory=Cost)  # what drawing it cost (zero when taken from the store)
    take: int = 1  # redrawn with --redo-scene: each take has its own seed

    @model_validator(mode="before")
    @classmethod
    def _old_costs(cls, data: Any) -> Any:
        return costs_from(data, cost_credits="credits", cost_usd="usd")


class Footage(Model):
    """A file picked for a scene: a stock clip found by its search terms, or one of your own files."""

    scene: int
    source: str  # pexels, pixabay or folder
    kind: Literal["video", "image"] = "video"
    id: str  # the vendor's video id, or the file's name
    url: str | None = None  # what is downloaded (stock)
    path: Path | None = None  # the file itself (folder)
    width: int
    height: int
    seconds: float = 0.0  # 0 for an image
    query: str = ""  # the search terms or file-name words that matched the scene
    author: str | None = None
    author_url: str | None = None
    page: str | None = None  # the vendor's page for the clip, which its licence asks to link

    def credit(self) -> str | None:
        """The attribution line the source asks for, e.g. 'Video by Jane Doe on Pexels: https://...'."""
        if self.source == "folder" or not self.author:
            return None
        return f"Video by {self.author} on {self.source.capitalize()}" + (f": {self.page}" if self.page else "")


class ClipAsset(Model):
    """A scene's animated clip."""

    scene: int
    path: Path
    provider: str
    model: str
    seed: int
    seconds: float
    task_id: str | None = None
    cost: Cost = Field(default_factory=Cost)  # what making it cost (zero when taken from the store)
    footage: Footage | None = None  # the stock clip or own file it was fitted from

    @model_validator(mode="before")
    @classmethod
    def _old_costs(cls, data: Any) -> Any:
        return costs_from(data, cost_credits="credits", cost_usd="usd")


class WordTiming(Model):
    """When a word of the narration is spoken, in seconds from the start of its scene."""

    word: str
    start: float
    end: float


class Speech(Model):
    """What a voice made of a scene's narration, beside the WAV it wrote.

    `words` are the voice's own timings (seconds from the start of the WAV, one per word of the narration as
    written), or None when the voice gives none; `cost` is what the vendor billed (zero when free).
    """

    words: list[WordTiming] | None = None
    cost: Cost = Field(default_factory=Cost)
    voice: str | None = None  # the voice actually spoken with, when the provider chose it
    model: str | None = None  # the engine that spoke, when the provider chose among several (the offline voice)
    package: str | None = None  # the engine or voice package and its version, e.g. "piper-tts 1.8.0"
    license: str | None = None  # the voice's licence, for the manifest

    @model_validator(mode="before")
    @classmethod
    def _old_costs(cls, data: Any) -> Any:  # what the store kept beside a voice's audio before
        return costs_from(data, characters="characters", cost_credits="credits")


class Narration(Model):
    """A scene's voice track (or none) and the timing of its words."""

    scene: int
    path: Path | None
    seconds: float
    provider: str
    voice: str | None
    words: list[WordTiming]
    # voice: timed by the voice itself; transcript: by speech recognition; pauses: groups of words placed on the
    # pauses heard in the audio; audio: spread over the voiced span; reading-pace: no voice
    timing: Literal["voice", "transcript", "pauses", "audio", "reading-pace"]
    model: str | None = None
    cost: Cost = Field(default_factory=Cost)  # what its vendor billed: ElevenLabs in characters, Runway in credits
    package: str | None = None
    license: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _old_costs(cls, data: Any) -> Any:
        return costs_from(data, characters="characters", cost_credits="credits")


class RenderedShort(Model):
    """The finished video and its captions."""

    video: Path
    captions: Path
    seconds: float
    width: int
    height: int


class Published(Model):
    """Where the finished package went."""

    destination: Literal["outbox", "youtube"]
    location: str
    youtube_id: str | None = None
    youtube_url: str | None = None


class ShortResult(Model):
    """What a run made, as the CLI's --json prints it."""

    output_dir: Path
    video: Path
    captions: Path
    script: Path
    manifest: Path
    providers: dict[str, str]
    cost: Cost  # what this run paid for (what earlier runs made and it reused is not counted again)
    seconds: float
    published: Published
    video_url: str | None = None  # with object storage (SHORTS_STORE_URL): a time-limited link to the video
    posts: dict[str, str] = {}  # Instagram, Facebook, TikTok: "posted <link>", "drafted (...)", "skipped (why)"

    @model_validator(mode="before")
    @classmethod
    def _old_costs(cls, data: Any) -> Any:
        return costs_from(data, cost_credits="credits", cost_usd="usd", cost_characters="characters")

"""The provider registry: one dict per step, vendors first, offline last; choosing and building providers (what they
cost is added up in `pipeline.budget`)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.models import STEPS, ProviderChoice, Scene, ShortRequest
from pipeline.providers.base import Finding
from pipeline.providers.elevenlabs.budget import observed_rate, priced
from pipeline.providers.openai import SPEECH_ENDS
from pipeline.providers.openai.prices import estimate_image_usd
from pipeline.providers.runware.client import VIDEO_MODELS, estimate_clip_usd
from pipeline.providers.runway.client import (
    DURATIONS,
    estimate_clip_credits,
    estimate_image_credits,
    estimate_voice_credits,
)
from pipeline.script_rules import WORDS_PER_SECOND
from pipeline.settings import Settings, key_variable
from pipeline.speech_text import spoken_text
from pipeline.state.ledger import open_ledger

Estimate = Callable[[Scene, Settings], float]


@dataclass(frozen=True)
class ProviderSpec:
    """What choosing and pricing need to know of a provider, kept apart from its class: importing the class
    imports its vendor's SDK (openai alone takes ~0.5 s), which a run that never builds it should not pay for."""

    path: str  # "module:Class" in pipeline.providers, imported when the provider is first built
    env_var: str | None = None  # the key whose presence makes `auto` pick this vendor; None for offline
    estimate_credits: Estimate | None = None  # at most, per scene, for providers billed in credits
    estimate_usd: Estimate | None = None  # the same, for providers billed in dollars
    estimate_characters: Estimate | None = None  # the same, for voices billed by the character
    footage: bool = False  # picks a file per scene for the whole script at once (stock clips, your own media)
    # For a keyless provider `auto` may pick: "module:function" taking Settings, answering (usable, why) quickly.
    detect: str | None = None
    paid: bool = False  # billed per use: a paid voice waits for the storyboard's approval, like the clips
    ending: str | None = None  # why `auto` no longer picks it (its vendor is shutting it down); asked for, it works
    # A voice's usual pace in words per second of speech (pauses within a scene included), which scripts are
    # planned at; by language (its primary tag) where it differs; scaled by the setting that speeds the voice up.
    words_per_second: float | None = None
    language_pace: dict[str, float] | None = None
    speed_setting: str | None = None
    longest_clip: Callable[[Settings], float] | None = None  # the longest clip (seconds) a clip maker makes
    model_setting: str | None = None  # the setting naming the model it uses; None when its class names it
    # The setting naming a Prefect global concurrency limit its tasks hold: its vendor caps tasks per account, not
    # per machine, so every worker shares it.
    limit_setting: str | None = None
    # The setting that has an image maker draw scene 1's frame first, then give it to the others as a reference.
    reference_setting: str | None = None
    doctor: str | None = None  # "module:function" taking Settings: what `shorts doctor` says of its vendor

    def load(self) -> Any:  # the provider class, imported from `path`
        return _attribute(self.path)

    def model(self, settings: Settings) -> str:
        """The model it uses with these settings, without building it (no SDK client, no ledger): its setting, else
        its class's. Ollama's writer and the offline voice know theirs only once built (what this machine has)."""
        return getattr(settings, self.model_setting) if self.model_setting else self.load().model

    def shared_limit(self, settings: Settings) -> str | None:
        """The name of the concurrency limit its tasks hold across workers, when one is set."""
        return getattr(settings, self.limit_setting) if self.limit_setting else None

    def draws_alike(self, settings: Settings) -> bool:
        """Whether its frames after scene 1's are drawn to look like scene 1's (`reference=` that frame)."""
        return bool(getattr(settings, self.reference_setting)) if self.reference_setting else False

    def describe(self, settings: Settings) -> list[Finding]:
        """Doctor's lines on its vendor, from free calls only; its module is imported only now."""
        return _attribute(self.doctor)(settings) if self.doctor else []


def _attribute(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(f"pipeline.providers.{module}"), name)


# Each voice's pace. The offline voices were measured once: the offline scripts of 8 topics at 60 s (1,187 words)
# spoken at speed 1.0, words over the voiced span of each scene's WAV (first to last sample above 0.02), summed:
# Piper's Joe 382.7 s, so 3.10 words a second (186 a minute); eSpeak NG en-us 446.1 s, 2.66 (160 a minute). eSpeak
# speaks French faster: 2.92 with the same text, 3.27 with French sentences (56 words), so 3.1. The templates were
# then rewritten in plainer, shorter words, which both voices say faster: on 6 topics at 60 s (1,053 words) Piper
# spoke 3.37 words a second and eSpeak 3.07; Wikipedia's sentences (the keyless script when it is reachable) keep
# the first pace. So Piper 3.3 and eSpeak 2.85, a little slow for the one and fast for the other.
# The vendors publish none. OpenAI's tts-1 voices speak about 177 words a minute (2.95 a second) at speed 1.0, as a
# forum test of all six on the Grandfather and Rainbow passages measured (community.openai.com, "TTS Talking Speed
# (Words per minute)"). ElevenLabs' voices (so Runway's too) spoke 3.44 words a second to OpenAI's 3.36 on the same
# short texts in another forum test (community.openai.com, "Eleven labs seem to be much faster than Open AI in text to
# speech"): scaled to OpenAI's passage pace, 3.0. Edge's neural voices: the 150-152 words a minute ("WordsPerMinute")
# Microsoft's voice list gives its en-US voices, 2.5.
PIPER_PACE, ESPEAK_PACE, ESPEAK_LANGUAGE_PACE = 3.3, 2.85, {"fr": 3.1}
OPENAI_PACE, ELEVENLABS_PACE, EDGE_PACE = 2.95, 3.0, 2.5

OPENAI_KEY, RUNWAY_KEY, RUNWARE_KEY = map(key_variable, ("openai_api_key", "runwayml_api_secret", "runware_api_key"))
ELEVENLABS_KEY, PEXELS_KEY, PIXABAY_KEY = map(key_variable, ("elevenlabs_api_key", "pexels_api_key", "pixabay_api_key"))


def _voice_characters(scene: Scene, settings: Settings) -> float:
    # The narration's length at the rate the voice and model billed at last (a Voice Library voice can bill more than
    # one a character), else one a character: here, so pricing a Short does not import the ElevenLabs SDK.
    # The voice is sent the text as said ("6" as "six"), which English makes longer; the language is not known here,
    # so the longer of the two.
    rate = observed_rate(open_ledger(settings), settings.elevenlabs_model, settings.elevenlabs_voice)
    return priced(max(len(scene.narration), len(spoken_text(scene.narration)[0])), rate)


def _longest_runway_clip(settings: Settings) -> float:
    return max(DURATIONS[settings.runway_video_model])


def _longest_runware_clip(settings: Settings) -> float:
    return max(VIDEO_MODELS[settings.runware_video_model].durations)


FOLDER = "folder:"  # `folder:PATH` names your own media; the registry holds it as "folder"

# step -> {name: spec}; auto picks the first whose key is set, so offline goes last.
REGISTRY: dict[str, dict[str, ProviderSpec]] = {
    "script": {
        "openai": ProviderSpec(
            "openai.script:OpenAIScriptWriter",
            OPENAI_KEY,
            paid=True,
            model_setting="openai_script_model",
            doctor="openai:describe_models",
        ),
        "ollama": ProviderSpec(
            "ollama.script:OllamaScriptWriter",
            detect="ollama.client:detect_ollama",
            doctor="ollama.client:describe_ollama",
        ),
        "offline": ProviderSpec("offline.script:OfflineScriptWriter"),
    },
    "image": {
        "openai": ProviderSpec(
            "openai.image:OpenAIImageMaker",
            OPENAI_KEY,
            estimate_usd=estimate_image_usd,
            paid=True,
            model_setting="openai_image_model",
        ),
        "runway": ProviderSpec(
            "runway.image:RunwayImageMaker",
            RUNWAY_KEY,
            estimate_credits=estimate_image_credits,
            paid=True,
            model_setting="runway_image_model",
            limit_setting="runway_limit",
            reference_setting="runway_reference_first_frame",
        ),
        "folder": ProviderSpec("folder.media:FolderImageMaker", footage=True),
        "offline": ProviderSpec("offline.image:OfflineImageMaker"),
    },
    "video": {
        "runway": ProviderSpec(
            "runway.clip:RunwayClipMaker",
            RUNWAY_KEY,
            estimate_credits=estimate_clip_credits,
            paid=True,
            longest_clip=_longest_runway_clip,
            model_setting="runway_video_model",
            limit_setting="runway_limit",
            doctor="runway.client:describe_runway",
        ),
        "runware": ProviderSpec(
            "runware.clip:RunwareClipMaker",
            RUNWARE_KEY,
            estimate_usd=estimate_clip_usd,
            paid=True,
            longest_clip=_longest_runware_clip,
            model_setting="runware_video_model",
        ),
        # Free stock footage, after the paid vendors: `auto` takes it when only its key is set.
        "pexels": ProviderSpec("stock.pexels:PexelsClipMaker", PEXELS_KEY, footage=True),
        "pixabay": ProviderSpec("stock.pixabay:PixabayClipMaker", PIXABAY_KEY, footage=True),
        "folder": ProviderSpec("folder.media:FolderClipMaker", footage=True),
        "offline": ProviderSpec("offline.clip:OfflineClipMaker"),
    },
    "voice": {
        "elevenlabs": ProviderSpec(
            "elevenlabs.voice:ElevenLabsNarrator",
            ELEVENLABS_KEY,
            estimate_characters=_voice_characters,
            paid=True,
            words_per_second=ELEVENLABS_PACE,
            model_setting="elevenlabs_model",
            doctor="elevenlabs:describe_elevenlabs",
        ),
        "openai": ProviderSpec(
            "openai.voice:OpenAINarrator",
            OPENAI_KEY,
            paid=True,
            ending=f"OpenAI shuts its speech models down on {SPEECH_ENDS}",
            words_per_second=OPENAI_PACE,
            speed_setting="openai_voice_speed",
            model_setting="openai_voice_model",
            doctor="openai:describe_speech",
        ),
        # ElevenLabs voices billed in Runway credits: one key for a Runway-only user.
        "runway": ProviderSpec(
            "runway.voice:RunwayNarrator",
            RUNWAY_KEY,
            estimate_credits=estimate_voice_credits,
            paid=True,
            words_per_second=ELEVENLABS_PACE,
            model_setting="runway_voice_model",
            limit_setting="runway_limit",
        ),
        # Free, but an unofficial client of a consumer service: only when asked for (--voice edge).
        "edge": ProviderSpec("edge.voice:EdgeNarrator", words_per_second=EDGE_PACE, doctor="edge:describe_edge"),
        # Offline voices by name (auto never picks these: `offline` is Piper, else eSpeak NG, else none).
        "piper": ProviderSpec("offline.piper:PiperNarrator", words_per_second=PIPER_PACE),
        "espeak": ProviderSpec(
            "offline.espeak:EspeakNarrator", words_per_second=ESPEAK_PACE, language_pace=ESPEAK_LANGUAGE_PACE
        ),
        "offline": ProviderSpec("offline.voice:OfflineNarrator", doctor="offline.voice:describe_offline_voices"),
    },
}


def choose_provider(step: str, request: ShortRequest, settings: Settings) -> ProviderChoice:
    """Pick a step's provider: the flag, else the setting, else the vendor whose key is set, else offline."""
    known = REGISTRY[step]
    flag, setting = request.provider(step), getattr(settings, f"{step}_provider")
    if flag != "auto":
        _check_folder(flag, f"--{step}", step)
        return ProviderChoice(step=step, name=flag, reason=f"chosen with --{step}")
    if setting != "auto":
        _check_folder(setting, f"SHORTS_{step.upper()}_PROVIDER", step)
        if setting not in known and not (setting.startswith(FOLDER) and "folder" in known):
            names = ", ".join(["auto", *known])
            raise ConfigError(
                f"SHORTS_{step.upper()}_PROVIDER={setting!r} is not a {step} provider; use one of {names}."
            )
        return ProviderChoice(step=step, name=setting, reason=f"SHORTS_{step.upper()}_PROVIDER={setting}")
    missing, vendors = [], []
    for name, spec in known.items():
        if spec.env_var and settings.has_key(spec.env_var) and spec.ending:
            missing.append(f"{spec.env_var} is set, but {spec.ending} (--{step} {name} still uses it until then)")
            continue
        if spec.env_var and settings.has_key(spec.env_var):
            return ProviderChoice(step=step, name=name, reason=f"{spec.env_var} is set")
        if spec.env_var:
            vendors.append(spec.env_var)
        if spec.detect:
            usable, why = _attribute(spec.detect)(settings)
            if usable:
                return ProviderChoice(step=step, name=name, reason=why)
            missing.append(why)
    reason = "; ".join([*([f"no {' or '.join(vendors)} set"] if vendors else []), *missing]) or "the only one available"
    return ProviderChoice(step=step, name="offline", reason=reason)


def _check_folder(name: str, where: str, step: str) -> None:
    """Fail now, before anything is made, on a media folder that is missing or holds a file that is not media."""
    if not name.startswith(FOLDER):
        return
    folder = Path(name[len(FOLDER) :]).expanduser()
    if not folder.is_dir():
        raise ConfigError(
            f"{where} {name}: there is no folder {str(folder)!r}; give the path of a folder of your images and videos."
        )
    from pipeline.providers.folder.media import read_folder  # Pillow and ffmpeg only when a folder is named

    read_folder(folder, images_only=step == "image")


def provider_spec(step: str, name: str) -> ProviderSpec:
    """The registry entry of a provider name, `folder:PATH` included."""
    return REGISTRY[step]["folder" if name.startswith(FOLDER) else name]


def is_paid(step: str, name: str) -> bool:
    """Whether the provider is billed per use (so its voice waits for the storyboard's approval, and its files in the
    store are never bought again unasked)."""
    try:
        return provider_spec(step, name).paid
    except KeyError:  # a name only a provider's instance reports (the offline voice's "espeak-ng") is a free one
        return False


def speaking_pace(request: ShortRequest, voice: str, settings: Settings) -> float:
    """Words a second the chosen voice speaks this request at (the reading pace when no voice speaks)."""
    if voice == "offline":  # the offline voice that will speak here
        voice = _attribute("offline.voice:offline_voice")(request.voice, request.language) or ""
    spec = REGISTRY["voice"].get(voice)
    if spec is None or spec.words_per_second is None:
        return WORDS_PER_SECOND
    pace = (spec.language_pace or {}).get(request.language.split("-")[0].lower(), spec.words_per_second)
    return pace * (getattr(settings, spec.speed_setting) if spec.speed_setting else 1.0)


def longest_clip(video: str, settings: Settings) -> float | None:
    """The longest clip (seconds) the chosen clip maker makes; None when any length will do."""
    measure = provider_spec("video", video).longest_clip
    return measure(settings) if measure else None


def picks_footage(step: str, name: str) -> bool:
    """Whether the provider picks a file per scene for the whole script first (so no scene repeats another's)."""
    return provider_spec(step, name).footage


def choose_providers(request: ShortRequest, settings: Settings) -> dict[str, ProviderChoice]:
    choices = {step: choose_provider(step, request, settings) for step in STEPS}
    video, image = choices["video"], choices["image"]
    # With stock or your own clips, first frames only fill the storyboard and any scene no clip was found for, so
    # `auto` does not pay for them.
    if (
        picks_footage("video", video.name)
        and image.name != "offline"
        and "auto" == request.image_provider == settings.image_provider
        and REGISTRY["image"][image.name].env_var
    ):
        choices["image"] = ProviderChoice(
            step="image",
            name="offline",
            reason=f"the clips come from {video.name}, so paid first frames would only fill the storyboard",
        )
    return choices


def build_provider(step: str, name: str, settings: Settings) -> Any:
    """An instance of the named provider, configured from its section of the settings (vendors) or with no arguments
    (offline)."""
    cls = provider_spec(step, name).load()
    if name.startswith(FOLDER):
        return cls(Path(name[len(FOLDER) :]).expanduser())
    return cls.configured(settings)

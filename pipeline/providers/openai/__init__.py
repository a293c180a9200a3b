"""OpenAI (or any OpenAI-compatible server): the shared client, scripts, first frames, speech, word timings."""

from __future__ import annotations

from pipeline.providers.base import Finding, keyed_findings
from pipeline.settings import Settings

# OpenAI's announced end of every /v1/audio/speech model (tts-1, tts-1-hd, gpt-4o-mini-tts); whisper-1 ends on
# 2027-02-26. Here, not in voice.py, so the registry knows it without importing the SDK.
SPEECH_ENDS = "2027-01-06"


def describe_speech(settings: Settings) -> list[Finding]:
    """Doctor's line on OpenAI speech: whether its key is set, and when it ends."""
    keyed = "key set" if settings.has_key("OPENAI_API_KEY") else "no OPENAI_API_KEY set"
    return [
        Finding(
            text=f"OpenAI speech: {keyed}; ends {SPEECH_ENDS}, when OpenAI shuts its speech models down: `auto` no "
            "longer picks it (--voice openai until then), use --voice elevenlabs, --voice runway, --voice edge or "
            "--voice offline"
        )
    ]


def describe_models(settings: Settings) -> list[Finding]:
    """Doctor's lines with a key: the configured models, warning of any with an announced shutdown or not listed."""

    def lines() -> list[str]:
        from pipeline.providers.openai.client import model_shutdowns  # the SDK only when a key is set

        shutdowns = model_shutdowns(settings)
        found = ["OpenAI: key accepted; models: " + ", ".join(getattr(settings, n) for n in shutdowns)]
        for name, date in shutdowns.items():
            model, variable = getattr(settings, name), f"SHORTS_{name.upper()}"
            if date:
                found.append(
                    f"  warning: {model} shuts down on {date} (announced by OpenAI); set {variable} to a model with "
                    "no shutdown date before then"
                )
            elif date == "":
                found.append(f"  warning: the server does not list {model}; check {variable}")
        return found

    return keyed_findings(settings, "openai_api_key", "OpenAI", lines, unset=None)

"""What ElevenLabs speech costs, in billed characters, from what it billed before (no SDK import: pricing a Short
must not load it).

A voice from the Voice Library can bill more than one character per character (its credit multiplier), and flash
and turbo models bill half. The ledger holds each request's billed characters, and its key holds the length of the
text sent, so billed / length is the rate a voice and model were seen to bill at.
"""

from __future__ import annotations

import hashlib
import math

from pipeline.state.ledger import Ledger

PROVIDER = "elevenlabs"
NO_SHORT = "-"  # the key's Short part for speech that belongs to no Short (no per-Short cap)


def voice_tag(voice: str) -> str:
    """A voice as the ledger's keys name it: a hash of the voice as given (an id, or a name in any case)."""
    return hashlib.sha256(voice.casefold().encode()).hexdigest()[:12]


def request_key(short: str, voice: str, text: str, digest: str) -> str:
    """The ledger key of one speech request: "<short>/<voice tag>/<characters sent>/<digest of the request>"."""
    return f"{short or NO_SHORT}/{voice_tag(voice)}/{len(text)}/{digest}"


def observed_rate(ledger: Ledger, model: str, voice: str) -> float | None:
    """Characters billed per character sent by the newest finished request of this voice and model; None when
    there is none yet."""
    task = ledger.newest_billed(PROVIDER, model, f"%/{voice_tag(voice)}/%")
    if task is None or task.amount_spent is None:
        return None
    sent = int(task.key.split("/")[2])
    return task.amount_spent / sent if sent else None


def priced(characters: int, rate: float | None) -> float:
    """At most the characters billed for `characters` sent at `rate` (one per character while it is unknown)."""
    return float(math.ceil(characters * (rate or 1.0) - 1e-9))

"""What paid providers take in: their key, text cut to a vendor's limit, images as data URIs, and clip durations a
model allows."""

from __future__ import annotations

import base64
import math
import mimetypes
from pathlib import Path

from pydantic import BaseModel, SecretStr

from pipeline.errors import ConfigError
from pipeline.settings import key_variable


def required_key(settings: BaseModel, field: str, flag: str, what: str) -> str:
    """The value of the key setting `field`, or a ConfigError saying which variable `flag` needs (`what` says where
    keys come from)."""
    secret: SecretStr | None = getattr(settings, field)
    value = secret.get_secret_value() if secret else ""
    if not value:
        raise ConfigError(f"{flag} needs {key_variable(field)} ({what}); set it, or pick the offline provider.")
    return value


def covering_duration(allowed: tuple[int, ...], seconds: float) -> int:
    """The shortest clip duration a model allows that covers `seconds` (the render trims the rest)."""
    return next((d for d in allowed if d >= math.ceil(seconds - 1e-6)), allowed[-1])


def data_uri(path: Path) -> str:
    """The file as a data URI (`data:image/png;base64,...`), which both vendors take for input images."""
    media = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{media};base64,{base64.b64encode(path.read_bytes()).decode()}"


def cut_text(text: str, limit: int) -> str:
    """`text` with its whitespace collapsed, shortened to `limit` UTF-16 code units (as vendors count them), on a
    word boundary when there is one."""
    text = " ".join(text.split())
    units, end = 0, 0
    for end, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            break
    else:
        return text
    head = text[:end]
    cut = head.rsplit(" ", 1)[0] if " " in head else head
    return cut.rstrip(" ,;:-")

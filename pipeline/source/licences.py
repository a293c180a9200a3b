"""Which Commons licences a Short may show a picture under: public domain, CC0, CC BY and CC BY-SA (any version),
never a non-free or fair-use file, nor NC (non-commercial) or ND (no derivatives: a crop is a derivative)."""

from __future__ import annotations

import re

_FREE = re.compile(r"^(public domain|pd\b|pd-|cc0|cc[ -]?zero|cc[ -]by(-sa)?([ -]\d(\.\d)?)?\b)", re.IGNORECASE)
_RESTRICTED = re.compile(r"\b(nc|nd|non[- ]?free|fair use)\b", re.IGNORECASE)


def is_free(licence: str, non_free: str | None = None) -> bool:
    """Whether a file with this LicenseShortName (and NonFree flag, from its extmetadata) may be shown."""
    if (non_free or "").strip().lower() in ("true", "1", "yes"):
        return False
    name = " ".join(licence.split())
    return bool(_FREE.match(name)) and not _RESTRICTED.search(name)

"""The README's configuration tables, written from `Settings` so the two cannot drift apart.

`python -m pipeline.settings_tables README.md` rewrites each table between its markers
(`<!-- settings: SECTION -->` ... `<!-- /settings -->`); tests/test_settings_tables.py checks they match.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from pipeline.settings import SECTIONS
from pipeline.state.store import atomic_path

MARKED = re.compile(r"(<!-- settings: (?P<section>[a-z ]+) -->\n)(?P<table>.*?)(<!-- /settings -->)", re.S)


def variable(name: str, field: FieldInfo) -> str:
    """The environment variable a setting is read from."""
    aliases = getattr(field.validation_alias, "choices", None)
    return " or ".join(f"`{a}`" for a in aliases) if aliases else f"`SHORTS_{name.upper()}`"


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None or field.default is None:
        return "–"  # computed or unset: the description says what happens then
    value = field.default
    if isinstance(value, SecretStr):
        return "–"
    if isinstance(value, bool):
        value = str(value).lower()
    return f"`{value}`"


def advanced(field: FieldInfo) -> bool:
    """Whether a setting is a timing or server-address knob, listed apart from the ones most users change."""
    return isinstance(field.json_schema_extra, dict) and bool(field.json_schema_extra.get("advanced"))


def table(section: str) -> str:
    """The Markdown table of one section's settings, then one of its advanced settings if it has any."""
    fields = SECTIONS[section].model_fields.items()
    common = _rows([(name, field) for name, field in fields if not advanced(field)])
    rare = [(name, field) for name, field in fields if advanced(field)]
    return common + (f"\nAdvanced (timing and server addresses):\n\n{_rows(rare)}" if rare else "")


def _rows(fields: list[tuple[str, FieldInfo]]) -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| {variable(name, field)} | {default_text(field)} | {field.description} |" for name, field in fields]
    return "\n".join(rows) + "\n"


def rewrite(text: str) -> str:
    """`text` with every marked table written afresh from the settings."""
    return MARKED.sub(lambda m: m.group(1) + table(m.group("section")) + m.group(4), text)


if __name__ == "__main__":
    for path in map(Path, sys.argv[1:]):
        with atomic_path(path) as tmp:
            tmp.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")

"""Prompt templates: text files in `prompts/` with `$name` placeholders."""

from __future__ import annotations

import string
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"


def render(template: str, source: str = "template", **values: object) -> str:
    """Fill `$name` placeholders, failing with every missing name at once."""
    tmpl = string.Template(template)
    missing = sorted({name for name in tmpl.get_identifiers() if name not in values})
    if missing:
        raise ConfigError(f"The prompt {source} needs values for: {', '.join(missing)}.")
    return tmpl.substitute({k: str(v) for k, v in values.items()})


def load_template(name: str, directory: Path = PROMPTS_DIR) -> str:
    """A whole template file, without its leading `#` comment lines."""
    path = directory / name
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read the prompt file {path}; restore it from the repository.") from exc
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "\n".join(lines).strip() + "\n"


def fill(name: str, **values: object) -> str:
    """Load the template file `name` and fill its placeholders."""
    return render(load_template(name), name, **values)


def load_sections(name: str, directory: Path = PROMPTS_DIR) -> dict[str, list[str]]:
    """Read a template file made of `[section]` headers, each followed by one template per line."""
    path = directory / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read the prompt file {path}; restore it from the repository.") from exc
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif current is not None:
            current.append(line)
    return sections

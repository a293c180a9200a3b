"""The README documents every setting exactly as `Settings` declares it."""

from pathlib import Path

from pipeline.settings import SECTIONS, Settings
from pipeline.settings_tables import MARKED, rewrite

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_has_a_description_and_one_section():
    assert [name for name, field in Settings.model_fields.items() if not field.description] == []
    assert sorted(n for section in SECTIONS.values() for n in section.model_fields) == sorted(Settings.model_fields)


def test_the_readme_tables_match_the_settings():
    text = README.read_text(encoding="utf-8")
    assert sorted(m.group("section") for m in MARKED.finditer(text)) == sorted(SECTIONS)
    assert rewrite(text) == text, "run: python -m pipeline.settings_tables README.md"

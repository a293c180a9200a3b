"""The variety guard: a new script is compared with the last 30 days' Shorts (their manifests) before anything is
paid for; a near-copy of a hook or a script is found, named in one line, and never its own earlier take."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pipeline import Scene, Script, Settings, near_copy, recent_scripts


def script(hook: str, narration: str = "Octopuses taste with their suckers and see with their skin.") -> Script:
    return Script(
        title="A Short",
        description="d",
        tags=[],
        hook=hook,
        scenes=[Scene(index=1, narration=narration, first_frame_prompt="f", motion_prompt="m", seconds=5)],
    )


def made(settings: Settings, folder: str, hook: str, narration: str, days_ago: float = 1) -> None:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    path = settings.output_dir / folder / "manifest.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "created_at": when.isoformat(),
                "request": {"topic": folder},
                "script": {"title": f"Title of {folder}", "hook": hook, "scenes": [{"narration": narration}]},
            }
        )
    )


def test_a_repeated_hook_or_script_is_found_and_named_in_one_line():
    settings = Settings()
    made(settings, "bees", "Here is something about bees you will not forget.", "Bees dance to say where food is.")
    made(settings, "ants", "Ants never sleep?", "Ants farm fungus in gardens underground, and the fungus feeds them.")
    made(settings, "old", "Here is something about octopuses you will not forget.", "Old words.", days_ago=31)
    made(settings, "this-one", "Here is something about octopuses you will not forget.", "Its own earlier take.")
    recent = recent_scripts(settings.output_dir, settings.output_dir / "this-one")
    assert sorted(e.topic for e in recent) == ["ants", "bees"]  # not 31 days old, not the Short's own folder

    copy = near_copy(script("Here is something about octopuses you will not forget."), recent)
    assert copy.part == "hook" and copy.earlier.topic == "bees" and copy.similarity >= 0.8
    line = copy.line()
    assert "\n" not in line and "'Title of bees'" in line and "hook" in line and "rewrites it once" in line
    assert "do not reuse the opening" in copy.ask()

    same_words = near_copy(
        script("Did you know?", "Ants farm fungus in gardens underground, and the fungus feeds them well."), recent
    )
    assert same_words.part == "script" and same_words.earlier.topic == "ants"
    assert near_copy(script("Octopuses have three hearts and blue blood."), recent) is None

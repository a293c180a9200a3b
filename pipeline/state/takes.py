"""Takes: which drawing of each scene's first frame a Short uses, kept in its output folder as takes.json.

`--redo-scene N` asks for scene N's next take, which draws it with another seed. The number is saved before anything
is drawn, so every later run of the same Short (from the CLI or the UI) draws that take again, finds it in the
caches, and the redone scene stays as it was approved. A scene not listed is on take 1, the seed it always had.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, TypeAdapter, ValidationError

from pipeline.errors import ConfigError
from pipeline.models import Model, Scene, Script
from pipeline.state.store import atomic_path

TAKES_FILE = "takes.json"


class Take(Model):
    """A scene drawn again: its take number, and the prompt it was drawn for."""

    scene: int = Field(ge=1)
    take: int = Field(ge=2)
    # A script written anew (another length, --fresh) may put another picture at this index: the take then lapses.
    prompt: str


_TAKES = TypeAdapter(list[Take])


def scene_takes(out_dir: Path, script: Script, redo_scene: int | None = None) -> list[int]:
    """The take of every scene, in order; with `redo_scene`, that scene moves to its next take, saved first."""
    path = out_dir / TAKES_FILE
    takes = _load(path)
    if redo_scene is not None:
        scene = next((s for s in script.scenes if s.index == redo_scene), None)
        if scene is None:
            raise ConfigError(
                f"--redo-scene {redo_scene}: this Short has scenes 1 to {len(script.scenes)}; choose one of them."
            )
        takes[scene.index] = Take(scene=scene.index, take=_take_of(scene, takes) + 1, prompt=scene.first_frame_prompt)
        try:
            with atomic_path(path) as tmp:
                tmp.write_bytes(_TAKES.dump_json(sorted(takes.values(), key=lambda t: t.scene), indent=2))
        except OSError as exc:
            raise ConfigError(f"Cannot write {path} ({exc.strerror}); free some space or use --out.") from exc
    return [_take_of(scene, takes) for scene in script.scenes]


def _take_of(scene: Scene, takes: dict[int, Take]) -> int:
    take = takes.get(scene.index)
    return take.take if take and take.prompt == scene.first_frame_prompt else 1


def _load(path: Path) -> dict[int, Take]:
    if not path.is_file():
        return {}
    try:
        return {take.scene: take for take in _TAKES.validate_json(path.read_bytes())}
    except (OSError, ValidationError) as exc:
        raise ConfigError(
            f"{path} is not a list of takes; fix it, or delete it to draw every scene's first take."
        ) from exc

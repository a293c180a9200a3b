"""The rules that keep the house simple (../shared/DESIGN.md), checked on the source: the layers, the import graph,
and ruff's lint."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def modules() -> dict[str, ast.Module]:
    """Every module of pipeline/ and flows/ by dotted name, parsed."""
    found = {}
    for package in ("pipeline", "flows"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


def imports(tree: ast.Module) -> list[tuple[str, list[str], bool]]:
    """(module, names, at module level) for each absolute import in `tree`."""
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names], id(node) in top))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], id(node) in top) for a in node.names]
    return found


MODULES = modules()


def test_pipeline_knows_nothing_of_prefect_or_flows():
    broken = [
        f"{name} imports {module}"
        for name, tree in MODULES.items()
        if name.startswith("pipeline.")
        for module, _, _ in imports(tree)
        if module.split(".")[0] in ("prefect", "flows")
    ]
    assert broken == []


def test_no_module_takes_another_modules_private_names():
    taken = [
        f"{name} takes {module}.{n}"
        for name, tree in MODULES.items()
        for module, names, _ in imports(tree)
        if module in MODULES and module != name
        for n in names
        if n.startswith("_")
    ]
    assert taken == []


def test_flows_import_pipeline_through_its_public_surface():
    # A flow module may defer a provider's import into a function (its SDK is slow to load), nothing more.
    direct = [
        f"{name} imports {module}"
        for name, tree in MODULES.items()
        if name.startswith("flows")
        for module, _, top in imports(tree)
        if module.startswith("pipeline.") and top
    ]
    assert direct == []


# The floors of pipeline/. The core is what every step shares: values, errors, settings, limits, state, media, and
# the text and sound rules that both a step and its providers apply. A step package is one step's machinery; the
# step modules (script.py, clips.py, package.py, brainstorm.py, ...) are the floor above, which puts them together.
CORE = (
    "pipeline.models",
    "pipeline.errors",
    "pipeline.settings",
    "pipeline.settings_tables",
    "pipeline.limits",
    "pipeline.prompts",
    "pipeline.script_rules",
    "pipeline.search_terms",
    "pipeline.music",
    "pipeline.speech_text",
    "pipeline.alignment",
    "pipeline.timing",
    "pipeline.pause_timing",
    "pipeline.loudness",
    "pipeline.state",
    "pipeline.media",
)
STEP_PACKAGES = ("pipeline.providers", "pipeline.render", "pipeline.publish", "pipeline.source", "pipeline.analytics")
# (step package, module of another one it may import): why.
CROSSINGS = {
    ("pipeline.publish", "pipeline.package"): "publishing reads the folder the package step wrote",
    ("pipeline.analytics", "pipeline.publish.youtube_auth"): "the stats use the channel's YouTube login",
    ("pipeline.analytics", "pipeline.publish.youtube_retry"): "and YouTube's retry policy",
    ("pipeline.analytics", "pipeline.publish.youtube_upload"): "and its API client",
    ("pipeline.providers", "pipeline.source.models"): "a script writer writes from the source the source step found",
    ("pipeline.providers", "pipeline.source.text"): "the offline writer reads it as the source step cut it",
}


def floor(name: str, floors: tuple[str, ...]) -> str | None:
    """The entry of `floors` that `name` is or lies under."""
    return next((f for f in floors if name == f or name.startswith(f + ".")), None)


def pipeline_imports() -> set[tuple[str, str]]:
    """(importer, imported module) for every import inside pipeline/, at module level or in a function."""
    found = set()
    for name, tree in MODULES.items():
        for module, names, _ in imports(tree):
            if name.startswith("pipeline.") and module.startswith("pipeline."):
                found |= {(name, f"{module}.{n}" if f"{module}.{n}" in MODULES else module) for n in names or [""]}
    return found


def test_the_core_imports_no_step():
    upward = [
        f"{name} imports {module}"
        for name, module in sorted(pipeline_imports())
        if floor(name, CORE) and not floor(module, CORE)
    ]
    assert upward == []


def test_no_step_package_imports_another_but_through_the_core():
    crossed, used = [], set()
    for name, module in sorted(pipeline_imports()):
        package = floor(name, STEP_PACKAGES)
        if package and not floor(module, CORE) and floor(module, (package,)) is None:
            if (package, module) in CROSSINGS:
                used.add((package, module))
            else:
                crossed.append(f"{name} imports {module}")
    assert crossed == []
    assert sorted(set(CROSSINGS) - used) == []  # an exception no longer needed goes from the list


def test_the_import_graph_has_no_cycles():
    edges = {name: set() for name in MODULES}
    for name, tree in MODULES.items():
        for module, names, _ in imports(tree):
            targets = [module] + [f"{module}.{n}" for n in names]
            edges[name] |= {t for t in targets if t in MODULES and t != name and not t.startswith(name + ".")}
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(path[path.index(nxt) :] + [node, nxt]))
            elif nxt not in state:
                visit(nxt, path + [node])
        state[node] = "done"

    for name in sorted(MODULES):
        if name not in state:
            visit(name, [])
    assert cycles == []


CODE = ("pipeline", "flows", "tests", "benchmarks")


def test_ruff_finds_nothing():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", *CODE], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", *CODE],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_tests_use_only_public_names():
    taken = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for module, names, _ in imports(ast.parse(path.read_text(encoding="utf-8"))):
            if module.split(".")[0] in ("pipeline", "flows"):
                taken += [f"{path.name} takes {module}.{n}" for n in names if n.startswith("_")]
                taken += [f"{path.name} takes {module}" for part in module.split(".") if part.startswith("_")]
    assert taken == []

"""pipeline's public surface (what flows/ may import): one sorted list, every name in it used."""

import ast
from pathlib import Path

import pipeline

ROOT = Path(__file__).resolve().parents[1]


def imported_from_pipeline() -> set[str]:
    """The names flows/, tests/ and benchmarks/ take from `pipeline` itself."""
    names = set()
    for folder in ("flows", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "pipeline" and node.level == 0:
                    names |= {alias.name for alias in node.names}
    return names


def test_the_public_names_are_sorted():
    assert pipeline.__all__ == sorted(pipeline.__all__)


def test_every_public_name_is_used_and_exists():
    assert sorted(set(pipeline.__all__) - imported_from_pipeline()) == []
    assert [name for name in pipeline.__all__ if not hasattr(pipeline, name)] == []


def test_nothing_is_taken_from_pipeline_that_it_does_not_export():
    assert sorted(imported_from_pipeline() - set(pipeline.__all__)) == []

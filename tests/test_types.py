"""mypy with pydantic's plugin finds nothing in pipeline/ or flows/ (pyproject.toml's [tool.mypy]).

Its own file, named to come late in the suite's order: the check starts in the background as the suite begins
(tests/type_check.py) and takes about a minute from a fresh clone, so by the time this test asks, it is done.
"""

import type_check


def test_mypy_finds_nothing():
    code, output = type_check.verdict()
    assert code == 0, output

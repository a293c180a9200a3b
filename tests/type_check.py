"""mypy over pipeline/ and flows/ (pyproject.toml's [tool.mypy]). From a fresh clone, with no cache, it takes about
a minute, so the suite starts it in the background as it begins (tests/conftest.py) and
tests/test_types.py waits for its verdict; run alone, the test runs it itself.

    python tests/type_check.py RESULT_FILE    # what the background run is: both checks, then the verdict file
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "SHORTS_TEST_MYPY_RESULT"  # the verdict file of the background run, for the test workers to read


def check() -> tuple[int, str]:
    """Run mypy on both packages at once (one pass over what they import): its exit code, and what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "pipeline", "flows"], cwd=ROOT, capture_output=True, text=True
    )
    return result.returncode, result.stdout + result.stderr


def start(result: Path) -> subprocess.Popen[bytes]:
    """Start the checks in the background; their verdict lands in `result` (named in the environment for the
    test workers this process starts next)."""
    os.environ[RESULT] = str(result)
    return subprocess.Popen([sys.executable, __file__, str(result)], cwd=ROOT, stdout=subprocess.DEVNULL)


def verdict(timeout: float = 900) -> tuple[int, str]:
    """The background run's verdict, waited for; the checks run here when none was started."""
    if not (name := os.environ.get(RESULT)):
        return check()
    result, deadline = Path(name), time.monotonic() + timeout
    while not result.exists():
        if time.monotonic() > deadline:
            return 1, f"mypy gave no verdict in {timeout:g} s"
        time.sleep(0.5)
    code, _, output = result.read_text().partition("\n")
    return int(code), output


if __name__ == "__main__":
    code, output = check()
    partial = Path(sys.argv[1] + ".part")
    partial.write_text(f"{code}\n{output}")
    partial.replace(sys.argv[1])  # whole, or not there

"""`python -m flows.cli ...` is the `shorts` command."""

from flows.cli import run

run()

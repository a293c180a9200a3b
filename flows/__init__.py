"""Prefect wiring for the pipeline: tasks, the make_short flow, and the `shorts` CLI."""

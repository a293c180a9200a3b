"""One Prefect server for the whole session, so flow tests skip Prefect's slow start-up per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_prefect import prefect_server


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory) -> Iterator[str]:
    """The API URL of a `prefect server start` on 127.0.0.1 that lives as long as the test session."""
    with prefect_server(tmp_path_factory.mktemp("prefect-server")) as api:
        yield api


@pytest.fixture
def on_prefect_server(prefect_api, monkeypatch) -> Iterator[str]:
    """Point this test's flows, in this process and in `shorts` subprocesses, at the session's server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    with temporary_settings({PREFECT_API_URL: prefect_api}):
        yield prefect_api

"""Runware's providers share how they are built: the job runner for Runware tasks, with the settings' key, pace,
deadline and caps."""

from __future__ import annotations

from typing import ClassVar

import httpx
from pydantic import BaseModel

from pipeline.providers.base import Shared
from pipeline.providers.paid.jobs import Limits, PaidJobs, PaidMaker
from pipeline.providers.runware.client import RunwareClient, client_options
from pipeline.providers.runware.tasks import RunwareVendor
from pipeline.settings import RunwareSettings


def runware_jobs(
    settings: RunwareSettings, shared: Shared, flag: str, http_client: httpx.Client | None = None
) -> PaidJobs[RunwareVendor]:
    """The job runner for Runware tasks, with the settings' key, pace, deadline and caps (in dollars); `flag` names
    how the user picked Runware, for the message when the key is missing."""
    client = RunwareClient(**client_options(settings, flag), http_client=http_client)
    limits = Limits(
        settings.runware_poll_seconds,
        settings.runware_max_poll_seconds,
        settings.runware_deadline_minutes * 60,
        settings.max_usd_per_short,
        settings.max_usd_per_day,
        settings.runware_unconfirmed_wait_seconds,
    )
    return PaidJobs(RunwareVendor(client, settings.runware_concurrency), shared.ledger(), limits, http_client)


class RunwareMaker(PaidMaker):
    """A Runware provider: its settings section, its tasks run by `runware_jobs`."""

    name: ClassVar[str] = "runware"
    section: ClassVar[type[BaseModel] | None] = RunwareSettings  # as `Provider` declares it, for the step's interface
    runner = staticmethod(runware_jobs)

"""Runway's providers share how they are built: the job runner for Runway tasks, with the settings' key, pace,
deadline and caps."""

from __future__ import annotations

from typing import ClassVar

import httpx
from pydantic import BaseModel

from pipeline.providers.base import Shared
from pipeline.providers.paid.jobs import Limits, PaidJobs, PaidMaker
from pipeline.providers.runway.client import client_options, make_client
from pipeline.providers.runway.tasks import RunwayVendor
from pipeline.settings import RunwaySettings


def runway_jobs(
    settings: RunwaySettings,
    shared: Shared,
    flag: str,
    http_client: httpx.Client | None = None,
    deadline_minutes: float | None = None,
) -> PaidJobs[RunwayVendor]:
    """The job runner for Runway tasks, with the settings' key, pace, deadline and caps (in credits); `flag` names
    how the user picked Runway, for the message when the key is missing."""
    client = make_client(**client_options(settings, flag), http_client=http_client)
    minutes = settings.runway_deadline_minutes if deadline_minutes is None else deadline_minutes
    limits = Limits(
        settings.runway_poll_seconds,
        settings.runway_poll_seconds,
        minutes * 60,
        settings.max_credits_per_short,
        settings.max_credits_per_day,
        unconfirmed_wait_seconds=0.0,  # Runway numbers its tasks: an unconfirmed one is never looked up
        resubmit_unconfirmed=settings.runway_resubmit_unconfirmed,
    )
    return PaidJobs(RunwayVendor(client, settings.runway_concurrency), shared.ledger(), limits, http_client)


class RunwayMaker(PaidMaker):
    """A Runway provider: its settings section, its tasks run by `runway_jobs`."""

    name: ClassVar[str] = "runway"
    section: ClassVar[type[BaseModel] | None] = RunwaySettings  # as `Provider` declares it, for the step's interface
    runner = staticmethod(runway_jobs)

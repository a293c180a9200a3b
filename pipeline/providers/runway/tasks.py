"""Runway as a `PaidJobs` vendor: tasks that Runway numbers, cancelled only while PENDING or THROTTLED (a started task
is billed, so it is left to finish and the next run collects it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import runwayml

from pipeline.errors import ProviderError, ShortsError
from pipeline.providers.paid.jobs import Job, Seen, TaskGone
from pipeline.providers.runway.client import PROVIDER, ambiguous, nothing_made, runway_error, tier_concurrency
from pipeline.state.ledger import CANCELLED, CREDITS

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
# Runway refunds a cancelled task only while it waits for a slot; a RUNNING one is billed whatever happens, and
# deleting a finished one deletes its output (tasks.delete docstring).
UNSTARTED = ("PENDING", "THROTTLED")

log = logging.getLogger("shorts.runway")


class RunwayVendor:
    """Creates, retrieves and cancels Runway tasks through its SDK; its sentences for what became of them."""

    name, provider, unit = "Runway", PROVIDER, CREDITS
    client_ids, creating, dashboard = False, "creating", "dev.runwayml.com"
    nothing_made = staticmethod(nothing_made)  # a create's failure that proves no task was made

    def __init__(self, client: runwayml.RunwayML, concurrency: int | None = None) -> None:
        self.client = client
        self.concurrency = concurrency
        self.api_errors = (runwayml.APIError,)

    def new_id(self) -> str | None:
        return None  # Runway numbers its tasks

    def create(self, job: Job, payload: dict[str, Any], task_id: str | None) -> tuple[str, float | None]:
        # The SDK would retry a POST on timeouts and 5xx without an idempotency key: `send_paid` decides instead.
        created = getattr(self.client.with_options(max_retries=0), job.endpoint).create(**payload)
        estimate = getattr(getattr(created, "estimated_cost", None), "credits", None)
        return created.id, None if estimate is None else float(estimate)

    def refused(self, exc: Exception, doing: str, created: bool | None) -> tuple[bool, ShortsError]:
        return ambiguous(exc), runway_error(exc, doing, created=created)  # type: ignore[arg-type]

    def retrieve(self, task_id: str, confirmed: bool) -> Seen:
        try:
            task = self.client.tasks.retrieve(task_id)
        except runwayml.NotFoundError as exc:
            raise TaskGone(task_id) from exc
        except runwayml.APIError as exc:
            raise runway_error(exc, f"checking task {task_id}", created=True) from exc
        cost = getattr(task, "cost", None)
        progress = int((getattr(task, "progress", None) or 0) * 10) * 10
        return Seen(
            task.status,
            finished=task.status in TERMINAL,
            made=task.status == "SUCCEEDED",
            cost=float(cost.credits) if cost is not None else None,
            url=(getattr(task, "output", None) or [None])[0],
            code=getattr(task, "failure_code", None) or "",
            progress=f" {progress}%" if task.status == "RUNNING" else "",
            cancelled=task.status == "CANCELLED",
            raw=task,
        )

    def cancel_if_unstarted(self, task_id: str, reason: str) -> tuple[str, str | None]:
        """Cancel (DELETE) only if a fresh look finds Runway has not started the task; never raises."""
        client = self.client.with_options(max_retries=1, timeout=15.0)
        status: str  # Runway's statuses, or UNKNOWN when it could not be asked
        try:
            status = client.tasks.retrieve(task_id).status
        except runwayml.APIError:
            status = "UNKNOWN"  # it may be running: leave it, the next run asks again
        if status in TERMINAL:
            return "ENDED", None
        if status not in UNSTARTED:
            log.warning("Runway task %s is %s, so it is billed and was left to finish (%s)", task_id, status, reason)
            return status, f"{reason}; left {status.lower()} at Runway"
        try:
            client.tasks.delete(task_id)
        except runwayml.NotFoundError:
            pass
        except runwayml.APIError as exc:
            # Still recorded as in flight, so the next run resumes the task rather than paying for another.
            log.warning(
                "Could not cancel Runway task %s (%s); cancel it on dev.runwayml.com", task_id, type(exc).__name__
            )
            return status, f"{reason}; cancelling failed"
        return CANCELLED, None

    def output(self, job: Job, task_id: str) -> str | None:
        try:
            return self.retrieve(task_id, True).url
        except TaskGone as exc:
            raise ProviderError(
                f"Runway deleted task {task_id} before its {job.kind} was downloaded; rerun to submit it again."
            ) from exc

    def slot(self, model: str) -> tuple[tuple[str, ...], Callable[[], int]]:
        return (
            PROVIDER,
            str(self.client.base_url),
            model,
        ), lambda: self.concurrency or tier_concurrency(self.client, model)

    def worth_another_try(self, seen: Seen) -> bool:
        return not seen.cancelled and seen.code.startswith("INTERNAL")  # Runway's own fault, made nothing

    def failure(self, job: Job, task_id: str, seen: Seen) -> ShortsError:
        """A finished task that made nothing, as one sentence; never retried, as a retry would pay again."""
        code = seen.code
        if seen.cancelled:
            return ProviderError(
                f"Runway reports task {task_id} was cancelled (from the dashboard or another run); "
                f"rerun to submit the {job.kind} again."
            )
        if "SAFETY" in code:
            return ProviderError(f"Runway's moderation rejected the {job.kind} ({code}); {job.reword} or {job.fix}.")
        if code.startswith("ASSET"):
            return ProviderError(f"Runway could not use the input image ({code}); {job.fix}.")
        tries = " twice" if code.startswith("INTERNAL") else ""
        return ProviderError(
            f"Runway failed the {job.kind}{tries} ({code or 'no failure code'}); rerun to try again or {job.fix}."
        )

    def too_slow(self, job: Job, task_id: str, status: str, minutes: float, last: str | None) -> ShortsError:
        """The deadline passed: what became of the task, in one sentence."""
        if status in UNSTARTED:
            return ProviderError(
                f"Runway had not finished the {job.kind} after {minutes:g} minutes and would not "
                f"cancel task {task_id}; rerun the same command to resume waiting on it without a new "
                "charge.",
                retry_safe=True,
            )
        return ProviderError(
            f"Runway had not finished the {job.kind} after {minutes:g} minutes; task {task_id} had "
            f"started ({status}), so it is billed and was left to finish: rerun the same command to "
            f"collect it without a new charge, or raise {job.deadline_setting}."
        )

    def interrupted(self, job: Job, task_id: str) -> ShortsError:
        return ProviderError(
            f"Stopped waiting on Runway task {task_id} for the {job.kind} because the run was "
            "interrupted; it had started, so it is billed and was left to finish: rerun the same "
            "command to collect it without a new charge."
        )

"""Paid Runway tasks that are never bought twice: recorded before waiting, resumed after a crash, and on Ctrl-C or
the deadline cancelled only while Runway has not started them (a started task is billed, so it is left to finish and
the next run collects it)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import runwayml

from pipeline.errors import ConfigError, ProviderError
from pipeline.state.ledger import (
    CANCELLED, DONE, FAILED, GONE, IN_FLIGHT, REJECTED, UNCONFIRMED, UNKNOWN_TASK, Ledger, open_ledger,
)
from pipeline.providers.paid.download import download_checked, shared_http_client
from pipeline.providers.paid.inflight import Flight, pause, stop_flights, track, untrack
from pipeline.providers.paid.jobs import one_job_at_a_time, slot
from pipeline.providers.paid.send import send_paid
from pipeline.providers.runway.client import PROVIDER, ambiguous, nothing_made, runway_error
from pipeline.settings import Settings, default

DEFAULT_CONCURRENCY = 2
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
# Runway refunds a cancelled task only while it waits for a slot; a RUNNING one is billed whatever happens, and
# deleting a finished one deletes its output (tasks.delete docstring).
UNSTARTED = ("PENDING", "THROTTLED")

log = logging.getLogger("shorts.runway")


@dataclass
class Job:
    """One paid output: how to make it, how much it may cost, and how to check what comes back."""

    key: str
    kind: str  # "clip", "first frame" or "narration": for messages, and the ledger's kind
    model: str
    estimate: float
    label: str  # e.g. "scene 3 clip", for logs
    prepare: Callable[[runwayml.RunwayML], dict[str, Any]]  # free work before paying (uploads)
    create: Callable[[runwayml.RunwayML, dict[str, Any]], Any]
    verify: Callable[[Path], None]
    fix: str = "rerun with the offline provider"
    reword: str = "reword the scene's prompts"  # what to change when moderation rejects the job
    deadline_setting: str = "SHORTS_RUNWAY_DEADLINE_MINUTES"  # the setting that bounds the wait


class RunwayTasks:
    """Submits, waits on and downloads Runway tasks, writing each to the ledger before waiting on it."""

    def __init__(self, client: runwayml.RunwayML, ledger: Ledger, *,
                 poll_seconds: float = default("runway_poll_seconds"),
                 deadline_seconds: float = 60 * default("runway_deadline_minutes"),
                 max_credits_per_short: float = default("max_credits_per_short"),
                 max_credits_per_day: float = default("max_credits_per_day"),
                 concurrency: int | None = None, resubmit_unconfirmed: bool = False,
                 http_client: httpx.Client | None = None) -> None:
        self.client = client
        self.ledger = ledger
        self.poll_seconds = poll_seconds
        self.deadline_seconds = deadline_seconds
        self.max_credits_per_short = max_credits_per_short
        self.max_credits_per_day = max_credits_per_day
        self.concurrency = concurrency
        self.resubmit_unconfirmed = resubmit_unconfirmed
        self.http = http_client or shared_http_client()

    @classmethod
    def from_settings(cls, settings: Settings, client: runwayml.RunwayML, http_client: httpx.Client | None = None,
                      deadline_minutes: float | None = None) -> RunwayTasks:
        minutes = settings.runway_deadline_minutes if deadline_minutes is None else deadline_minutes
        return cls(client, open_ledger(settings), poll_seconds=settings.runway_poll_seconds,
                   deadline_seconds=minutes * 60,
                   max_credits_per_short=settings.max_credits_per_short,
                   max_credits_per_day=settings.max_credits_per_day, concurrency=settings.runway_concurrency,
                   resubmit_unconfirmed=settings.runway_resubmit_unconfirmed, http_client=http_client)

    def produce(self, job: Job, dest: Path) -> tuple[str, float]:
        """Write the job's output to `dest`; return (task id, credits this run paid)."""
        with one_job_at_a_time(self.ledger, PROVIDER, job.key, job.label), self._slot(job.model):
            for attempt in (1, 2):
                task, row, paid_before = self._obtain(job)
                if task.status == "SUCCEEDED":
                    self._download(job, task, dest)
                    self.ledger.update(row, status=DONE, credits_spent=float(task.cost.credits))
                    return task.id, 0.0 if paid_before else float(task.cost.credits)
                code = getattr(task, "failure_code", None) or ""
                self.ledger.update(row, status=FAILED if task.status == "FAILED" else CANCELLED,
                                   credits_spent=float(task.cost.credits), detail=code or None)
                if task.status == "FAILED" and code.startswith("INTERNAL") and attempt == 1:
                    log.warning("%s: Runway failed task %s (%s); trying once more", job.label, task.id, code)
                    continue
                raise _failure(job, task, code)
        raise AssertionError("unreachable")

    def _obtain(self, job: Job) -> tuple[Any, int, bool]:
        """A finished task for the job: the recorded one if there is one to resume, else a new one."""
        previous = self.ledger.latest(PROVIDER, job.key)
        if previous and previous.status in UNKNOWN_TASK and not self.resubmit_unconfirmed:
            raise ProviderError(
                f"An earlier run's Runway {job.kind} request ({previous.created_at:%Y-%m-%d %H:%M} UTC) was never "
                "confirmed, so a task may exist and be billed; check the tasks on dev.runwayml.com, then rerun with "
                "SHORTS_RUNWAY_RESUBMIT_UNCONFIRMED=1 to submit it again.")
        if previous and previous.task_id and previous.status in (IN_FLIGHT, DONE):
            log.info("%s: resuming Runway task %s from an earlier run (no new charge)", job.label, previous.task_id)
            try:
                return self._wait(job, previous.task_id, previous.row, first_pause=False), previous.row, \
                    previous.status == DONE
            except _TaskGone:
                self.ledger.update(previous.row, status=GONE)
                log.warning("%s: Runway no longer knows task %s; submitting a new one", job.label, previous.task_id)
        row, task_id = self._submit(job)
        return self._wait(job, task_id, row, first_pause=True), row, False

    def _submit(self, job: Job) -> tuple[int, str]:
        if job.estimate > self.max_credits_per_short:
            raise ConfigError(f"One {job.kind} with {job.model} is estimated at {job.estimate:g} credits, over "
                              f"SHORTS_MAX_CREDITS_PER_SHORT={self.max_credits_per_short:g}; raise it or pick a "
                              "cheaper model. Nothing was submitted.")
        try:
            payload = job.prepare(self.client)
        except runwayml.APIError as exc:
            raise runway_error(exc, f"preparing the {job.kind}", created=False) from exc
        row = self.ledger.reserve(key=job.key, provider=PROVIDER, kind=job.kind, model=job.model,
                                  estimate=job.estimate, daily_cap=self.max_credits_per_day)
        try:
            created = self._create(job, payload)
        except runwayml.APIError as exc:
            error = runway_error(exc, f"creating the {job.kind}", created=None)
            self.ledger.update(row, status=UNCONFIRMED if ambiguous(exc) else REJECTED, detail=error.message)
            raise error from exc
        except BaseException as exc:  # Ctrl-C or a bug mid-request: the task may exist, so say so next time
            self.ledger.update(row, status=UNCONFIRMED, detail=type(exc).__name__)
            raise
        estimate = getattr(getattr(created, "estimated_cost", None), "credits", job.estimate)
        self.ledger.update(row, task_id=created.id, status=IN_FLIGHT, credits_estimated=float(estimate))
        log.info("%s: Runway task %s submitted (%s, at most %g credits)", job.label, created.id, job.model, estimate)
        return row, created.id

    def _create(self, job: Job, payload: dict[str, Any]) -> Any:
        # The SDK would retry a POST on timeouts and 5xx without an idempotency key, paying twice; retry
        # here only where Runway cannot have made a task: a 429, or a connection that never opened.
        client = self.client.with_options(max_retries=0)
        return send_paid(lambda: job.create(client, payload), nothing_made, vendor="Runway", backoff=self.poll_seconds)

    def _wait(self, job: Job, task_id: str, row: int, first_pause: bool) -> Any:
        flight = Flight(task_id, "Runway", job.label, lambda reason: self.cancel(task_id, row, reason) == CANCELLED)
        track(flight)
        deadline = time.monotonic() + self.deadline_seconds
        seen: tuple[str, int] | None = None
        try:
            if first_pause:
                self._pause(job, flight)
            while True:
                task = self._retrieve(task_id)
                if flight.stop.is_set():  # stopped from another thread while this poll was on the wire
                    raise _interrupted(job, flight)
                progress = int((getattr(task, "progress", None) or 0) * 10) * 10
                if (task.status, progress) != seen:
                    seen = (task.status, progress)
                    more = f" {progress}%" if task.status == "RUNNING" else ""
                    log.info("%s: Runway task %s %s%s", job.label, task_id, task.status, more)
                    self.ledger.update(row, remote_status=task.status)
                if task.status in TERMINAL:
                    return task
                if time.monotonic() >= deadline:
                    status = self.cancel(task_id, row, f"not finished after {self.deadline_seconds / 60:g} minutes")
                    if status not in TERMINAL:
                        raise _too_slow(job, task_id, status, self.deadline_seconds / 60)
                    deadline = float("inf")  # it ended meanwhile: the next poll collects it
                self._pause(job, flight)
        except KeyboardInterrupt:
            stop_flights([flight], "interrupted (Ctrl-C)")
            raise
        finally:
            untrack(task_id)

    def _pause(self, job: Job, flight: Flight) -> None:
        # Runway asks for no more than one status check per 5 s per task; `pause` only ever waits longer.
        if pause(flight.stop, self.poll_seconds):
            raise _interrupted(job, flight)

    def _retrieve(self, task_id: str) -> Any:
        try:
            return self.client.tasks.retrieve(task_id)
        except runwayml.NotFoundError as exc:
            raise _TaskGone(task_id) from exc
        except runwayml.APIError as exc:
            raise runway_error(exc, f"checking task {task_id}", created=True) from exc

    def cancel(self, task_id: str, row: int, reason: str) -> str:
        """Cancel the task (DELETE) only if a fresh look finds Runway has not started it, and record why; never
        raises. Returns the ledger's CANCELLED if it did, else Runway's status for the task (UNKNOWN when Runway did
        not answer)."""
        client = self.client.with_options(max_retries=1, timeout=15.0)
        try:
            status = client.tasks.retrieve(task_id).status
        except runwayml.APIError:
            status = "UNKNOWN"  # it may be running: leave it, the next run asks again
        if status not in UNSTARTED:
            if status not in TERMINAL:
                log.warning("Runway task %s is %s, so it is billed and was left to finish (%s)", task_id, status,
                            reason)
                self.ledger.update(row, detail=f"{reason}; left {status.lower()} at Runway")
            return status
        try:
            client.tasks.delete(task_id)
        except runwayml.NotFoundError:
            pass
        except runwayml.APIError as exc:
            # Still recorded as in flight, so the next run resumes the task rather than paying for another.
            log.warning("Could not cancel Runway task %s (%s); cancel it on dev.runwayml.com", task_id,
                        type(exc).__name__)
            self.ledger.update(row, detail=f"{reason}; cancelling failed")
            return status
        log.warning("Runway task %s cancelled before it started (no charge): %s", task_id, reason)
        self.ledger.update(row, status=CANCELLED, detail=reason)
        return CANCELLED

    def _download(self, job: Job, task: Any, dest: Path) -> None:
        def fresh_url(problem: str) -> str | None:
            log.info("%s: download failed (%s); asking Runway for a fresh URL", job.label, problem)
            try:
                again = self._retrieve(task.id)
            except _TaskGone as exc:
                raise ProviderError(f"Runway deleted task {task.id} before its {job.kind} was downloaded; "
                                    "rerun to submit it again.") from exc
            return _output(again)

        problem = download_checked(self.http, _output(task), dest, job.verify, fresh_url)
        if problem:
            raise ProviderError(f"Could not download the finished {job.kind} of Runway task {task.id} ({problem}); "
                                "rerun the same command to fetch it again without a new charge.", retry_safe=True)

    def _slot(self, model: str) -> threading.BoundedSemaphore:
        return slot(("runway", str(self.client.base_url), model),
                    lambda: self.concurrency or self._tier_concurrency(model))

    def _tier_concurrency(self, model: str) -> int:
        try:
            limits = self.client.organization.retrieve().tier.models.get(model)
        except runwayml.APIError:
            return DEFAULT_CONCURRENCY
        return (limits.max_concurrent_generations if limits else None) or DEFAULT_CONCURRENCY


class _TaskGone(Exception):
    """Runway answered 404 for a task id."""


def _output(task: Any) -> str | None:
    return task.output[0] if getattr(task, "output", None) else None


def _interrupted(job: Job, flight: Flight) -> ProviderError:
    if flight.wait_settled():
        return ProviderError(f"Runway task {flight.task_id} for the {job.kind} was cancelled before it started (no "
                             "charge) because the run was interrupted; rerun to submit it again.")
    return ProviderError(f"Stopped waiting on Runway task {flight.task_id} for the {job.kind} because the run was "
                         "interrupted; it had started, so it is billed and was left to finish: rerun the same command "
                         "to collect it without a new charge.")


def _too_slow(job: Job, task_id: str, status: str, minutes: float) -> ProviderError:
    """The deadline passed: what became of the task, in one sentence."""
    if status == CANCELLED:
        return ProviderError(f"Runway had not started the {job.kind} after {minutes:g} minutes, so task {task_id} was "
                             "cancelled before it cost anything; rerun to try again or raise "
                             f"{job.deadline_setting}.")
    if status in UNSTARTED:
        return ProviderError(f"Runway had not finished the {job.kind} after {minutes:g} minutes and would not cancel "
                             f"task {task_id}; rerun the same command to resume waiting on it without a new charge.",
                             retry_safe=True)
    return ProviderError(f"Runway had not finished the {job.kind} after {minutes:g} minutes; task {task_id} had "
                         f"started ({status}), so it is billed and was left to finish: rerun the same command to "
                         f"collect it without a new charge, or raise {job.deadline_setting}.")


def _failure(job: Job, task: Any, code: str) -> ProviderError:
    """A finished task that made nothing, as one sentence; never retried, as a retry would pay again."""
    if task.status == "CANCELLED":
        return ProviderError(f"Runway reports task {task.id} was cancelled (from the dashboard or another run); "
                             f"rerun to submit the {job.kind} again.")
    if "SAFETY" in code:
        return ProviderError(f"Runway's moderation rejected the {job.kind} ({code}); {job.reword} or {job.fix}.")
    if code.startswith("ASSET"):
        return ProviderError(f"Runway could not use the input image ({code}); {job.fix}.")
    tries = " twice" if code.startswith("INTERNAL") else ""
    return ProviderError(f"Runway failed the {job.kind}{tries} ({code or 'no failure code'}); rerun to try again "
                         f"or {job.fix}.")

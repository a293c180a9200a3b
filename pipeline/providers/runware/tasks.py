"""Paid Runware tasks that are never bought twice: the client-made taskUUID is in the ledger before the task is
sent, so a rerun (or an answer lost on the way back) polls that task instead of submitting another."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import ConfigError, ProviderError
from pipeline.state.ledger import (
    DONE, FAILED, GONE, IN_FLIGHT, REJECTED, UNCONFIRMED, UNKNOWN_TASK, USD, Ledger, open_ledger,
)
from pipeline.providers.paid.download import download_checked, shared_http_client
from pipeline.providers.paid.inflight import Flight, pause, stop_flights, track, untrack
from pipeline.providers.paid.jobs import one_job_at_a_time, slot
from pipeline.providers.paid.send import send_paid
from pipeline.providers.runware.client import PROVIDER, RunwareAPIError, RunwareClient, nothing_made, runware_error
from pipeline.settings import Settings

POLL_FAILURES = 5  # transient failures in a row before a wait gives up (a rerun resumes it)
UNKNOWN_POLLS = 3  # at least this many polls with no trace of an unconfirmed task (and the wait) before "never made"
TERMINAL = ("success", "error")

log = logging.getLogger("shorts.runware")


@dataclass
class RunwareJob:
    """One paid output: the task to send (without its taskUUID), its most cost, and how to check what comes back."""

    key: str
    kind: str  # "clip", for messages
    model: str
    estimate: float  # dollars, at most
    label: str  # e.g. "scene 3 clip", for logs
    task: Callable[[], dict[str, Any]]  # free work before paying (reading the first frame)
    verify: Callable[[Path], None]
    url_field: str = "videoURL"
    fix: str = "rerun with the offline provider"


class _TaskUnknown(Exception):
    """Runware has no trace of a task whose submission was never confirmed."""


class _TaskGone(Exception):
    """Runware answers that it has no such task (any more): failed, cancelled, expired or never made."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("code"))
        self.error = error


@dataclass
class _Watch:
    """What one wait on a task has seen so far."""

    confirmed: bool  # Runware acknowledged the task, or a poll has listed it
    since: float  # time.monotonic() when the task was sent, for how long an unconfirmed one is looked for
    seen: str | None = None
    unknown: int = 0
    failures: int = 0


@dataclass(frozen=True)
class RunwareLimits:
    """How often and how long to wait on a task, how many run at once, and how many dollars may go."""

    poll_seconds: float = 2.0  # the first pause; each next one is 1.5 times longer, up to max_poll_seconds
    max_poll_seconds: float = 10.0
    deadline_seconds: float = 1200.0
    max_usd_per_short: float = 10.0
    max_usd_per_day: float = 50.0
    concurrency: int = 2
    # A submission whose answer was lost (a timeout after up to 60 s, a 5xx from a proxy) may still be on its way
    # into Runware's queue, so "no trace" counts as "never made", and the task is bought again, only after three
    # times the submit's own timeout: a slow registration must not lead to a second purchase.
    unconfirmed_wait_seconds: float = 180.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RunwareLimits:
        return cls(settings.runware_poll_seconds, settings.runware_max_poll_seconds,
                   settings.runware_deadline_minutes * 60, settings.max_usd_per_short, settings.max_usd_per_day,
                   settings.runware_concurrency, settings.runware_unconfirmed_wait_seconds)


class RunwareTasks:
    """Submits, waits on and downloads Runware tasks; every taskUUID is in the ledger before it is sent."""

    def __init__(self, client: RunwareClient, ledger: Ledger, limits: RunwareLimits = RunwareLimits(),
                 http_client: httpx.Client | None = None) -> None:
        self.client = client
        self.ledger = ledger
        self.limits = limits
        self.http = http_client or shared_http_client()

    @classmethod
    def from_settings(cls, settings: Settings, client: RunwareClient, http_client: httpx.Client | None = None
                      ) -> RunwareTasks:
        return cls(client, open_ledger(settings), RunwareLimits.from_settings(settings), http_client)

    def produce(self, job: RunwareJob, dest: Path) -> tuple[str, float]:
        """Write the job's output to `dest`; return (taskUUID, dollars this run paid)."""
        with one_job_at_a_time(self.ledger, PROVIDER, job.key, job.label), self._slot(job.model):
            task_uuid, item, row, paid_before = self._obtain(job)
            cost = _cost(item)
            if item.get("status") == "error":
                error = item.get("error") if isinstance(item.get("error"), dict) else {}
                self.ledger.update(row, status=FAILED, credits_spent=cost or 0.0, detail=str(error.get("code") or "?"))
                raise _failure(job, task_uuid, error, gone=bool(item.get("gone")))
            if cost is None:
                log.warning("%s: Runware reported no cost for task %s; counting the estimate", job.label, task_uuid)
                cost = job.estimate
            self.ledger.update(row, credits_spent=cost)
            self._download(job, task_uuid, item, dest)
            self.ledger.update(row, status=DONE)
            return task_uuid, 0.0 if paid_before else cost

    def _obtain(self, job: RunwareJob) -> tuple[str, dict[str, Any], int, bool]:
        """A finished task for the job: the recorded one if Runware knows it, else a new one."""
        previous = self.ledger.latest(PROVIDER, job.key)
        if previous and previous.task_id and previous.status in (*UNKNOWN_TASK, IN_FLIGHT, DONE):
            log.info("%s: checking Runware task %s from an earlier run (no new charge)", job.label, previous.task_id)
            age = (datetime.now(timezone.utc) - previous.created_at).total_seconds()
            try:
                item = self._wait(job, previous.task_id, previous.row, first_pause=False,
                                  confirmed=previous.status not in UNKNOWN_TASK, since=time.monotonic() - age)
                return previous.task_id, item, previous.row, previous.status == DONE
            except _TaskUnknown:
                self.ledger.update(previous.row, status=GONE, detail="Runware has no trace of it")
                log.warning("%s: Runware has no trace of task %s, so it was never made; submitting it now",
                            job.label, previous.task_id)
        sent = time.monotonic()
        row, task_uuid, confirmed = self._submit(job)
        try:
            return task_uuid, self._wait(job, task_uuid, row, first_pause=True, confirmed=confirmed, since=sent), \
                row, False
        except _TaskUnknown as exc:
            raise ProviderError(
                f"Runware did not confirm the {job.kind} request and has no trace of task {task_uuid}; rerun the "
                "same command: it checks that task again and submits a new one only if Runware still has none."
            ) from exc

    def _submit(self, job: RunwareJob) -> tuple[int, str, bool]:
        """Send the job's task; (ledger row, taskUUID, whether Runware acknowledged it)."""
        limits = self.limits
        if job.estimate > limits.max_usd_per_short:
            raise ConfigError(f"One {job.kind} with {job.model} is estimated at ${job.estimate:.2f}, over "
                              f"SHORTS_MAX_USD_PER_SHORT={limits.max_usd_per_short:g}; raise it or pick a cheaper "
                              "model. Nothing was submitted.")
        task_uuid = str(uuid.uuid4())
        task = dict(job.task(), taskUUID=task_uuid)
        row = self.ledger.reserve(key=job.key, provider=PROVIDER, kind=job.kind, model=job.model,
                                  estimate=job.estimate, daily_cap=limits.max_usd_per_day, unit=USD, task_id=task_uuid)
        try:
            self._send(task)
        except RunwareAPIError as exc:
            if exc.ambiguous:  # it may exist: find out by polling its UUID, never by sending it again
                self.ledger.update(row, status=UNCONFIRMED, detail=f"submit got {exc.what}")
                log.warning("%s: Runware did not confirm task %s (%s); checking whether it exists", job.label,
                            task_uuid, exc.what)
                return row, task_uuid, False
            error = runware_error(exc, f"submitting the {job.kind}", self.client.host)
            self.ledger.update(row, status=REJECTED, detail=error.message)
            raise error from exc
        except BaseException as exc:  # Ctrl-C or a bug mid-request: the next run asks Runware about this UUID
            self.ledger.update(row, status=UNCONFIRMED, detail=type(exc).__name__)
            raise
        self.ledger.update(row, status=IN_FLIGHT)
        log.info("%s: Runware task %s submitted (%s, at most $%.2f)", job.label, task_uuid, job.model, job.estimate)
        return row, task_uuid, True

    def _send(self, task: dict[str, Any]) -> None:
        send_paid(lambda: self.client.run(task), nothing_made, vendor="Runware", backoff=self.limits.poll_seconds)

    def _wait(self, job: RunwareJob, task_uuid: str, row: int, *, first_pause: bool, confirmed: bool, since: float
              ) -> dict[str, Any]:
        flight = Flight(task_uuid, "Runware", job.label, lambda reason: self._stop_waiting(task_uuid, row, reason))
        track(flight)
        watch = _Watch(confirmed, since)
        minutes = self.limits.deadline_seconds / 60
        deadline = time.monotonic() + self.limits.deadline_seconds
        delay = self.limits.poll_seconds
        try:
            if first_pause:
                self._pause(job, flight, delay)
            while True:
                item = self._check(job, task_uuid, row, watch)
                if flight.stop.is_set():  # stopped from another thread while this poll was on the wire
                    raise _interrupted(job, task_uuid)
                if item:
                    return item
                if time.monotonic() >= deadline:
                    raise ProviderError(
                        f"Runware had not finished the {job.kind} after {minutes:g} minutes (task "
                        f"{task_uuid}, last {watch.seen or 'unanswered'}); it cannot be cancelled, so rerun the same "
                        "command to resume waiting on it without a new charge, or raise "
                        "SHORTS_RUNWARE_DEADLINE_MINUTES.", retry_safe=True)
                self._pause(job, flight, delay)
                delay = min(delay * 1.5, self.limits.max_poll_seconds)
        except KeyboardInterrupt:
            stop_flights([flight], "interrupted (Ctrl-C)")
            raise
        finally:
            untrack(task_uuid)

    def _check(self, job: RunwareJob, task_uuid: str, row: int, watch: _Watch) -> dict[str, Any] | None:
        """Poll once; the task's item when it has finished, else None."""
        try:
            item = self._poll(task_uuid)
        except _TaskGone as gone:
            if watch.confirmed:  # Runware had it: it failed, was cancelled or expired, and no clip will come
                self.ledger.update(row, remote_status=str(gone.error.get("code")))
                return {"taskUUID": task_uuid, "status": "error", "error": gone.error, "gone": True}
            item = None  # never confirmed: perhaps never made, perhaps not registered yet
        except RunwareAPIError as exc:
            watch.failures += 1
            passing = exc.status is None or exc.status >= 500 or exc.status in (408, 429)
            if not passing or watch.failures >= POLL_FAILURES:
                raise runware_error(exc, f"checking task {task_uuid}", self.client.host) from exc
            log.info("%s: could not check Runware task %s (%s); trying again", job.label, task_uuid, exc.what)
            return None
        watch.failures = 0
        if item is None:
            watch.unknown += 1
            waited = time.monotonic() - watch.since >= self.limits.unconfirmed_wait_seconds
            if not watch.confirmed and watch.unknown >= UNKNOWN_POLLS and waited:
                raise _TaskUnknown(task_uuid)
            return None  # an acknowledged task that is not listed yet is still queued
        if not watch.confirmed:
            watch.confirmed = True
            self.ledger.update(row, status=IN_FLIGHT)
            log.info("%s: Runware has task %s after all (no new charge)", job.label, task_uuid)
        status = str(item.get("status"))
        if status != watch.seen:
            watch.seen = status
            log.info("%s: Runware task %s %s", job.label, task_uuid, status)
            self.ledger.update(row, remote_status=status)
        return item if status in TERMINAL else None

    def _pause(self, job: RunwareJob, flight: Flight, seconds: float) -> None:
        if pause(flight.stop, seconds):
            raise _interrupted(job, flight.task_id)

    def _poll(self, task_uuid: str) -> dict[str, Any] | None:
        """What Runware says of the task: its newest item, None when it lists nothing yet, or _TaskGone."""
        try:
            items = self.client.run({"taskType": "getResponse", "taskUUID": task_uuid})
        except RunwareAPIError as exc:
            if exc.gone:
                raise _TaskGone(exc.first) from exc
            # The task's own failure may come back as an error naming the task's type; one naming getResponse
            # is about the poll, and must not mark a task failed that may still be running.
            if exc.status in (400, 422) and exc.first.get("taskType") not in (None, "getResponse"):
                return {"taskUUID": task_uuid, "status": "error", "error": exc.first}
            raise
        mine = [item for item in items if item.get("taskUUID", task_uuid) == task_uuid]
        # Polls repeat finished items, so the most advanced one wins.
        rank = {"success": 2, "error": 1}
        return max(mine, key=lambda item: rank.get(str(item.get("status")), 0), default=None)

    def _stop_waiting(self, task_uuid: str, row: int, reason: str) -> bool:
        """Runware cannot cancel a task: stop waiting, and leave it in the ledger for the next run to collect."""
        self.ledger.update(row, detail=f"{reason}; still running at Runware")
        return False

    def _download(self, job: RunwareJob, task_uuid: str, item: dict[str, Any], dest: Path) -> None:
        def fresh_url(problem: str) -> str | None:
            log.info("%s: download failed (%s); asking Runware for the result again", job.label, problem)
            try:
                again = self._poll(task_uuid)
            except _TaskGone:
                return None
            except RunwareAPIError as exc:
                raise runware_error(exc, f"checking task {task_uuid}", self.client.host) from exc
            return again.get(job.url_field) if again else None

        problem = download_checked(self.http, item.get(job.url_field), dest, job.verify, fresh_url)
        if problem:
            raise ProviderError(f"Could not download the finished {job.kind} of Runware task {task_uuid} ({problem}); "
                                "rerun the same command to fetch it again without a new charge.", retry_safe=True)

    def _slot(self, model: str) -> threading.BoundedSemaphore:
        return slot((PROVIDER, self.client.base_url, model), lambda: self.limits.concurrency)


def _cost(item: dict[str, Any]) -> float | None:
    try:
        return float(item["cost"])
    except (KeyError, TypeError, ValueError):
        return None


def _interrupted(job: RunwareJob, task_uuid: str) -> ProviderError:
    return ProviderError(f"Stopped waiting on Runware task {task_uuid} for the {job.kind} because the run was "
                         "interrupted; it cannot be cancelled, so rerun the same command to collect it without a new "
                         "charge.")


def _failure(job: RunwareJob, task_uuid: str, error: dict[str, Any], gone: bool = False) -> ProviderError:
    """A finished task that made nothing, as one sentence; never retried, as a retry would pay again."""
    code = str(error.get("code") or "no error code")
    message = str(error.get("message") or "").strip()[:300].rstrip(".")
    said = f"{code}: {message}" if message else code
    if gone:
        return ProviderError(f"Runware no longer has task {task_uuid} ({said}): it failed, was cancelled or expired, "
                             f"so no {job.kind} will come; rerun to submit it again or {job.fix}.")
    return ProviderError(f"Runware failed the {job.kind} (task {task_uuid}, {said}); rerun to try again or {job.fix}.")

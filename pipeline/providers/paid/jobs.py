"""Paid remote jobs (a clip, a first frame, Runway's speech) that are never bought twice, whatever the vendor.

`PaidJobs.produce()` runs one job: reserve in the ledger, create, wait with a deadline (tracked, so Ctrl-C cancels it
only while the vendor has not started it), download, verify, record. A rerun finds the recorded task and collects it
instead of paying again. What differs between vendors is a small adapter (`Vendor`): create, retrieve,
cancel-if-not-started, output, and the sentences that say what happened.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import httpx

from pipeline.errors import ConfigError, ProviderError, ShortsError
from pipeline.providers.base import Shared
from pipeline.providers.paid.download import download_checked, shared_http_client
from pipeline.providers.paid.inflight import Flight, pause, stop_flights, track, untrack
from pipeline.providers.paid.send import Unmade, send_paid
from pipeline.state.ledger import (
    CANCELLED,
    DONE,
    FAILED,
    GONE,
    IN_FLIGHT,
    REJECTED,
    UNCONFIRMED,
    UNKNOWN_TASK,
    USD,
    Ledger,
)

POLL_FAILURES = 5  # transient poll failures in a row before a wait gives up (a rerun resumes it)
UNKNOWN_POLLS = 3  # at least this many polls with no trace of an unconfirmed task (and the wait) before "never made"

log = logging.getLogger("shorts.remote")

_SLOTS: dict[tuple[str, ...], threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


@dataclass
class Job:
    """One paid output: how to make it, how much it may cost, and how to check what comes back."""

    key: str  # everything that decides the paid task: the same key on a rerun means "resume, don't pay again"
    kind: str  # "clip", "first frame" or "narration": for messages, and the ledger's kind
    model: str
    estimate: float  # at most, in the vendor's unit
    label: str  # e.g. "scene 3 clip", for logs
    prepare: Callable[[], dict[str, Any]]  # free work before paying (uploads, reading the first frame)
    verify: Callable[[Path], None]
    endpoint: str = ""  # what the vendor is asked to make, where it has several (Runway's "image_to_video")
    fix: str = "rerun with the offline provider"
    reword: str = "reword the scene's prompts"  # what to change when moderation rejects the job
    deadline_setting: str = ""  # the setting that bounds the wait, for messages (else the vendor's own)


@dataclass(frozen=True)
class Limits:
    """How often and how long to wait on a task, how many run at once, and how much may go."""

    poll_seconds: float  # the first pause; each next one is 1.5 times longer, up to max_poll_seconds
    max_poll_seconds: float
    deadline_seconds: float
    max_per_short: float  # in the vendor's unit
    max_per_day: float
    # A task whose creation was never confirmed (and whose id is ours) counts as never made only after this long
    # without a trace of it: a slow registration must not lead to a second purchase.
    unconfirmed_wait_seconds: float
    resubmit_unconfirmed: bool = False  # for a vendor that makes the ids: the user checked, and pays again


@dataclass
class Seen:
    """What the vendor says of a task now."""

    status: str  # the vendor's word, for logs and the ledger
    finished: bool = False
    made: bool = False  # finished with an output
    cost: float | None = None
    url: str | None = None
    code: str = ""  # why it made nothing
    progress: str = ""  # e.g. " 40%", for logs
    cancelled: bool = False  # ended by a cancellation rather than a failure
    gone: bool = False  # the vendor has no such task any more (failed, cancelled or expired)
    raw: Any = None


class TaskGone(Exception):
    """The vendor has no task by this id: never made, or no longer kept."""


class PollFailed(Exception):
    """A poll got no usable answer but may next time; `error` says so in one sentence if it keeps failing."""

    def __init__(self, what: str, error: ShortsError) -> None:
        super().__init__(what)
        self.what = what
        self.error = error


class Vendor(Protocol):
    """What `PaidJobs` asks of a vendor."""

    name: str  # "Runway", for messages
    provider: str  # "runway", for the ledger
    unit: str  # the ledger's unit of its prices
    client_ids: bool  # the task id is made here and recorded before sending, so a lost answer is looked up
    creating: str  # its word for sending a task ("creating", "submitting"), for messages
    dashboard: str  # where the user sees the account's tasks

    @property
    def api_errors(self) -> tuple[type[Exception], ...]:
        """The vendor's own failures, which `refused` translates (read-only, so a vendor may name narrower ones)."""

    def new_id(self) -> str | None:
        """The id to record before sending, where the client makes it; None where the vendor numbers its tasks."""

    def create(self, job: Job, payload: dict[str, Any], task_id: str | None) -> tuple[str, float | None]:
        """Send the task once, with no SDK retries; (its id, the vendor's own estimate if it gives one)."""

    def nothing_made(self, exc: Exception) -> Unmade | None:
        """Whether `create`'s failure proves no task was made (so `send_paid` may send it again)."""

    def refused(self, exc: Exception, doing: str, created: bool | None) -> tuple[bool, ShortsError]:
        """(whether a task may exist although the answer was lost, the failure in one sentence)."""

    def retrieve(self, task_id: str, confirmed: bool) -> Seen | None:
        """What the vendor says of the task now; None while it lists nothing; TaskGone, PollFailed or one sentence."""

    def cancel_if_unstarted(self, task_id: str, reason: str) -> tuple[str, str | None]:
        """Cancel the task only if the vendor has not started it; never raises. (CANCELLED, "ENDED" when it has
        finished, or the status that kept it running; the ledger note saying why it was left.)"""

    def output(self, job: Job, task_id: str) -> str | None:
        """A fresh URL of the finished task's output (the last one failed to download)."""

    def slot(self, model: str) -> tuple[tuple[str, ...], Callable[[], int]]:
        """The key of the tasks that share a concurrency limit, and how to learn the limit."""

    def worth_another_try(self, seen: Seen) -> bool:
        """Whether a task that made nothing is worth one new task (the vendor's own failure, not billed)."""

    def failure(self, job: Job, task_id: str, seen: Seen) -> ShortsError:
        """A finished task that made nothing, as one sentence; never retried, as a retry would pay again."""

    def too_slow(self, job: Job, task_id: str, status: str, minutes: float, last: str | None) -> ShortsError:
        """The deadline passed and the task was left running (`status` from `cancel_if_unstarted`)."""

    def interrupted(self, job: Job, task_id: str) -> ShortsError:
        """The run was interrupted while the task, not cancelled, ran on."""


@dataclass
class _Watch:
    """What one wait on a task has seen so far."""

    confirmed: bool  # the vendor acknowledged the task, or a poll has listed it
    since: float  # time.monotonic() when the task was sent, for how long an unconfirmed one is looked for
    seen: tuple[str, str] | None = None
    unknown: int = 0
    failures: int = 0
    last: str | None = None  # the status of the last answer


V = TypeVar("V", bound=Vendor)


class PaidJobs(Generic[V]):
    """Submits, waits on and downloads one vendor's tasks, writing each to the ledger before waiting on it."""

    def __init__(self, vendor: V, ledger: Ledger, limits: Limits, http_client: httpx.Client | None = None) -> None:
        self.vendor = vendor
        self.ledger = ledger
        self.limits = limits
        self.http = http_client or shared_http_client()

    def produce(self, job: Job, dest: Path) -> tuple[str, float]:
        """Write the job's output to `dest`; return (task id, what this run paid, in the vendor's unit)."""
        vendor = self.vendor
        setting = job.deadline_setting or f"SHORTS_{vendor.provider.upper()}_DEADLINE_MINUTES"
        job = replace(job, deadline_setting=setting)
        key, size = vendor.slot(job.model)
        with one_job_at_a_time(self.ledger, vendor.provider, job.key, job.label), slot(key, size):
            retried = False
            while True:
                task_id, seen, row, paid_before = self._obtain(job)
                if seen.made:
                    cost = seen.cost
                    if cost is None:
                        log.warning(
                            "%s: %s reported no cost for task %s; counting the estimate",
                            job.label,
                            vendor.name,
                            task_id,
                        )
                        cost = job.estimate
                    self.ledger.update(row, amount_spent=cost)
                    self._download(job, task_id, seen, dest)
                    self.ledger.update(row, status=DONE)
                    return task_id, 0.0 if paid_before else cost
                self.ledger.update(
                    row,
                    status=CANCELLED if seen.cancelled else FAILED,
                    amount_spent=seen.cost or 0.0,
                    detail=seen.code or None,
                )
                if retried or not vendor.worth_another_try(seen):
                    raise vendor.failure(job, task_id, seen)
                log.warning("%s: %s failed task %s (%s); trying once more", job.label, vendor.name, task_id, seen.code)
                retried = True

    def _obtain(self, job: Job) -> tuple[str, Seen, int, bool]:
        """A finished task for the job: the recorded one if the vendor still has it, else a new one."""
        vendor = self.vendor
        previous = self.ledger.latest(vendor.provider, job.key)
        lookable = vendor.client_ids or self.limits.resubmit_unconfirmed
        if previous and previous.status in UNKNOWN_TASK and not lookable:
            raise ProviderError(
                f"An earlier run's {vendor.name} {job.kind} request ({previous.created_at:%Y-%m-%d %H:%M} UTC) was "
                f"never confirmed, so a task may exist and be billed; check the tasks on {vendor.dashboard}, then "
                f"rerun with SHORTS_{vendor.provider.upper()}_RESUBMIT_UNCONFIRMED=1 to submit it again."
            )
        resumable = (IN_FLIGHT, DONE, *(UNKNOWN_TASK if vendor.client_ids else ()))
        if previous and previous.task_id and previous.status in resumable:
            # A task whose id is ours may never have been made: it is looked up, not yet resumed.
            log.info(
                "%s: %s %s task %s from an earlier run (no new charge)",
                job.label,
                "checking" if vendor.client_ids else "resuming",
                vendor.name,
                previous.task_id,
            )
            age = (datetime.now(UTC) - previous.created_at).total_seconds()
            try:
                seen = self._wait(
                    job,
                    previous.task_id,
                    previous.row,
                    first_pause=False,
                    watch=_Watch(previous.status not in UNKNOWN_TASK, time.monotonic() - age),
                )
                return previous.task_id, seen, previous.row, previous.status == DONE
            except TaskGone:
                self.ledger.update(previous.row, status=GONE, detail=f"{vendor.name} has no trace of it")
                log.warning(
                    "%s: %s has no trace of task %s, so it was never made or is gone; submitting a new one",
                    job.label,
                    vendor.name,
                    previous.task_id,
                )
        sent = time.monotonic()
        row, task_id, confirmed = self._submit(job)
        try:
            return task_id, self._wait(job, task_id, row, first_pause=True, watch=_Watch(confirmed, sent)), row, False
        except TaskGone as exc:
            raise ProviderError(
                f"{vendor.name} did not confirm the {job.kind} request and has no trace of task {task_id}; rerun the "
                f"same command: it checks that task again and submits a new one only if {vendor.name} still has "
                "none."
            ) from exc

    def _submit(self, job: Job) -> tuple[int, str, bool]:
        """Create the job's task; (ledger row, task id, whether the vendor acknowledged it)."""
        vendor, limits = self.vendor, self.limits
        if job.estimate > limits.max_per_short:
            usd = vendor.unit == USD
            price = f"${job.estimate:.2f}" if usd else f"{job.estimate:g} credits"
            raise ConfigError(
                f"One {job.kind} with {job.model} is estimated at {price}, over "
                f"SHORTS_MAX_{'USD' if usd else 'CREDITS'}_PER_SHORT={limits.max_per_short:g}; raise it "
                "or pick a cheaper model. Nothing was submitted."
            )
        try:
            payload = job.prepare()
        except vendor.api_errors as exc:
            raise vendor.refused(exc, f"preparing the {job.kind}", False)[1] from exc
        task_id = vendor.new_id()
        row = self.ledger.reserve(
            key=job.key,
            provider=vendor.provider,
            kind=job.kind,
            model=job.model,
            estimate=job.estimate,
            daily_cap=limits.max_per_day,
            unit=vendor.unit,
            task_id=task_id or None,
        )
        try:
            task_id, estimate = send_paid(
                lambda: vendor.create(job, payload, task_id),
                vendor.nothing_made,
                vendor=vendor.name,
                backoff=limits.poll_seconds,
            )
        except vendor.api_errors as exc:
            lost, error = vendor.refused(exc, f"{vendor.creating} the {job.kind}", None)
            if lost and task_id:  # it may exist: find out by looking up its id, never by sending it again
                self.ledger.update(row, status=UNCONFIRMED, detail=f"submit got {exc}")
                log.warning(
                    "%s: %s did not confirm task %s (%s); checking whether it exists",
                    job.label,
                    vendor.name,
                    task_id,
                    exc,
                )
                return row, task_id, False
            self.ledger.update(row, status=UNCONFIRMED if lost else REJECTED, detail=error.message)
            raise error from exc
        except BaseException as exc:  # Ctrl-C or a bug mid-request: the task may exist, so say so next time
            self.ledger.update(row, status=UNCONFIRMED, detail=type(exc).__name__)
            raise
        self.ledger.update(
            row, task_id=task_id, status=IN_FLIGHT, **({"amount_estimated": estimate} if estimate is not None else {})
        )
        log.info(
            "%s: %s task %s submitted (%s, at most %s)",
            job.label,
            vendor.name,
            task_id,
            job.model,
            f"${job.estimate:.2f}" if vendor.unit == USD else f"{estimate or job.estimate:g} credits",
        )
        return row, task_id, True

    def _wait(self, job: Job, task_id: str, row: int, *, first_pause: bool, watch: _Watch) -> Seen:
        vendor, limits = self.vendor, self.limits
        flight = Flight(task_id, vendor.name, job.label, lambda reason: self.cancel(task_id, row, reason) == CANCELLED)
        track(flight)
        minutes = limits.deadline_seconds / 60
        deadline = time.monotonic() + limits.deadline_seconds
        delay = limits.poll_seconds
        try:
            if first_pause:
                self._pause(job, flight, delay)
            while True:
                seen = self._check(job, task_id, row, watch)
                if flight.stop.is_set():  # stopped from another thread while this poll was on the wire
                    raise _interrupted(vendor, job, flight)
                if seen:
                    return seen
                if time.monotonic() >= deadline:
                    status = self.cancel(task_id, row, f"not finished after {minutes:g} minutes")
                    if status == CANCELLED:
                        raise ProviderError(
                            f"{vendor.name} had not started the {job.kind} after {minutes:g} minutes, so task "
                            f"{task_id} was cancelled before it cost anything; rerun to try again or raise "
                            f"{job.deadline_setting}."
                        )
                    if status != "ENDED":
                        raise vendor.too_slow(job, task_id, status, minutes, watch.last)
                    deadline = float("inf")  # it ended meanwhile: the next poll collects it
                self._pause(job, flight, delay)
                delay = min(delay * 1.5, limits.max_poll_seconds)
        except KeyboardInterrupt:
            stop_flights([flight], "interrupted (Ctrl-C)")
            raise
        finally:
            untrack(task_id)

    def _check(self, job: Job, task_id: str, row: int, watch: _Watch) -> Seen | None:
        """Poll once; what the vendor says of the task once it has finished, else None."""
        try:
            seen = self.vendor.retrieve(task_id, watch.confirmed)
        except PollFailed as failed:
            watch.failures += 1
            if watch.failures >= POLL_FAILURES:
                raise failed.error from failed
            log.info(
                "%s: could not check %s task %s (%s); trying again", job.label, self.vendor.name, task_id, failed.what
            )
            return None
        watch.failures = 0
        if seen is None:  # unlisted: an acknowledged task is still queued, an unconfirmed one may never have been made
            watch.unknown += 1
            waited = time.monotonic() - watch.since >= self.limits.unconfirmed_wait_seconds
            if not watch.confirmed and watch.unknown >= UNKNOWN_POLLS and waited:
                raise TaskGone(task_id)
            return None
        if not watch.confirmed:
            watch.confirmed = True
            self.ledger.update(row, status=IN_FLIGHT)
            log.info("%s: %s has task %s after all (no new charge)", job.label, self.vendor.name, task_id)
        watch.last = seen.status
        if (seen.status, seen.progress) != watch.seen:
            watch.seen = (seen.status, seen.progress)
            log.info("%s: %s task %s %s%s", job.label, self.vendor.name, task_id, seen.status, seen.progress)
            self.ledger.update(row, remote_status=seen.status)
        return seen if seen.finished else None

    def _pause(self, job: Job, flight: Flight, seconds: float) -> None:
        if pause(flight.stop, seconds):
            raise _interrupted(self.vendor, job, flight)

    def cancel(self, task_id: str, row: int, reason: str) -> str:
        """Cancel the task only if the vendor has not started it, and record why; never raises. Returns CANCELLED if
        it did, "ENDED" if the task has finished meanwhile, else the vendor's status for it."""
        status, detail = self.vendor.cancel_if_unstarted(task_id, reason)
        if status == CANCELLED:
            log.warning("%s task %s cancelled before it started (no charge): %s", self.vendor.name, task_id, reason)
            self.ledger.update(row, status=CANCELLED, detail=reason)
        elif detail:
            self.ledger.update(row, detail=detail)
        return status

    def _download(self, job: Job, task_id: str, seen: Seen, dest: Path) -> None:
        def fresh_url(problem: str) -> str | None:
            log.info("%s: download failed (%s); asking %s for the result again", job.label, problem, self.vendor.name)
            return self.vendor.output(job, task_id)

        problem = download_checked(self.http, seen.url, dest, job.verify, fresh_url)
        if problem:
            raise ProviderError(
                f"Could not download the finished {job.kind} of {self.vendor.name} task {task_id} "
                f"({problem}); rerun the same command to fetch it again without a new charge.",
                retry_safe=True,
            )


def _interrupted(vendor: Vendor, job: Job, flight: Flight) -> ShortsError:
    if flight.wait_settled():
        return ProviderError(
            f"{vendor.name} task {flight.task_id} for the {job.kind} was cancelled before it started "
            "(no charge) because the run was interrupted; rerun to submit it again."
        )
    return vendor.interrupted(job, flight.task_id)


def one_job_at_a_time(ledger: Ledger, provider: str, key: str, label: str) -> AbstractContextManager[None]:
    """Hold the paid job `key` for its whole life (submit, wait, download) in every thread and process (and machine,
    with a shared ledger) that uses `ledger`: a second job with the same key (another run, or a scene with the same
    inputs) waits, then finds the first one's task in the ledger and reuses it instead of paying again. The lock (a
    flock, or a Postgres advisory lock) dies with a killed run."""
    return ledger.hold(
        f"{provider}-job-{key}",
        waiting=f"{label}: waiting for the same {provider} task, which another run or scene is making",
    )


def slot(key: tuple[str, ...], size: Callable[[], int]) -> threading.BoundedSemaphore:
    """The semaphore that limits tasks in flight for `key` (vendor, server, model); `size` is asked once."""
    with _SLOTS_LOCK:
        if key not in _SLOTS:
            _SLOTS[key] = threading.BoundedSemaphore(size())
        return _SLOTS[key]


class PaidMaker:
    """A provider whose every paid call is a task that `PaidJobs` runs, made with the model its setting names. A
    vendor's subclass names its job runner (`runner`: settings section, shared, flag, HTTP client); each maker how it
    is picked (`flag`, for the sentence when the key is missing) and which field of its section names its model."""

    runner: ClassVar[Callable[..., PaidJobs[Any]]]
    flag: ClassVar[str]
    model_field: ClassVar[str]

    def __init__(self, tasks: PaidJobs[Any], model: str) -> None:
        self.tasks, self.model = tasks, model

    @classmethod
    def from_settings(cls, settings: Any, shared: Shared, http_client: httpx.Client | None = None) -> Self:
        return cls(cls.runner(settings, shared, cls.flag, http_client), getattr(settings, cls.model_field))

    def job(self, kind: str, scene: int, key: str, estimate: float, **how: Any) -> Job:
        """One paid `kind` of output for scene number `scene`, in this maker's model; `how` holds the rest of the
        Job (prepare, verify, endpoint...). Its way out is the step's offline provider."""
        fix = f"rerun with {self.flag.split()[0]} offline"
        return Job(
            key=key, kind=kind, model=self.model, estimate=estimate, label=f"scene {scene} {kind}", fix=fix, **how
        )

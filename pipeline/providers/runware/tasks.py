"""Runware as a `PaidJobs` vendor: the client-made taskUUID is in the ledger before the task is sent, so a rerun (or
an answer lost on the way back) polls that task instead of submitting another. Runware cannot cancel a task."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.errors import ProviderError, ShortsError
from pipeline.providers.paid.jobs import Job, PollFailed, Seen
from pipeline.providers.runware.client import PROVIDER, RunwareAPIError, RunwareClient, nothing_made, runware_error
from pipeline.state.ledger import USD

TERMINAL = ("success", "error")


@dataclass
class RunwareVendor:
    """Sends and polls Runware tasks over its REST API; its sentences for what became of them."""

    client: RunwareClient
    concurrency: int
    name, provider, unit = "Runware", PROVIDER, USD
    client_ids, creating, dashboard = True, "submitting", "my.runware.ai"
    api_errors = (RunwareAPIError,)
    nothing_made = staticmethod(nothing_made)  # a submission's failure that proves the queue took nothing

    def new_id(self) -> str | None:
        return str(uuid.uuid4())

    def create(self, job: Job, payload: dict[str, Any], task_id: str | None) -> tuple[str, float | None]:
        self.client.run(dict(payload, taskUUID=task_id))
        return str(task_id), None

    def refused(self, exc: Exception, doing: str, created: bool | None) -> tuple[bool, ShortsError]:
        return exc.ambiguous, runware_error(exc, doing, self.client.host)  # type: ignore[attr-defined,arg-type]

    def retrieve(self, task_id: str, confirmed: bool) -> Seen | None:
        """What Runware says of the task: None while it lists nothing (an unconfirmed task may never have been made,
        an acknowledged one is still queued)."""
        try:
            item = self._poll(task_id)
        except _Gone as gone:
            if not confirmed:
                return None
            code = str(gone.error.get("code"))  # Runware had it: it failed, was cancelled or expired
            return Seen(code, finished=True, code=code, gone=True, raw=gone.error)
        except RunwareAPIError as exc:
            error = runware_error(exc, f"checking task {task_id}", self.client.host)
            if exc.status is None or exc.status >= 500 or exc.status in (408, 429):
                raise PollFailed(exc.what, error) from exc
            raise error from exc
        if item is None:
            return None
        status = str(item.get("status"))
        reported = item.get("error")
        failed = reported if isinstance(reported, dict) else {}
        return Seen(
            status,
            finished=status in TERMINAL,
            made=status == "success",
            cost=_cost(item),
            url=item.get("videoURL"),
            code=str(failed.get("code") or "?") if status == "error" else "",
            raw=failed,
        )

    def _poll(self, task_id: str) -> dict[str, Any] | None:
        try:
            items = self.client.run({"taskType": "getResponse", "taskUUID": task_id})
        except RunwareAPIError as exc:
            if exc.gone:
                raise _Gone(exc.first) from exc
            # The task's own failure may come back as an error naming the task's type; one naming getResponse
            # is about the poll, and must not mark a task failed that may still be running.
            if exc.status in (400, 422) and exc.first.get("taskType") not in (None, "getResponse"):
                return {"taskUUID": task_id, "status": "error", "error": exc.first}
            raise
        mine = [item for item in items if item.get("taskUUID", task_id) == task_id]
        # Polls repeat finished items, so the most advanced one wins.
        rank = {"success": 2, "error": 1}
        return max(mine, key=lambda item: rank.get(str(item.get("status")), 0), default=None)

    def cancel_if_unstarted(self, task_id: str, reason: str) -> tuple[str, str | None]:
        """Runware cannot cancel a task: stop waiting, and leave it in the ledger for the next run to collect."""
        return "UNCANCELLABLE", f"{reason}; still running at Runware"

    def output(self, job: Job, task_id: str) -> str | None:
        try:
            item = self._poll(task_id)
        except _Gone:
            return None
        except RunwareAPIError as exc:
            raise runware_error(exc, f"checking task {task_id}", self.client.host) from exc
        return item.get("videoURL") if item else None

    def slot(self, model: str) -> tuple[tuple[str, ...], Callable[[], int]]:
        return (PROVIDER, self.client.base_url, model), lambda: self.concurrency

    def worth_another_try(self, seen: Seen) -> bool:
        return False  # a failed task may have been billed, and Runware says nothing of whose fault it was

    def failure(self, job: Job, task_id: str, seen: Seen) -> ShortsError:
        """A finished task that made nothing, as one sentence; never retried, as a retry would pay again."""
        error = seen.raw if isinstance(seen.raw, dict) else {}
        code = str(error.get("code") or "no error code")
        message = str(error.get("message") or "").strip()[:300].rstrip(".")
        said = f"{code}: {message}" if message else code
        if seen.gone:
            return ProviderError(
                f"Runware no longer has task {task_id} ({said}): it failed, was cancelled or "
                f"expired, so no {job.kind} will come; rerun to submit it again or {job.fix}."
            )
        return ProviderError(
            f"Runware failed the {job.kind} (task {task_id}, {said}); rerun to try again or {job.fix}."
        )

    def too_slow(self, job: Job, task_id: str, status: str, minutes: float, last: str | None) -> ShortsError:
        return ProviderError(
            f"Runware had not finished the {job.kind} after {minutes:g} minutes (task {task_id}, "
            f"last {last or 'unanswered'}); it cannot be cancelled, so rerun the same command to "
            "resume waiting on it without a new charge, or raise SHORTS_RUNWARE_DEADLINE_MINUTES.",
            retry_safe=True,
        )

    def interrupted(self, job: Job, task_id: str) -> ShortsError:
        return ProviderError(
            f"Stopped waiting on Runware task {task_id} for the {job.kind} because the run was "
            "interrupted; it cannot be cancelled, so rerun the same command to collect it without a "
            "new charge."
        )


class _Gone(Exception):
    """Runware answers that it has no such task (any more): failed, cancelled, expired or never made."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("code"))
        self.error = error


def _cost(item: dict[str, Any]) -> float | None:
    try:
        return float(item["cost"])
    except (KeyError, TypeError, ValueError):
        return None

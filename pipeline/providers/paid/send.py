"""A billed request that answers at once (an image, a scene's speech, a transcript, a task's creation): sent again only
when the answer proves nothing was made, kept without a blind retry once it was, and recorded in the ledger."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from pipeline.errors import ProviderError, ShortsError
from pipeline.providers.inputs import cut_text
from pipeline.state.ledger import DONE, REJECTED, UNCONFIRMED, Ledger

PAID_TRIES = 3  # sends of one billed request, counting only answers that prove nothing was made
MAX_RETRY_WAIT = 60.0  # a vendor asking for a longer pause is refusing for now: say so rather than wait

log = logging.getLogger("shorts")
T = TypeVar("T")


@dataclass(frozen=True)
class Unmade:
    """The vendor's answer proves nothing was made or billed (a rate limit, a connection that never opened); `wait`
    is the pause it asked for (Retry-After), if any."""

    wait: float | None = None


def send_paid(
    request: Callable[[], T],
    unmade: Callable[[Exception], Unmade | None],
    *,
    vendor: str,
    tries: int = PAID_TRIES,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Send a billed request, and send it again only when `unmade(exc)` says the failure proves nothing was made:
    a timeout or a 5xx may have made (and billed) the thing, so those, like every other error, are raised as they
    are for the caller to translate. The pause is the vendor's Retry-After, else `backoff` times the attempt; one over
    MAX_RETRY_WAIT raises. The vendor's SDK must not retry on its own (max_retries=0)."""
    for attempt in range(1, tries + 1):
        try:
            return request()
        except Exception as exc:
            proof = unmade(exc)
            if proof is None or attempt == tries or (proof.wait or 0) > MAX_RETRY_WAIT:
                raise
            wait = backoff * attempt if proof.wait is None else proof.wait
        log.info("  %s refused the request before doing anything; sending it again in %.0f s", vendor, wait)
        sleep(wait)
    raise ValueError(f"tries must be at least 1, not {tries}")


@contextmanager
def billed(vendor: str, what: str) -> Iterator[None]:
    """Around what follows a billed answer (keeping it, recording it): a failure there is one sentence that is never
    retried blindly, since a retry would buy `what` again. Our own errors keep their sentence."""
    try:
        yield
    except ShortsError:
        raise
    except Exception as exc:  # a surprise after paying: without this, the step's retry would pay again
        raise ProviderError(
            f"{vendor} made and billed {what}, but keeping it failed ({type(exc).__name__}: "
            f"{cut_text(str(exc), 160)}); rerun when a second charge is acceptable.",
            maybe_billed=True,
        ) from exc


@dataclass
class Bill:
    """What the request cost (`spent`, in the row's unit) and the vendor's id for it, filled in by the caller."""

    spent: float
    request_id: str | None = None


@contextmanager
def ledger_entry(
    ledger: Ledger | None,
    *,
    key: str,
    provider: str,
    kind: str,
    model: str,
    estimate: float,
    daily_cap: float,
    unit: str,
) -> Iterator[Bill]:
    """Reserve `estimate` (refused past `daily_cap`), run the block, and settle the row: done with the bill;
    unconfirmed, still counted, when the error says the request may have been made and billed (or anything
    unforeseen stopped it); else rejected, costing nothing."""
    bill = Bill(spent=estimate)
    if ledger is None:
        yield bill
        return
    row = ledger.reserve(
        key=key, provider=provider, kind=kind, model=model, estimate=estimate, daily_cap=daily_cap, unit=unit
    )
    try:
        yield bill
    except ShortsError as exc:
        nothing_made = not (isinstance(exc, ProviderError) and exc.maybe_billed)
        ledger.update(
            row,
            status=REJECTED if nothing_made else UNCONFIRMED,
            detail=str(exc)[:500],
            **({"amount_spent": 0.0} if nothing_made else {}),
        )
        raise
    except BaseException:  # a surprise or Ctrl-C: the request may have been made, so it stays counted
        ledger.update(row, status=UNCONFIRMED)
        raise
    ledger.update(
        row, status=DONE, amount_spent=bill.spent, **({"task_id": bill.request_id} if bill.request_id else {})
    )

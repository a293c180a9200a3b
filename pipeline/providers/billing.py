"""A billed request that answers at once (an image, a scene's speech) as a ledger row: reserved against the daily cap
before it is sent, then settled with what it cost, so the caps and the daily spend count it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pipeline.errors import ProviderError, ShortsError
from pipeline.state.ledger import DONE, REJECTED, UNCONFIRMED, Ledger


@dataclass
class Bill:
    """What the request cost (`spent`, in the row's unit) and the vendor's id for it, filled in by the caller."""

    spent: float
    request_id: str | None = None


@contextmanager
def ledger_entry(ledger: Ledger | None, *, key: str, provider: str, kind: str, model: str, estimate: float,
                 daily_cap: float, unit: str) -> Iterator[Bill]:
    """Reserve `estimate` (refused past `daily_cap`), run the block, and settle the row: done with the bill;
    unconfirmed, still counted, when the error says the request may have been made and billed (or anything
    unforeseen stopped it); else rejected, costing nothing."""
    bill = Bill(spent=estimate)
    if ledger is None:
        yield bill
        return
    row = ledger.reserve(key=key, provider=provider, kind=kind, model=model, estimate=estimate, daily_cap=daily_cap,
                         unit=unit)
    try:
        yield bill
    except ShortsError as exc:
        nothing_made = not (isinstance(exc, ProviderError) and exc.maybe_billed)
        ledger.update(row, status=REJECTED if nothing_made else UNCONFIRMED, detail=str(exc)[:500],
                      **({"credits_spent": 0.0} if nothing_made else {}))
        raise
    except BaseException:  # a surprise or Ctrl-C: the request may have been made, so it stays counted
        ledger.update(row, status=UNCONFIRMED)
        raise
    ledger.update(row, status=DONE, credits_spent=bill.spent,
                  **({"task_id": bill.request_id} if bill.request_id else {}))

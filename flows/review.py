"""The gate between the storyboard and the clips: who may approve buying them, and how the answer comes back.

`make_short(approval=...)` says who answers:

- `pause` (the default; the UI form and deployments): with review on, the run pauses, and a person answers in the
  Prefect UI with the Resume button's form. A rejection, or no answer within SHORTS_REVIEW_TIMEOUT_HOURS, ends the
  run Cancelled before any clip is bought.
- `rules` (the daily flow): approve without asking when the estimate is at most SHORTS_AUTO_APPROVE_CREDITS,
  otherwise pause as above.
- `given` (the CLI): a person already said yes at the terminal, to `preview_short`'s storyboard (or with --yes), or
  wants no review.

A run started from a deployment (the UI form, the API) takes its parameters from whoever called it, so
`caller_limits` holds it to the operator's settings: it cannot answer its own review, nor write outside
SHORTS_OUTPUT_DIR.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.settings import get_current_settings
from prefect.states import Cancelled, State
from pydantic import Field

from flows.artifacts import storyboard_markdown
from pipeline import ConfigError, Review, Settings, ShortRequest, Storyboard

Approval = Literal["pause", "rules", "given"]
log = logging.getLogger("shorts")


class ApprovalInput(RunInput):
    """The form behind a paused run's Resume button."""

    approve: bool = Field(
        False, description="Buy the clips and finish the Short. Off: cancel the run; no clip is bought."
    )
    note: str = Field("", max_length=500, description="Why, if you like; it goes to the run's logs and the manifest.")


def from_deployment() -> bool:
    """Whether this flow run was started from a deployment (the UI form, the API), not called by this process."""
    run = FlowRunContext.get()
    return bool(run and run.flow_run and run.flow_run.deployment_id)


def caller_limits(approval: Approval, out_dir: str | None, settings: Settings) -> tuple[Approval, Path | None]:
    """This run's approval and output folder, held to the operator's settings when a deployment started it.

    In a deployment run, `given` becomes `pause` (SHORTS_REVIEW and the request's own review decide),
    and so does `rules` when SHORTS_REVIEW is on; `out_dir` must lie inside SHORTS_OUTPUT_DIR (a relative one is taken
    from there), else it is a ConfigError. A run this process called (`shorts make`, the daily flow's subflows)
    keeps both as given.
    """
    chosen = Path(out_dir).expanduser() if out_dir else None
    if not from_deployment():
        return approval, chosen
    # `rules` only ever adds a pause, unless SHORTS_REVIEW is on: then its auto-approval would skip the review.
    if approval not in ("pause", "rules") or (approval == "rules" and settings.review):
        log.warning(
            "  approval=%s is not taken from a deployment run's parameters; review follows the settings "
            "(SHORTS_REVIEW)",
            approval,
        )
        approval = "pause"
    if chosen is None:
        return approval, None
    root = settings.output_dir.expanduser().resolve()
    inside = (root / chosen).resolve()  # an absolute `chosen` replaces root; symlinks are followed
    if not inside.is_relative_to(root) or inside == root:
        raise ConfigError(
            f"out_dir {out_dir!r} is outside SHORTS_OUTPUT_DIR ({root}); a run started from a "
            "deployment writes only into a folder inside it."
        )
    return approval, inside


def review_storyboard(
    board: Storyboard, request: ShortRequest, settings: Settings, approval: Approval
) -> Review | None:
    """Whether to buy the clips; None when no review was asked for. May pause the run until a person answers."""
    wanted = request.review or settings.review
    why = "review is on"
    if approval == "given":
        return Review(approved=True, by="person", note="approved before this run") if request.review else None
    if approval == "rules" and settings.auto_approve_credits is not None:
        limit = settings.auto_approve_credits
        credits = board.estimate_all_credits
        if credits <= limit:
            return Review(
                approved=True,
                by="rule",
                note=f"estimated {credits:g} credits, within SHORTS_AUTO_APPROVE_CREDITS={limit:g}",
            )
        wanted, why = True, f"estimated {credits:g} credits, over SHORTS_AUTO_APPROVE_CREDITS={limit:g}"
    if not wanted:
        return None
    return _ask_in_the_ui(board, settings, why)


def _ask_in_the_ui(board: Storyboard, settings: Settings, why: str) -> Review:
    if not get_current_settings().api.url:
        # Prefect's temporary local server has no UI, and it stops with this process: nobody could answer.
        return Review(
            approved=False,
            by="nobody",
            note=f"{why}, but this run has no Prefect UI to approve it in "
            "(make it with `shorts make --review`, or run it under `shorts serve`)",
        )
    hours = settings.review_timeout_hours
    form = ApprovalInput.with_initial_data(
        description=(
            f"{storyboard_markdown(board)}\n\n**Approve** buys the clips and finishes the Short; leaving it off cancels "
            f"the run, and no clip is bought. Unanswered, the run is cancelled after {hours:g} h."
        )
    )
    log.info("  waiting for approval (%s): open this run in the Prefect UI and press Resume", why)
    try:
        answer = pause_flow_run(  # type: ignore[call-overload]  # Prefect sleeps poll_interval: a float is fine
            wait_for_input=form, timeout=max(1, round(hours * 3600)), poll_interval=settings.review_poll_seconds
        )
    except FlowPauseTimeout:
        review = Review(
            approved=False, by="nobody", note=f"nobody approved it within {hours:g} h (SHORTS_REVIEW_TIMEOUT_HOURS)"
        )
        # Prefect's server turns every exit from an expired pause into Failed; a forced Cancelled says what happened.
        context = FlowRunContext.get()
        assert context is not None and context.flow_run is not None  # only a flow run can have paused
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(context.flow_run.id, rejected(review), force=True)
        return review
    return Review(approved=answer.approve, by="person", note=answer.note)


def describe(review: Review | None) -> str:
    """The gate's outcome in a few words, for the log."""
    if review is None:
        return "none asked for"
    if review.by == "nobody":
        return f"not approved: {review.note}"
    verdict = "approved" if review.approved else "rejected"
    return f"{verdict} by {'a person' if review.by == 'person' else 'the rule'}" + (
        f": {review.note}" if review.note else ""
    )


def rejected(review: Review) -> State:
    """The state a run ends in when the clips were not approved: Cancelled, saying why."""
    why = review.note if review.by == "nobody" else "rejected at review" + (f": {review.note}" if review.note else "")
    return Cancelled(
        message=f"{why[0].upper()}{why[1:]}; no clip was bought, and the script and first frames are "
        "kept for the next run."
    )

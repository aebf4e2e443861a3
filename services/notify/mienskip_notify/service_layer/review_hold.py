""""Proposal ready for review" held back ``review_hold_s`` for an auto-approval.

A kamer whose policy approves the category at once sends assignment.approved within
that time, which withdraws the held message; one nobody approved is sent when its hold
runs out. This goes when intake announces approvals itself: then delete this module,
``adapters/review_holds.py`` (and ``review_holds`` in the unit of work),
``entrypoints/review_releaser.py`` (and the releaser in bootstrap), the two calls into it
in ``planning``, the ``releasing`` flag of ``notify_batch``/``plan_batch``, the
``review_hold_s`` setting and port, and (by a migration) ``notify_held_reviews``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import structlog

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope, parse

from .outcomes import stored_reason
from .ports import UnitOfWork

log = structlog.get_logger(__name__)

PROPOSED = "assignment.proposed"
# A releaser that crashed holding due reviews lets them go after this long.
REVIEW_LEASE = timedelta(seconds=60)


def hold_proposals(uow: UnitOfWork, messages: Sequence[Envelope], claimed: set[str],
                   hold_s: float) -> list[Envelope]:
    """Hold the review message of each newly claimed proposal; returns the messages to
    plan now (all but the proposals). Call before the batch's approvals are remembered:
    an approval in the same batch then withdraws the hold."""
    if hold_s <= 0:
        return list(messages)
    due_at = utcnow() + timedelta(seconds=hold_s)
    for envelope in messages:
        if envelope.event_type == PROPOSED and envelope.event_id in claimed:
            uow.review_holds.hold(envelope, due_at)
    return [e for e in messages if e.event_type != PROPOSED]


def withdraw_answered(uow: UnitOfWork, messages: Sequence[Envelope]) -> None:
    """Approved (by policy or by a person) or cancelled before the hold ran out: nothing
    left to review."""
    withdrawn = uow.review_holds.withdraw(
        assignment_ids=[e.data["assignment_id"] for e in messages if e.event_type == "assignment.approved"],
        request_ids=[e.data["request_id"] for e in messages if e.event_type == "request.cancelled"])
    if withdrawn:
        log.info("review.withdrawn", count=withdrawn)


def release_held_reviews(uow: UnitOfWork, notify: Callable[[list[Envelope]], None],
                         give_up: Callable[[Envelope, Exception], None], retry_delays_s: Sequence[float], *,
                         limit: int = 32, now: datetime | None = None) -> int:
    """Hand the review messages whose hold ran out without an approval to ``notify`` (the
    batch handler, sending rather than holding); returns how many events were taken. A
    failed one waits ``retry_delays_s[attempt]``; after the last, it is handed to
    ``give_up``, as the consumer does with an event."""
    now = now or utcnow()
    with uow:
        rows = uow.review_holds.claim_due(now, now + REVIEW_LEASE, limit)
        uow.commit()
    if not rows:
        return 0
    envelopes = {row.event_id: parse(row.body) for row in rows}
    failures: dict[str, Exception] = {}
    try:
        notify(list(envelopes.values()))
    except Exception as exc:  # noqa: BLE001 -- not swallowed: recorded, or each tried again on its own
        if len(envelopes) == 1:
            failures = dict.fromkeys(envelopes, exc)
        else:
            for event_id, envelope in envelopes.items():
                try:
                    notify([envelope])
                except Exception as failure:  # noqa: BLE001 -- recorded per event, retried later or given up
                    failures[event_id] = failure
    attempts = {row.event_id: row.attempts for row in rows}
    with uow:
        for event_id in envelopes:
            if event_id not in failures:
                uow.review_holds.released(event_id)
            elif attempts[event_id] < len(retry_delays_s):
                uow.review_holds.retry_at(event_id, now + timedelta(seconds=retry_delays_s[attempts[event_id]]),
                                          stored_reason(failures[event_id]))
            else:
                uow.review_holds.released(event_id)
        uow.commit()
    for event_id, exc in failures.items():
        if attempts[event_id] >= len(retry_delays_s):
            give_up(envelopes[event_id], exc)
    return len(rows)

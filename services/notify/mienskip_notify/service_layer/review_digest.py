"""Holding a kamer's "proposal ready for review" mail for its digest (see
``domain.review_digest`` for the rule), inside the planning transaction.

The kamer's digest row is locked while deciding, so two notify processes planning
proposals of one kamer at once decide one after the other. A held proposal is kept by
its event's id: a redelivery of it finds it held and mails nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from mienskip_shared.contracts import Envelope

from ..domain.after_match import ScheduledItem
from ..domain.channels import EMAIL, MAILBOX
from ..domain.notifications import Notification
from ..domain.review_digest import ReviewHold, digest_due, digest_id, mail_now
from ..domain.schedule import REVIEW_DIGEST
from .ports import Ports, UnitOfWork

REVIEW_EVENT = "assignment.review_requested"


class ReviewHolds:
    """Deciding, for the review requests of one batch (in the batch's order), which kamer
    mails wait for a digest: what was held before read once, each kamer's digest row
    locked once, the new holds written together by :meth:`flush`."""

    def __init__(self, uow: UnitOfWork, envelopes: Sequence[Envelope], ports: Ports):
        self.uow, self.ports = uow, ports
        self.held = uow.schedule.held_of([e.event_id for e in envelopes if e.event_type == REVIEW_EVENT])
        self.states: dict[str, Any] = {}  # kamer -> its digest row as locked, as changed since
        self.new: list[ReviewHold] = []

    def hold_or_mail(self, envelope: Envelope, planned: Sequence[Notification]) -> list[Notification]:
        """``planned`` for a review request, without the kamer's mail when it joins a digest.
        An urgent request's proposal is mailed at once, and leaves the digest's rhythm alone."""
        mail = [n for n in planned if n.channel in (EMAIL, MAILBOX)]
        rest = [n for n in planned if n.channel not in (EMAIL, MAILBOX)]
        if not mail or envelope.data.get("urgency") == "urgent":
            return list(planned)
        if envelope.event_id in self.held:
            return rest  # held the first time: in its digest
        data, now, every, schedule = envelope.data, self.ports.clock(), self.ports.kamer_digest_every, self.uow.schedule
        kamer_id = data["kamer_id"]
        state = self.states.get(kamer_id) or schedule.lock_digest(kamer_id)
        if mail_now(state.last_mail_at, state.open_digest_id is not None, now, every):
            schedule.mailed(kamer_id, now)
            self.states[kamer_id] = replace(state, last_mail_at=now)
            return list(planned)
        digest = state.open_digest_id
        if digest is None:
            due = digest_due(state.last_mail_at, now, every)
            digest = digest_id(kamer_id, due)
            schedule.open_digest(kamer_id, digest)
            schedule.add([ScheduledItem(kind=REVIEW_DIGEST, subject_id=digest, kamer_id=kamer_id, due_at=due,
                                        correlation_id=envelope.correlation_id)])
        self.states[kamer_id] = replace(state, open_digest_id=digest)
        self.held.add(envelope.event_id)
        self.new.append(ReviewHold(event_id=envelope.event_id, kamer_id=kamer_id, digest_id=digest,
                                   request_id=data["request_id"], assignment_id=data.get("assignment_id"),
                                   proposed_at=envelope.occurred_at))
        return rest

    def flush(self) -> None:
        """Write the holds decided since the last flush."""
        self.uow.schedule.hold_reviews(self.new)
        self.new = []

"""Holding a kamer's "proposal ready for review" mail for its digest (see
``domain.review_digest`` for the rule), inside the planning transaction.

The kamer's digest row is locked while deciding, so two notify processes planning
proposals of one kamer at once decide one after the other. A held proposal is kept by
its event's id: a redelivery of it finds it held and mails nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from mienskip_shared.contracts import Envelope

from ..domain.after_match import ScheduledItem
from ..domain.channels import EMAIL, MAILBOX
from ..domain.notifications import Notification
from ..domain.review_digest import digest_due, digest_id, mail_now
from ..domain.schedule import REVIEW_DIGEST
from .ports import Ports, UnitOfWork

REVIEW_EVENT = "assignment.review_requested"


def hold_or_mail(uow: UnitOfWork, envelope: Envelope, planned: Sequence[Notification],
                 ports: Ports) -> list[Notification]:
    """``planned`` for a review request, without the kamer's mail when it joins a digest.
    An urgent request's proposal is mailed at once, and leaves the digest's rhythm alone."""
    mail = [n for n in planned if n.channel in (EMAIL, MAILBOX)]
    rest = [n for n in planned if n.channel not in (EMAIL, MAILBOX)]
    if not mail or envelope.data.get("urgency") == "urgent":
        return list(planned)
    if uow.schedule.is_held(envelope.event_id):
        return rest  # held the first time: in its digest
    data, now, every = envelope.data, ports.clock(), ports.kamer_digest_every
    kamer_id = data["kamer_id"]
    state = uow.schedule.lock_digest(kamer_id)
    if mail_now(state.last_mail_at, state.open_digest_id is not None, now, every):
        uow.schedule.mailed(kamer_id, now)
        return list(planned)
    digest = state.open_digest_id
    if digest is None:
        due = digest_due(state.last_mail_at, now, every)
        digest = digest_id(kamer_id, due)
        uow.schedule.open_digest(kamer_id, digest)
        uow.schedule.add([ScheduledItem(kind=REVIEW_DIGEST, subject_id=digest, kamer_id=kamer_id, due_at=due,
                                        correlation_id=envelope.correlation_id)])
    uow.schedule.hold_review(envelope.event_id, kamer_id, digest, data["request_id"], data.get("assignment_id"),
                             envelope.occurred_at)
    return rest

"""After the match, the two events that send at once: ``assignment.completed`` (a visit
not done is told to the kamer) and ``attention.digest`` (the coordinator's weekly
e-mail). What events schedule for later is in ``scheduling``; sending it in ``due``.
"""

from __future__ import annotations

import structlog

from mienskip_shared.contracts import Envelope

from ..domain.after_match import attention_digest_message, visit_not_done_messages
from ..domain.channels import EMAIL
from ..domain.contacts import Known
from ..domain.schedule import FOLLOW_UP, HOW_DID_IT_GO
from .outcomes import log_ids
from .ports import Ports, UnitOfWork
from .sending import deliver

log = structlog.get_logger(__name__)

VISIT_EVENTS = ("assignment.completed",)


def visit_recorded(envelope: Envelope, uow: UnitOfWork, ports: Ports) -> None:
    """assignment.completed: no "how did it go?" any more; not done → the kamer is told
    (with the reason and the request's link), and the follow-up is left to the kamer."""
    data = envelope.data
    with uow:
        first = uow.claim(envelope)
        if first:
            uow.schedule.call_off([HOW_DID_IT_GO] if data["done"] else [HOW_DID_IT_GO, FOLLOW_UP],
                                  data["assignment_id"], data["kamer_id"], envelope.occurred_at)
        kamer = uow.contacts.kamer(data["kamer_id"])
        known = None if kamer is None else Known(
            kamer=kamer, volunteers=uow.contacts.volunteers({data["volunteer_id"]}),
            task=uow.tasks.get_all([data["request_id"]]).get(data["request_id"]))
        messages = [] if known is None else visit_not_done_messages(
            envelope.event_id, envelope.occurred_at, data, known, ports.channels, ports.public_url)
        due = [n for n in messages if uow.notifications.add(n) == "pending"]
        uow.commit()
    if not data["done"] and kamer is None:
        log.warning("visit_not_done.kamer_unknown", kamer_id=data["kamer_id"], request_id=data["request_id"])
    deliver([(n, envelope) for n in due], uow, ports)


def send_attention_digest(envelope: Envelope, uow: UnitOfWork, ports: Ports) -> None:
    """attention.digest: one e-mail to the coordinator, once per event."""
    notification = attention_digest_message(envelope.event_id, envelope.data, email_enabled=EMAIL in ports.senders)
    with uow:
        uow.claim(envelope)
        status = uow.notifications.add(notification)
        uow.commit()
    if status != "pending":
        log.info("attention_digest.already_sent", **log_ids(notification))
        return
    deliver([(notification, envelope)], uow, ports)

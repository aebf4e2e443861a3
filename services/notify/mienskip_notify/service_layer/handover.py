"""A person (or a care provider) whose own channel failed for good (given up, SMS budget
spent) is handed to their kamer: "please call", with what the message would have told them."""

from __future__ import annotations

from mienskip_shared.contracts import Envelope

from ..domain.contacts import KAMER, PROVIDER, RESIDENT, VOLUNTEER, Known
from ..domain.notifications import MESSAGE_EVENTS, PLEASE_CALL, Notification
from .ports import Ports, UnitOfWork


def kamer_calls_instead(uow: UnitOfWork, cause: Envelope, failed_rows, ports: Ports) -> list[Notification]:
    """Plan "please call" messages to the kamer for the people among ``failed_rows``."""
    people = frozenset((r.subject_kind, r.subject_id) for r in failed_rows
                       if r.recipient_kind in (VOLUNTEER, RESIDENT, PROVIDER) and r.subject_id)
    if not people or cause.event_type not in MESSAGE_EVENTS:
        return []
    data = cause.data
    kamer = uow.contacts.kamer(data["kamer_id"])
    if kamer is None:
        return []
    volunteer_ids = {pid for kind, pid in people if kind == VOLUNTEER} | (
        {data["volunteer_id"]} if "volunteer_id" in data else set())
    known = Known(
        kamer=kamer,
        volunteers=uow.contacts.volunteers(volunteer_ids),
        resident=uow.contacts.residents([data["request_id"]]).get(data["request_id"]),
        task=uow.tasks.get_all([data["request_id"]]).get(data["request_id"]),
        told=tuple(pid for kind, pid in people if kind == VOLUNTEER) if cause.event_type == "request.cancelled"
        else (),
        unreachable=people,
        provider=uow.contacts.providers([data["provider_id"]]).get(data["provider_id"]) if "provider_id" in data
        else None,
    )
    calls = [n for n in ports.messages_for(cause, known)
             if n.recipient_kind == KAMER and (n.subject_kind, n.subject_id) in people and n.template == PLEASE_CALL]
    return [n for n in calls if uow.notifications.add(n) == "pending"]

"""One scene for notify's handler tests: the Grou kamer, volunteer Hiltsje (vo-7) and
resident Durk (request rq-1, without a phone unless asked), and the events about them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mienskip_notify.adapters import tables
from mienskip_notify.adapters.composer import MessageComposer
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.service_layer.contacts import record_kamer
from mienskip_notify.service_layer.ports import Ports
from mienskip_notify.service_layer.sending import notify_batch
from mienskip_shared.contracts import new_event, parse
from mienskip_shared.messaging import ConfirmedPublisher, OutgoingMessage
from mienskip_shared.messaging.topology import EVENTS_EXCHANGE

SECRET = "integration link secret"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WINDOW = {"start": START, "end": START + timedelta(hours=1)}
ADDRESS = "Tsjerkepaed 3, 9001 AB Grou"
VOLUNTEER_EMAIL = "hiltsje@example.org"


def ports(senders, **kwargs) -> Ports:
    return Ports(MessageComposer("mienskip@localhost"), senders, "https://mienskip.example",
                 link_secret=SECRET, **kwargs)


def event(event_type, data, *, occurred_at=T0, correlation_id="corr-p"):
    return parse(new_event(event_type, data, correlation_id=correlation_id, kamer_id=data.get("kamer_id"),
                           occurred_at=occurred_at).to_json())


def setup_people(engine, *, volunteer_email=VOLUNTEER_EMAIL, volunteer_phone=None, resident_phone=None,
                 kamer_language="nl"):
    record_kamer(event("kamer.registered", {
        "kamer_id": "grou", "name": "Dorpskamer Grou", "region": "leeuwarden",
        "location": {"lat": 53.094, "lon": 5.834}, "email": "grou@example.org", "language": kamer_language}),
        NotifyUnitOfWork(engine))
    record_contacts(engine, event("contact.volunteer", {
        "volunteer_id": "vo-7", "kamer_id": "grou", "first_name": "Hiltsje", "email": volunteer_email,
        "phone": volunteer_phone, "language": "fy"}))
    record_contacts(engine, event("contact.resident", {
        "request_id": "rq-1", "kamer_id": "grou", "first_name": "Durk", "phone": resident_phone, "language": "fy",
        "address": ADDRESS, "neighbourhood": "Grou"}))


def record_contacts(engine, *contacts):
    """contact.* events as the consumer hands them over: to the batch handler, alone."""
    for contact in contacts:
        notify_batch([contact], NotifyUnitOfWork(engine), ports({}))


def assignment(event_type, volunteer_id="vo-7", assignment_id="as-1", *, occurred_at=T0, **extra):
    return event(event_type, {
        "assignment_id": assignment_id, "request_id": "rq-1", "volunteer_id": volunteer_id, "kamer_id": "grou",
        "region": "leeuwarden", "actor": "kamer", "category": "pets", "window": WINDOW, **extra},
        occurred_at=occurred_at)


def rows(engine, *where):
    """Every planned notification, oldest first."""
    t = tables.notifications
    with engine.connect() as conn:
        return conn.execute(select(t).where(*where).order_by(t.c.id)).all()


def publish(settings, *envelopes):
    """Put events on the bus as intake's relay does: to the events exchange, by type, confirmed."""
    publisher = ConfirmedPublisher(settings.broker_connection)
    try:
        publisher.publish_batch(
            OutgoingMessage(exchange=EVENTS_EXCHANGE, routing_key=e.event_type, body=e.to_json().encode(),
                            message_id=e.event_id, correlation_id=e.correlation_id)
            for e in envelopes)
    finally:
        publisher.close()


def announcements(engine) -> list[tuple[str, dict]]:
    """What notify's outbox announces, in order: (event type, data) per event, a
    ``notification.sent`` split into its deliveries (version 2 carries a batch's)."""
    with engine.connect() as conn:
        events = [parse(body) for body in conn.execute(select(tables.outbox.c.body).order_by(tables.outbox.c.id))
                  .scalars()]
    return [(e.event_type, delivery) for e in events
            for delivery in (e.data["deliveries"] if "deliveries" in e.data else [e.data])]

"""Intake listens to what matching and notify announce, to keep each request's status."""

from __future__ import annotations

from sqlalchemy import Engine

from mienskip_shared.contracts import Envelope
from mienskip_shared.messaging import EventConsumer, Subscription

from ..service_layer import handlers
from ..settings import Settings

HANDLERS = {
    ("matching", "assignment.proposed"): handlers.on_assignment_proposed,
    ("matching", "request.unmatched"): handlers.on_request_unmatched,
    ("notify", "notification.sent"): handlers.on_notification_sent,
}
SUBSCRIPTIONS = [Subscription("intake", source, event_type) for source, event_type in HANDLERS]
_BY_TYPE = {event_type: handler for (_, event_type), handler in HANDLERS.items()}


def build_consumer(settings: Settings, engine: Engine) -> EventConsumer:
    def handle(envelope: Envelope) -> None:
        _BY_TYPE[envelope.event_type](engine, envelope)

    return EventConsumer("intake-consumer", settings.broker_connection, SUBSCRIPTIONS, handle,
                         prefetch_count=settings.prefetch_count, retry_delays_ms=settings.retry_delays_ms)

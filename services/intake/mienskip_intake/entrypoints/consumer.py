"""Intake listens to what matching and notify announce, to keep each request's status."""

from __future__ import annotations

from functools import partial

from sqlalchemy import Engine

from mienskip_shared.messaging import EventConsumer, dispatch_by_type
from mienskip_shared.messaging.topology import subscriptions_of

from ..service_layer import handlers
from ..settings import Settings

HANDLERS = {
    "assignment.proposed": handlers.on_assignment_proposed,
    "request.unmatched": handlers.on_request_unmatched,
    "notification.sent": handlers.on_notification_sent,
    "notification.failed": handlers.on_notification_failed,
}


def build_consumer(settings: Settings, engine: Engine) -> EventConsumer:
    subscriptions = subscriptions_of("intake")
    handle = dispatch_by_type(subscriptions, {event_type: partial(handler, engine)
                                              for event_type, handler in HANDLERS.items()})
    return EventConsumer("intake-consumer", settings.broker_connection, subscriptions, handle,
                         prefetch_count=settings.prefetch_count, retry_delays_ms=settings.retry_delays_ms)

"""What notify announces about a delivery (``notification.sent``, ``notification.failed``),
and the reason it stores, logs and announces for a failure.

Errors stored, logged and announced are exception types, codes and statuses: never an
address, phone number, URL or message body.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from mienskip_shared.contracts import Envelope, new_event
from mienskip_shared.contracts.notify import MAX_DELIVERIES

from ..domain.notifications import Notification, SendFailed


def stored_reason(exc: BaseException) -> str:
    """SendFailed texts are written to be safe; of anything else only the type is kept."""
    return str(exc) if isinstance(exc, SendFailed) else type(exc).__name__


def log_ids(notification) -> dict[str, Any]:
    return {"notification_key": notification.key, "kamer_id": notification.kamer_id,
            "request_id": notification.request_id, "channel": notification.channel}


def _delivery(notification) -> dict[str, Any]:
    """notification.sent's and .failed's common fields, from a Notification or a table row."""
    return {
        "notification_id": notification.key,
        "source_event_id": notification.source_event_id,
        "source_event_type": notification.source_event_type,
        "request_id": notification.request_id,
        "recipient_kind": notification.recipient_kind,
        "channel": notification.channel,
        "template": notification.template,
        "language": notification.language,
    }


def sent_events(sent: Sequence[tuple[Notification, Envelope]]) -> list[Envelope]:
    """notification.sent for what a batch sent: one event per kamer (the deliveries in the
    order sent, each with its cause's correlation id), split at the contract's maximum.
    The event's own correlation id is its deliveries' when they share one."""
    by_kamer: dict[str, list[dict[str, Any]]] = {}
    for notification, cause in sent:
        by_kamer.setdefault(notification.kamer_id, []).append(
            {**_delivery(notification), "correlation_id": cause.correlation_id})
    events = []
    for kamer_id, deliveries in by_kamer.items():
        for start in range(0, len(deliveries), MAX_DELIVERIES):
            part = deliveries[start:start + MAX_DELIVERIES]
            correlation_ids = {d["correlation_id"] for d in part}
            events.append(new_event(
                "notification.sent", {"deliveries": part}, kamer_id=kamer_id,
                correlation_id=correlation_ids.pop() if len(correlation_ids) == 1 else str(uuid.uuid4())))
    return events


def failed_event(row, cause: Envelope) -> Envelope:
    """notification.failed for a row that just became 'failed'; ``error`` is its safe reason."""
    return new_event(
        "notification.failed",
        {**_delivery(row), "error": row.last_error or "unknown", "attempts": row.attempts},
        correlation_id=cause.correlation_id,
        kamer_id=row.kamer_id,
    )

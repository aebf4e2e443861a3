"""What notify announces of a batch's sent messages: one notification.sent per kamer."""

from __future__ import annotations

from mienskip_notify.domain.notifications import Notification
from mienskip_notify.service_layer.outcomes import sent_events
from mienskip_shared.contracts import new_event, parse
from mienskip_shared.contracts.notify import MAX_DELIVERIES


def _cause(request_id: str):
    return new_event("request.cancelled", {"request_id": request_id, "kamer_id": "k", "reason": None},
                     correlation_id=f"corr-{request_id}", kamer_id="k")


def _sent(kamer_id: str, request_id: str, channel: str = "email"):
    cause = _cause(request_id)
    notification = Notification(
        key=f"{request_id}-{channel}", source_event_id=cause.event_id, source_event_type=cause.event_type,
        request_id=request_id, kamer_id=kamer_id, recipient_kind="volunteer", recipient="vo@example.org",
        channel=channel, template="volunteer_cancellation", language="fy")
    return notification, cause


def _wire(events):
    """As intake reads them: through the wire form and the contract's validation."""
    return [parse(e.to_json()) for e in events]


def test_one_event_per_kamer_with_its_deliveries_in_the_order_sent():
    sent = [_sent("grou", "rq-1"), _sent("bilgaard", "rq-2"), _sent("grou", "rq-3", "sms")]
    grou, bilgaard = _wire(sent_events(sent))
    assert (grou.event_type, grou.schema_version, grou.kamer_id) == ("notification.sent", 2, "grou")
    assert [(d["request_id"], d["channel"], d["correlation_id"]) for d in grou.data["deliveries"]] == [
        ("rq-1", "email", "corr-rq-1"), ("rq-3", "sms", "corr-rq-3")]
    assert grou.correlation_id not in ("corr-rq-1", "corr-rq-3")  # its own: the deliveries differ
    (only,) = bilgaard.data["deliveries"]
    assert bilgaard.correlation_id == only["correlation_id"] == "corr-rq-2"  # shared by all: kept
    assert only == {"notification_id": "rq-2-email", "source_event_id": sent[1][1].event_id,
                    "source_event_type": "request.cancelled", "request_id": "rq-2", "recipient_kind": "volunteer",
                    "channel": "email", "template": "volunteer_cancellation", "language": "fy",
                    "correlation_id": "corr-rq-2"}
    assert "vo@example.org" not in grou.to_json() + bilgaard.to_json()  # never an address on the bus


def test_a_kamers_deliveries_beyond_the_contracts_maximum_go_in_another_event():
    sent = [_sent("grou", f"rq-{i}") for i in range(MAX_DELIVERIES + 3)]
    first, second = _wire(sent_events(sent))
    assert (len(first.data["deliveries"]), len(second.data["deliveries"])) == (MAX_DELIVERIES, 3)
    assert second.data["deliveries"][-1]["request_id"] == f"rq-{MAX_DELIVERIES + 2}"


def test_nothing_sent_announces_nothing():
    assert sent_events([]) == []

"""Event envelopes: what producers may emit and what consumers refuse as poison."""

import json
from datetime import UTC, datetime

import pytest

from mienskip_shared.contracts import InvalidMessage, new_event, parse


def _submitted(**overrides):
    data = {
        "request_id": "r1", "kamer_id": "k1", "region": "leeuwarden", "category": "pets",
        "skills": ["pets"], "needs_vog": False, "needs_language": None,
        "window": {"start": datetime(2026, 12, 1, 9, tzinfo=UTC), "end": datetime(2026, 12, 1, 10, tzinfo=UTC)},
        "location": {"lat": 53.225, "lon": 5.753}, "urgency": "normal", "recurrence": None,
    }
    data.update(overrides)
    return data


def test_round_trip_keeps_every_field_and_unicode():
    event = new_event("kamer.registered", {"kamer_id": "k1", "name": "Dorpskamer Grou — Frysk: ú â ê 🙂",
                                           "region": "leeuwarden", "location": {"lat": 53.09, "lon": 5.84}},
                      correlation_id="c1", kamer_id="k1")
    back = parse(event.to_json().encode())
    assert back.event_id == event.event_id
    assert back.event_type == "kamer.registered"
    assert back.schema_version == 1
    assert back.correlation_id == "c1"
    assert back.data["name"] == "Dorpskamer Grou — Frysk: ú â ê 🙂"


def test_window_times_survive_as_aware_datetimes():
    back = parse(new_event("request.submitted", _submitted(), correlation_id="r1").to_json())
    assert back.data["window"]["start"] == datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_producer_cannot_emit_an_invalid_payload():
    with pytest.raises(ValueError, match="category"):
        new_event("request.submitted", _submitted(category="flying"), correlation_id="r1")


@pytest.mark.parametrize(
    "body, problem",
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"event_type": "request.submitted"}).encode(), "invalid envelope"),
    ],
)
def test_malformed_bodies_are_poison(body, problem):
    with pytest.raises(InvalidMessage, match=problem):
        parse(body)


def test_unknown_schema_version_is_poison():
    envelope = json.loads(new_event("request.submitted", _submitted(), correlation_id="r1").to_json())
    envelope["schema_version"] = 99
    with pytest.raises(InvalidMessage, match="unknown event type or schema version"):
        parse(json.dumps(envelope))


def test_invalid_payload_field_is_poison():
    envelope = json.loads(new_event("request.submitted", _submitted(), correlation_id="r1").to_json())
    envelope["data"]["location"]["lat"] = 500
    with pytest.raises(InvalidMessage, match="lat"):
        parse(json.dumps(envelope))


def test_fields_added_by_a_newer_producer_are_ignored():
    envelope = json.loads(new_event("request.submitted", _submitted(), correlation_id="r1").to_json())
    envelope["data"]["something_new"] = 1
    envelope["trace"] = "x"
    assert "something_new" not in parse(json.dumps(envelope)).data


def test_a_parsed_envelope_serialises_again_identically():
    original = new_event("request.submitted", _submitted(), correlation_id="r1")
    again = parse(original.to_json())
    assert again.to_json() == original.to_json()


def _delivery(**overrides):
    return {"notification_id": "n1", "source_event_id": "e1", "source_event_type": "assignment.approved",
            "request_id": "r1", "recipient_kind": "volunteer", "channel": "email", "template": "volunteer_offer",
            "language": "nl", "correlation_id": "c1", **overrides}


@pytest.mark.parametrize("deliveries, problem", [
    ([], "deliveries"),
    ([_delivery(channel="pigeon")], "channel"),
    ([_delivery(correlation_id=None)], "correlation_id"),
])
def test_a_batch_of_deliveries_is_refused_empty_or_with_a_bad_one(deliveries, problem):
    with pytest.raises(ValueError, match=problem):
        new_event("notification.sent", {"deliveries": deliveries}, correlation_id="c1", kamer_id="k1")


def test_both_versions_of_notification_sent_are_read():
    batch = json.loads(new_event("notification.sent", {"deliveries": [_delivery()]}, correlation_id="c1").to_json())
    assert parse(json.dumps(batch)).data["deliveries"][0]["correlation_id"] == "c1"
    single = {**batch, "schema_version": 1, "data": {k: v for k, v in _delivery().items() if k != "correlation_id"}}
    assert parse(json.dumps(single)).data["notification_id"] == "n1"
    with pytest.raises(InvalidMessage):  # version 2 without its list is poison, not a single delivery
        parse(json.dumps({**single, "schema_version": 2}))

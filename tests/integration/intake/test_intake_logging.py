"""Intake's logs: a kamer's call can be followed by its correlation id from the HTTP hop
to the event it causes, and no log line names a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import structlog
from sqlalchemy import select
from structlog.testing import capture_logs

from mienskip_intake.adapters import tables as t
from mienskip_shared.contracts import parse

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
REQUEST = {"resident": {"name": "Jan Hoekstra", "phone": "+31587123456", "address": "Tsjerkepaed 3, 9001 AB Grou"},
           "location": {"lat": 53.2251, "lon": 5.7530}, "category": "pets", "notes": "Hond uitlaten",
           "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()}}
PERSONAL = ("Jan", "Hoekstra", "+31587123456", "Tsjerkepaed", "Hond")


def _submitted(engine):
    with engine.begin() as tx:
        rows = tx.execute(select(t.outbox.c.correlation_id, t.outbox.c.body)
                          .where(t.outbox.c.event_type == "request.submitted")).all()
    return [(row.correlation_id, parse(row.body)) for row in rows]


def _submit(client, kamer, **headers):
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        response = client.post("/v1/requests", json=REQUEST, headers={**kamer.headers, **headers})
    assert response.status_code == 202, response.get_json()
    return response, logs


def _line(logs, event, **where):
    [line] = [entry for entry in logs if entry["event"] == event
              and all(entry.get(k) == v for k, v in where.items())]
    return line


def test_a_kamers_correlation_id_is_on_its_http_line_and_on_the_event(client, intake, kamer_a):
    response, logs = _submit(client, kamer_a, **{"X-Correlation-Id": "kamer-trace-42"})
    request_id = response.get_json()["id"]
    assert response.headers["X-Correlation-Id"] == "kamer-trace-42"
    [(correlation_id, event)] = _submitted(intake.engine)
    assert correlation_id == event.correlation_id == "kamer-trace-42"
    http = _line(logs, "http.request", method="POST")
    assert (http["correlation_id"], http["status"], http["path"], http["request_id"]) == (
        "kamer-trace-42", 202, "/v1/requests", request_id)
    assert isinstance(http["duration_ms"], float)
    written = _line(logs, "outbox.event_written", event_type="request.submitted")
    assert (written["correlation_id"], written["event_id"]) == ("kamer-trace-42", event.event_id)


def test_without_a_correlation_id_the_call_gets_one_and_the_event_keeps_the_requests_id(client, intake, kamer_a):
    response, logs = _submit(client, kamer_a)
    request_id = response.get_json()["id"]
    http = _line(logs, "http.request", method="POST")
    assert http["correlation_id"] == response.headers["X-Correlation-Id"] != request_id  # a new uuid
    assert http["request_id"] == request_id  # ... and the line names the request it made
    [(correlation_id, event)] = _submitted(intake.engine)
    assert correlation_id == request_id  # as matching and notify trace it
    written = _line(logs, "outbox.event_written", event_type="request.submitted")
    assert (written["correlation_id"], written["event_id"]) == (request_id, event.event_id)


@pytest.mark.parametrize("sent", ["", "a b", "x" * 101, "<script>"])
def test_an_unusable_correlation_id_is_replaced(client, intake, kamer_a, sent):
    response, logs = _submit(client, kamer_a, **{"X-Correlation-Id": sent})
    assert response.headers["X-Correlation-Id"] != sent
    [(correlation_id, _)] = _submitted(intake.engine)
    assert correlation_id == response.get_json()["id"]


def test_log_lines_name_nobody(client, intake, kamer_a):
    response, logs = _submit(client, kamer_a)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as more:
        client.get(f"/v1/requests/{response.get_json()['id']}", headers=kamer_a.headers)
    assert logs and more
    flat = repr(logs + more)
    assert not [word for word in PERSONAL if word in flat]

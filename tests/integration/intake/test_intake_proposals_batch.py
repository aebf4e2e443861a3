"""matching's proposals handled as a batch (intake's consumer under load) end exactly as the
same proposals handled one by one, on SQLite and PostgreSQL: the common case in a few
statements, every other case (a duplicate, a redelivery, two decisions for one request, a
cancelled request, a paused or unknown volunteer, a policy that approves) as before."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from intake_support import Kamer, uow
from sqlalchemy import event, select

from mienskip_intake.adapters import tables as t
from mienskip_intake.service_layer import events
from mienskip_shared.contracts import new_event, parse

IN_A_WEEK = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
VOLUNTEER = {"name": "Anna de Vries", "language": "nl", "home": {"lat": 53.2012, "lon": 5.7999},
             "skills": ["pets", "shopping"], "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}]}


def _kamer(client, intake, coordinator, name):
    """A kamer that approves shopping at once, and ways to make its requests, its volunteers
    and matching's proposals."""
    kamer = Kamer(intake.engine, name)
    assert client.put(f"/v1/kamers/{kamer.id}/auto-approve", json={"categories": ["shopping"]},
                      headers=coordinator).status_code == 200

    def request(category="pets"):
        body = {"resident": {"name": "Jan Hoekstra", "language": "fy"}, "location": {"lat": 53.2251, "lon": 5.7530},
                "category": category, "window": {"start": IN_A_WEEK.isoformat(),
                                                 "end": (IN_A_WEEK + timedelta(hours=1)).isoformat()}}
        return client.post("/v1/requests", json=body, headers=kamer.headers).get_json()["id"]

    def volunteer():
        return client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer.headers).get_json()["id"]

    def proposal(request_id, volunteer_id, decision=1):
        return parse(new_event("assignment.proposed", {
            "assignment_id": str(uuid.uuid4()), "request_id": request_id, "volunteer_id": volunteer_id,
            "kamer_id": kamer.id, "region": "leeuwarden", "distance_km": 1.2, "explanation": {"distance_km": 1.2},
            "decision": decision}, correlation_id=request_id).to_json())

    return kamer, request, volunteer, proposal


def _setting(client, intake, coordinator, name):
    """A kamer's requests by label, and the proposals that arrive for them in one delivery batch."""
    kamer, request, volunteer, proposal = _kamer(client, intake, coordinator, name)
    requests = {label: request() for label in ("plain-1", "plain-2", "plain-3", "twice", "cancelled", "paused",
                                                "unknown volunteer", "no number", "handled before")}
    requests["policy"] = request("shopping")
    helper, paused = volunteer(), volunteer()
    assert client.patch(f"/v1/volunteers/{paused}", headers=kamer.headers, json={"active": False}).status_code == 200
    assert client.post(f"/v1/requests/{requests['cancelled']}/cancel", json={}, headers=kamer.headers).status_code == 200
    handled_before = proposal(requests["handled before"], helper)
    events.on_assignment_proposed(handled_before, uow(intake.engine))
    plain_1 = proposal(requests["plain-1"], helper)
    batch = [plain_1, proposal(requests["plain-2"], helper), plain_1,  # the same delivery twice
             proposal(requests["twice"], helper, decision=2), proposal(requests["cancelled"], helper),
             proposal(requests["twice"], helper, decision=1),  # overtaken by decision 2
             proposal(requests["paused"], paused), proposal(requests["unknown volunteer"], "v-unknown"),
             proposal(requests["no number"], helper, decision=0), proposal(requests["policy"], helper),
             handled_before, proposal(requests["plain-3"], helper)]
    return requests, batch


def _outcome(engine, requests):
    """Per label: the request's status and decision, its assignments, the steps and notes of
    its history (actors by kind: each setting has its own kamer's token), the events it published."""
    with engine.connect() as conn:
        def rows(query):
            return conn.execute(query).all()

        outcome = {}
        for label, request_id in requests.items():
            (status, decision), = rows(select(t.requests.c.status, t.requests.c.last_decision)
                                      .where(t.requests.c.id == request_id))
            assignments = sorted((a.status, a.distance_km) for a in rows(
                select(t.assignments).where(t.assignments.c.request_id == request_id)))
            history = [(h.status, h.actor.split(":")[0], h.note_code, h.note_params) for h in rows(
                select(t.history).where(t.history.c.request_id == request_id).order_by(t.history.c.id))]
            published = sorted(e.event_type for e in rows(select(t.outbox.c.event_type).where(
                t.outbox.c.body.contains(request_id))) if e.event_type != "contact.resident")
            outcome[label] = (status, decision, assignments, history, published)
        return outcome


def test_a_batch_of_proposals_ends_as_the_same_proposals_one_by_one(client, intake, coordinator):
    one_by_one, deliveries = _setting(client, intake, coordinator, "Buurtkamer Bilgaard")
    for envelope in deliveries:
        events.on_assignment_proposed(envelope, uow(intake.engine))
    as_batch, batch = _setting(client, intake, coordinator, "Dorpskamer Grou")
    batch_uow = uow(intake.engine)
    with batch_uow.batch():
        events.on_assignments_proposed(batch, batch_uow)

    expected = _outcome(intake.engine, one_by_one)
    assert _outcome(intake.engine, as_batch) == expected
    statuses = {label: outcome[0] for label, outcome in expected.items()}
    assert statuses == {"plain-1": "proposed", "plain-2": "proposed", "plain-3": "proposed", "twice": "proposed",
                        "cancelled": "cancelled", "paused": "queued", "unknown volunteer": "proposed",
                        "no number": "proposed", "handled before": "proposed", "policy": "approved"}
    assert expected["plain-1"][4] == ["assignment.review_requested", "request.submitted"]  # once, not twice


def test_a_batch_of_plain_proposals_takes_the_same_few_statements_however_many(client, intake, coordinator):
    _, request, volunteer, proposal = _kamer(client, intake, coordinator, "Buurtkamer Bilgaard")
    helper = volunteer()

    def statements_for(count):
        batch = [proposal(request(), helper) for _ in range(count)]
        executed = []
        listen = lambda conn, cursor, statement, *rest: executed.append(statement)  # noqa: E731
        event.listen(intake.engine, "before_cursor_execute", listen)
        try:
            batch_uow = uow(intake.engine)
            with batch_uow.batch():
                events.on_assignments_proposed(batch, batch_uow)
        finally:
            event.remove(intake.engine, "before_cursor_execute", listen)
        return len(executed)

    assert statements_for(20) == statements_for(2)

"""The visit record over HTTP (POST /v1/assignments/{id}/complete) and through its
handler, on SQLite and PostgreSQL: who may record, once, not before the task, done
completes the request, not done goes back to the kamer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from intake_support import TEST_SECRET, propose, uow
from sqlalchemy import func, select

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain import commands
from mienskip_intake.domain.model import Principal, Role
from mienskip_intake.service_layer import visits
from mienskip_intake.service_layer.common import Conflict
from mienskip_shared.contracts import parse
from mienskip_shared.links import sign_volunteer_link

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
AFTER = START + timedelta(hours=2)
VOLUNTEER = {"name": "Hiltsje Bouma", "language": "fy", "home": {"lat": 53.2012, "lon": 5.7999},
             "skills": ["pets"], "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}]}


def _request_body(start=START, **extra):
    return {"resident": {"name": "Durk Postma", "language": "fy", "address": "Tsjerkepaed 3, 9001 AB Grou"},
            "location": {"lat": 53.2251, "lon": 5.7530}, "category": "pets",
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}, **extra}


@pytest.fixture
def clock(intake):
    """The app's clock, moved by the test (``clock.now``)."""
    class Clock:
        now = AFTER

    clock = Clock()
    intake.wsgi_app.config["MIENSKIP_CLOCK"] = lambda: clock.now
    return clock


@pytest.fixture
def accepted(client, intake, kamer_a):
    """A request of kamer A whose volunteer accepted: (request id, volunteer id, assignment id)."""
    def make(start=START, volunteer_id=None, **extra):
        request_id = client.post("/v1/requests", json=_request_body(start, **extra),
                                 headers=kamer_a.headers).get_json()["id"]
        volunteer_id = volunteer_id or client.post("/v1/volunteers", json=VOLUNTEER,
                                                   headers=kamer_a.headers).get_json()["id"]
        assignment_id = propose(intake.engine, request_id, volunteer_id)
        for step in ("approve", "accept"):
            answer = client.post(f"/v1/assignments/{assignment_id}/{step}", json={}, headers=kamer_a.headers)
            assert answer.status_code == 200, answer.get_json()
        return request_id, volunteer_id, assignment_id
    return make


def _link(assignment_id, volunteer_id):
    token = sign_volunteer_link(TEST_SECRET, assignment_id, volunteer_id, datetime.now(UTC) + timedelta(days=30))
    return {"Authorization": f"Bearer {token}"}


def _events(engine, event_type):
    with engine.begin() as tx:
        rows = tx.execute(select(t.outbox.c.body).where(t.outbox.c.event_type == event_type)
                          .order_by(t.outbox.c.id)).all()
    return [parse(r.body) for r in rows]


def _counts(engine):
    """Everything a refused completion must leave as it was."""
    with engine.begin() as tx:
        return {name: tx.execute(select(func.count()).select_from(table)).scalar()
                for name, table in (("visits", t.visits), ("outbox", t.outbox), ("history", t.history))}


def test_the_volunteer_records_a_done_visit_and_the_request_completes(client, intake, kamer_a, clock, accepted):
    request_id, volunteer_id, assignment_id = accepted()
    answer = client.post(f"/v1/assignments/{assignment_id}/complete",
                         json={"done": True, "hours": 1.5, "km": 12.4, "note": "Mei de hûn nei it park"},
                         headers=_link(assignment_id, volunteer_id))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "completed" and body["request"]["status"] == "completed"
    with intake.engine.begin() as tx:
        visit = tx.execute(select(t.visits)).one()
    assert (visit.done, visit.hours, visit.km, visit.note) == (True, 1.5, 12.4, "Mei de hûn nei it park")
    assert visit.recorded_by == f"volunteer:{volunteer_id}" and visit.kamer_id == kamer_a.id
    [completed] = _events(intake.engine, "assignment.completed")
    assert completed.data["done"] is True and completed.data["hours"] == 1.5 and completed.data["km"] == 12.4
    assert completed.data["actor"] == "volunteer" and "note" not in completed.data
    [done] = _events(intake.engine, "request.completed")
    assert done.data == {"request_id": request_id, "kamer_id": kamer_a.id, "region": "leeuwarden"}
    story = client.get(f"/v1/requests/{request_id}", headers={**kamer_a.headers, "Accept-Language": "en"}).get_json()
    codes = [(h["status"], h["note_code"], h["actor"]) for h in story["history"]][-2:]
    assert codes == [(None, "visit_done", f"volunteer:{volunteer_id}"), ("completed", None, f"volunteer:{volunteer_id}")]


def test_a_repeat_is_a_409_that_changes_nothing(client, intake, kamer_a, clock, accepted):
    _, volunteer_id, assignment_id = accepted()
    url = f"/v1/assignments/{assignment_id}/complete"
    assert client.post(url, json={"done": True}, headers=kamer_a.headers).status_code == 200
    before = _counts(intake.engine)
    again = client.post(url, json={"done": True, "km": 3}, headers={**_link(assignment_id, volunteer_id),
                                                                     "Accept-Language": "en"})
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    assert "already recorded" in again.get_json()["message"]
    assert _counts(intake.engine) == before


def test_too_early_is_a_409_that_changes_nothing(client, intake, kamer_a, clock, accepted):
    request_id, _, assignment_id = accepted()
    clock.now = START - timedelta(minutes=1)
    before = _counts(intake.engine)
    early = client.post(f"/v1/assignments/{assignment_id}/complete", json={"done": True},
                        headers={**kamer_a.headers, "Accept-Language": "en"})
    assert early.status_code == 409 and "not started" in early.get_json()["message"]
    assert _counts(intake.engine) == before
    assert client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()["status"] == "accepted"


def test_a_task_not_accepted_is_a_409(client, intake, kamer_a, clock):
    request_id = client.post("/v1/requests", json=_request_body(), headers=kamer_a.headers).get_json()["id"]
    volunteer_id = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_a.headers).get_json()["id"]
    assignment_id = propose(intake.engine, request_id, volunteer_id)
    before = _counts(intake.engine)
    answer = client.post(f"/v1/assignments/{assignment_id}/complete", json={"done": True},
                         headers={**kamer_a.headers, "Accept-Language": "en"})
    assert answer.status_code == 409 and "proposed" in answer.get_json()["message"]
    assert _counts(intake.engine) == before


def test_not_done_keeps_the_request_with_the_kamer(client, intake, kamer_a, coordinator, clock, accepted):
    request_id, _, assignment_id = accepted()
    answer = client.post(f"/v1/assignments/{assignment_id}/complete", json={"done": False, "reason": "Net thús"},
                         headers=coordinator)
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "accepted" and answer.get_json()["request"]["status"] == "accepted"
    [event] = _events(intake.engine, "assignment.completed")
    assert event.data["done"] is False and event.data["reason"] == "Net thús" and event.data["actor"] == "coordinator"
    assert _events(intake.engine, "request.completed") == []
    story = client.get(f"/v1/requests/{request_id}", headers={**kamer_a.headers, "Accept-Language": "en"}).get_json()
    last = story["history"][-1]
    assert last["note_code"] == "visit_not_done" and last["note"].endswith("Net thús")
    assert last["actor"].startswith("coordinator:")


@pytest.mark.parametrize(("body", "field"), [({"done": False}, "reason"), ({"done": False, "reason": " "}, "reason"),
                                             ({"done": False, "reason": "ziek", "km": 4}, "km"),
                                             ({"done": True, "hours": 25}, "hours"), ({"done": True, "km": -1}, "km"),
                                             ({"done": "yes"}, "done"), ({"hours": 1}, "done"),
                                             ({"done": True, "km": "12"}, "km")])
def test_bad_records_are_422_naming_the_field_and_change_nothing(client, intake, kamer_a, clock, accepted, body,
                                                                  field):
    _, _, assignment_id = accepted()
    before = _counts(intake.engine)
    answer = client.post(f"/v1/assignments/{assignment_id}/complete", json=body, headers=kamer_a.headers)
    assert answer.status_code == 422 and field in answer.get_json()["errors"], answer.get_json()
    assert _counts(intake.engine) == before


def test_a_volunteer_link_for_another_assignment_is_404(client, intake, kamer_a, clock, accepted):
    _, volunteer_id, assignment_id = accepted()
    _, other_volunteer, other_assignment = accepted()
    for headers in (_link(other_assignment, other_volunteer), _link(other_assignment, volunteer_id),
                    _link(assignment_id, other_volunteer)):
        answer = client.post(f"/v1/assignments/{assignment_id}/complete", json={"done": True}, headers=headers)
        assert answer.status_code == 404
    assert _counts(intake.engine)["visits"] == 0


def test_another_kamer_gets_404_and_an_operator_403(client, intake, kamer_b, operator, clock, accepted):
    _, _, assignment_id = accepted()
    url = f"/v1/assignments/{assignment_id}/complete"
    assert client.post(url, json={"done": True}, headers=kamer_b.headers).status_code == 404
    assert client.post(url, json={"done": True}, headers=operator).status_code == 403
    assert _counts(intake.engine)["visits"] == 0


def test_each_visit_of_a_weekly_series_is_recorded(client, intake, kamer_a, clock, accepted):
    first_request, volunteer_id, first = accepted(recurrence="weekly")
    second_request, _, second = accepted(START + timedelta(days=7), volunteer_id=volunteer_id, recurrence="weekly",
                                         follows=first_request)
    assert first != second
    clock.now = START + timedelta(days=7, hours=2)
    for assignment_id, km in ((first, 8.0), (second, 9.5)):
        answer = client.post(f"/v1/assignments/{assignment_id}/complete", json={"done": True, "km": km},
                             headers=_link(assignment_id, volunteer_id))
        assert answer.status_code == 200 and answer.get_json()["request"]["status"] == "completed"
    with intake.engine.begin() as tx:
        rows = tx.execute(select(t.visits.c.request_id, t.visits.c.km).order_by(t.visits.c.km)).all()
    assert [tuple(r) for r in rows] == [(first_request, 8.0), (second_request, 9.5)]


def test_the_handler_refuses_a_repeat_and_too_early_without_writing(intake, kamer_a, client, accepted):
    _, _, assignment_id = accepted()
    staff = Principal(token_id=kamer_a.token_id, role=Role.KAMER, kamer_id=kamer_a.id)
    with pytest.raises(Conflict) as early:
        visits.complete(commands.CompleteAssignment(staff, assignment_id, done=True, at=START - timedelta(hours=1)),
                        uow(intake.engine))
    assert early.value.code == "visit_too_early"
    assignment, request = visits.complete(commands.CompleteAssignment(staff, assignment_id, done=True, hours=2,
                                                                      at=AFTER), uow(intake.engine))
    assert (assignment.status, request.status) == ("completed", "completed")
    before = _counts(intake.engine)
    with pytest.raises(Conflict) as again:
        visits.complete(commands.CompleteAssignment(staff, assignment_id, done=False, reason="x", at=AFTER),
                        uow(intake.engine))
    assert again.value.code == "visit_recorded" and _counts(intake.engine) == before


def test_erasing_the_resident_or_the_volunteer_removes_what_people_wrote(client, intake, kamer_a, clock, accepted):
    from mienskip_intake.service_layer import privacy

    first_request, volunteer_id, first = accepted()
    _, other_volunteer, second = accepted()
    client.post(f"/v1/assignments/{first}/complete", json={"done": True, "km": 4, "note": "Durk is siik"},
                headers=kamer_a.headers)
    client.post(f"/v1/assignments/{second}/complete", json={"done": False, "reason": "Hiltsje har de flu"},
                headers=kamer_a.headers)
    privacy.erase_resident(commands.EraseResident(first_request), uow(intake.engine))
    privacy.erase_volunteer(commands.EraseVolunteer(other_volunteer), uow(intake.engine))
    with intake.engine.begin() as tx:
        rows = {r.assignment_id: r for r in tx.execute(select(t.visits))}
    assert (rows[first].note, rows[first].km, rows[first].done) == (None, 4.0, True)
    assert (rows[second].reason, rows[second].done) == (None, False)

"""Changing, pausing, listing and registering volunteers through the API, on SQLite and
PostgreSQL: PATCH /v1/volunteers/{id}, GET /v1/volunteers, duplicates, and what each change
announces to matching and notify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from intake_support import issue_token, propose
from sqlalchemy import select

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain.model import Role
from mienskip_shared.contracts import parse

LOCAL = ZoneInfo("Europe/Amsterdam")
SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
SOON_DAY = SOON.astimezone(LOCAL).date()
TODAY = datetime.now(LOCAL).date()
VOLUNTEER = {"name": "Anna de Vries", "email": "anna@example.org", "phone": "+31612345678",
             "home": {"lat": 53.20123, "lon": 5.79991}, "skills": ["buddy"], "vog_checked_on": "2026-01-02",
             "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}]}
REQUEST = {"resident": {"name": "Sjoerd Wâldsma"}, "location": {"lat": 53.09461, "lon": 5.83742},
           "category": "buddy", "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()}}


def _events(engine, event_type):
    with engine.begin() as tx:
        rows = tx.execute(select(t.outbox.c.body).where(t.outbox.c.event_type == event_type)
                          .order_by(t.outbox.c.id)).all()
    return [parse(r.body).data for r in rows]


def _period(first, last):
    return {"from": first.isoformat(), "to": last.isoformat()}


@pytest.fixture
def volunteer(client, kamer_a):
    response = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_a.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def elsewhere(intake):
    _, token = issue_token(intake.engine, Role.COORDINATOR, region="fryslan-noard")
    return {"Authorization": f"Bearer {token}"}


def test_a_patch_changes_only_what_it_names_and_announces_the_whole_state(client, intake, kamer_a, volunteer):
    away = _period(SOON_DAY, SOON_DAY + timedelta(days=6))
    response = client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers, json={
        "max_tasks_per_week": 1, "languages": ["fy"], "away": [away]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["max_tasks_per_week"], body["languages"], body["away"]) == (1, ["nl", "fy"], [away])
    assert (body["name"], body["phone"], body["skills"], body["status"], body["revision"]) == (
        "Anna de Vries", "+31612345678", ["buddy"], "active", 1)
    assert client.get(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers).get_json()["away"] == [away]

    [registered] = _events(intake.engine, "volunteer.registered")
    [updated] = _events(intake.engine, "volunteer.updated")
    assert registered["revision"] == 0 and updated["revision"] == 1
    assert updated["max_tasks_per_week"] == 1 and updated["active"] is True and updated["skills"] == ["buddy"]
    assert [(p["start"], p["end"]) for p in updated["away"]] == [(SOON_DAY, SOON_DAY + timedelta(days=6))]
    assert "name" not in updated and "phone" not in updated  # personal data stays off matching's events
    assert len(_events(intake.engine, "contact.volunteer")) == 1  # no contact detail changed


def test_a_changed_phone_reaches_notify_and_nothing_changed_announces_nothing(client, intake, kamer_a, volunteer):
    client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers, json={"phone": "+31687654321"})
    assert _events(intake.engine, "contact.volunteer")[-1]["phone"] == "+31687654321"
    again = client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers, json={"phone": "+31687654321"})
    assert again.status_code == 200 and again.get_json()["revision"] == 1
    assert len(_events(intake.engine, "volunteer.updated")) == 1


@pytest.mark.parametrize("away, field", [
    ([{"from": "2027-01-03", "to": "2026-12-20"}], "away.0.to"),
    ([_period(TODAY, TODAY + timedelta(days=400))], "away.0.to"),
    ([_period(TODAY + timedelta(days=800), TODAY + timedelta(days=801))], "away.0.from"),
    ([_period(TODAY, TODAY)] * 21, "away"),
    ([{"from": "2026-12-20"}], "away.0.to"),
    ([{"from": "20 december", "to": "2026-12-21"}], "away.0.from"),
])
def test_away_periods_out_of_bounds_are_a_422_naming_the_field(client, kamer_a, volunteer, away, field):
    response = client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers, json={"away": away})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("body, field", [
    ({"max_tasks_per_week": -1}, "max_tasks_per_week"), ({"home": None}, "home"), ({"active": "nee"}, "active"),
    ({"kamer_id": "other"}, "kamer_id"), ({"allow_duplicate": True}, "allow_duplicate"), ({"name": ""}, "name"),
])
def test_a_bad_field_is_a_422_and_changes_nothing(client, kamer_a, volunteer, body, field):
    response = client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers, json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert client.get(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers).get_json()["revision"] == 0


def test_a_period_already_over_is_dropped(client, kamer_a, volunteer):
    past, coming = _period(TODAY - timedelta(days=9), TODAY - timedelta(days=2)), _period(TODAY, TODAY)
    body = client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers, json={"away": [past, coming]})
    assert body.get_json()["away"] == [coming]


def test_only_the_own_kamer_and_the_regions_coordinator_reach_a_volunteer(client, kamer_a, kamer_b, coordinator,
                                                                          elsewhere, operator, volunteer):
    change = {"max_distance_km": 3}
    assert client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_b.headers, json=change).status_code == 404
    assert client.patch(f"/v1/volunteers/{volunteer}", headers=elsewhere, json=change).status_code == 404
    assert client.patch(f"/v1/volunteers/{volunteer}", headers=operator, json=change).status_code == 403
    assert client.patch("/v1/volunteers/nobody", headers=kamer_a.headers, json=change).status_code == 404
    assert client.patch(f"/v1/volunteers/{volunteer}", headers=coordinator, json=change).status_code == 200
    assert client.get(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers).get_json()["max_distance_km"] == 3


def _task(client, intake, kamer, volunteer_id, until):
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer.headers).get_json()["id"]
    assignment_id = propose(intake.engine, request_id, volunteer_id)
    for action in {"proposed": [], "approved": ["approve"], "accepted": ["approve", "accept"]}[until]:
        assert client.post(f"/v1/assignments/{assignment_id}/{action}", json={}, headers=kamer.headers).status_code == 200
    return request_id, assignment_id


def _assignment(client, kamer, request_id):
    return client.get(f"/v1/requests/{request_id}", headers=kamer.headers).get_json()


def test_a_pause_ends_offers_not_yet_accepted_as_a_decline_would(client, intake, kamer_a, volunteer):
    proposed_request, _ = _task(client, intake, kamer_a, volunteer, "proposed")
    approved_request, _ = _task(client, intake, kamer_a, volunteer, "approved")
    accepted_request, _ = _task(client, intake, kamer_a, volunteer, "accepted")

    body = client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers, json={"active": False}).get_json()
    assert body["status"] == "paused" and body["active"] is False

    assert _assignment(client, kamer_a, proposed_request)["status"] == "queued"
    assert _assignment(client, kamer_a, approved_request)["status"] == "declined"
    assert _assignment(client, kamer_a, accepted_request)["status"] == "accepted"  # they said yes: it stays
    declined = _events(intake.engine, "assignment.declined")
    assert sorted((d["request_id"], d["reason_code"], d["rematch"]) for d in declined) == sorted(
        [(proposed_request, "volunteer_paused", True), (approved_request, "volunteer_paused", True)])
    assert _events(intake.engine, "volunteer.updated")[-1]["active"] is False
    history = _assignment(client, kamer_a, approved_request)["history"]
    assert history[-1]["note_code"] == "volunteer_paused"

    resumed = client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers, json={"active": True})
    assert resumed.get_json()["status"] == "active"
    assert _events(intake.engine, "volunteer.updated")[-1] == {**_events(intake.engine, "volunteer.updated")[-1],
                                                                "active": True, "revision": 2}


def test_an_away_period_ends_the_offers_on_its_days_only(client, intake, kamer_a, volunteer):
    on_the_day, _ = _task(client, intake, kamer_a, volunteer, "approved")
    later_body = {**REQUEST, "window": {"start": (SOON + timedelta(days=14)).isoformat(),
                                        "end": (SOON + timedelta(days=14, hours=1)).isoformat()}}
    later = client.post("/v1/requests", json=later_body, headers=kamer_a.headers).get_json()["id"]
    later_assignment = propose(intake.engine, later, volunteer)
    client.post(f"/v1/assignments/{later_assignment}/approve", json={}, headers=kamer_a.headers)

    client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers,
                 json={"away": [_period(SOON_DAY, SOON_DAY + timedelta(days=2))]})
    assert _assignment(client, kamer_a, on_the_day)["status"] == "declined"
    assert _assignment(client, kamer_a, later)["status"] == "approved"
    [declined] = _events(intake.engine, "assignment.declined")
    assert (declined["request_id"], declined["reason_code"]) == (on_the_day, "volunteer_away")


def test_a_proposal_that_crossed_the_pause_on_the_way_is_withdrawn(client, intake, kamer_a, volunteer):
    client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers, json={"active": False})
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    propose(intake.engine, request_id, volunteer)  # matching had not heard of the pause yet
    assert _assignment(client, kamer_a, request_id)["status"] == "queued"
    assert _events(intake.engine, "assignment.declined")[-1]["reason_code"] == "volunteer_paused"
    assert _events(intake.engine, "assignment.review_requested") == []


# -- registering the same person twice --------------------------------------------------------

def test_the_same_person_twice_is_a_409_naming_the_one_the_kamer_has(client, kamer_a, volunteer):
    again = {**VOLUNTEER, "name": "  anna de  VRIES ", "phone": "06-12345678", "email": None}
    response = client.post("/v1/volunteers", json=again, headers=kamer_a.headers)
    assert response.status_code == 409
    body = response.get_json()
    assert (body["code"], body["existing_id"]) == ("duplicate", volunteer) and body["message"]
    forced = client.post("/v1/volunteers", json={**again, "allow_duplicate": True}, headers=kamer_a.headers)
    assert forced.status_code == 201 and forced.get_json()["id"] != volunteer
    assert "allow_duplicate" not in forced.get_json()


def test_a_namesake_with_other_contacts_or_at_another_kamer_is_not_a_duplicate(client, kamer_a, kamer_b, volunteer):
    namesake = {**VOLUNTEER, "phone": "+31699999999", "email": "a.devries@example.org"}
    assert client.post("/v1/volunteers", json=namesake, headers=kamer_a.headers).status_code == 201
    assert client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_b.headers).status_code == 201


# -- the list ----------------------------------------------------------------------------------

def test_the_list_is_the_kamers_own_by_name_a_page_at_a_time(client, kamer_a, kamer_b, coordinator, elsewhere):
    names = ["Sytske Hoekstra", "Auke Postma", "Baukje Bouma", "Durk de Jong", "Wietske Visser"]
    ids = {name: client.post("/v1/volunteers", json={**VOLUNTEER, "name": name}, headers=kamer_a.headers)
           .get_json()["id"] for name in names}
    client.post("/v1/volunteers", json={**VOLUNTEER, "name": "Klaas Bakker"}, headers=kamer_b.headers)
    client.patch(f"/v1/volunteers/{ids['Durk de Jong']}", headers=kamer_a.headers, json={"active": False})

    seen, cursor = [], None
    while True:
        page = client.get("/v1/volunteers", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=kamer_a.headers).get_json()
        seen += [item["name"] for item in page["items"]]
        assert len(page["items"]) <= 2
        if "next" not in page:
            break
        cursor = page["next"]
    assert seen == sorted(names)

    def names_for(headers, **query):
        return [i["name"] for i in client.get("/v1/volunteers", query_string=query, headers=headers)
                .get_json()["items"]]

    assert names_for(kamer_a.headers, q="HOEK") == ["Sytske Hoekstra"]
    assert names_for(kamer_a.headers, status="paused") == ["Durk de Jong"]
    assert "Durk de Jong" not in names_for(kamer_a.headers, status="active")
    assert names_for(kamer_b.headers) == ["Klaas Bakker"]
    assert len(names_for(coordinator)) == 6
    assert names_for(elsewhere) == []
    assert client.get("/v1/volunteers?cursor=nonsense", headers=kamer_a.headers).status_code == 422
    assert client.get("/v1/volunteers?status=busy", headers=kamer_a.headers).status_code == 422


# -- a home by its Dutch address ---------------------------------------------------------------

def test_a_home_may_be_given_by_postcode_and_house_number(client, intake, kamer_a):
    body = {**VOLUNTEER, "home_address": {"postcode": "9001 AB", "house_number": "3"}}
    del body["home"]
    response = client.post("/v1/volunteers", json=body, headers=kamer_a.headers)
    assert response.status_code == 201, response.get_json()
    home = response.get_json()["home"]
    assert home["precision"] == "postcode4" and abs(home["lat"] - 53.09) < 0.05  # Grou, from the embedded areas
    volunteer = response.get_json()["id"]
    moved = client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers,
                         json={"home": {"lat": 53.2012, "lon": 5.7999}}).get_json()["home"]
    assert moved == {"lat": 53.2012, "lon": 5.7999, "precision": "given"}
    assert _events(intake.engine, "volunteer.updated")[-1]["home"] == {"lat": 53.201, "lon": 5.8}


@pytest.mark.parametrize("change, field", [
    ({"home_address": {"postcode": "1000 ZZ", "house_number": "1"}}, "home_address.postcode"),
    ({"home_address": {"postcode": "9001 AB", "house_number": "3"}, "home": {"lat": 53.2, "lon": 5.8}},
     "home_address"),
    ({"home": None}, "home"),
])
def test_a_home_address_that_cannot_be_placed_is_a_422(client, kamer_a, volunteer, change, field):
    response = client.patch(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers, json=change)
    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()


def test_a_registration_without_any_home_names_the_field(client, kamer_a):
    body = {name: value for name, value in VOLUNTEER.items() if name != "home"}
    response = client.post("/v1/volunteers", json=body, headers=kamer_a.headers)
    assert response.status_code == 422 and "home" in response.get_json()["errors"]


# -- stopping ----------------------------------------------------------------------------------

def test_stopping_ends_every_open_task_and_retention_erases_them_later(client, intake, kamer_a, volunteer):
    from intake_support import uow

    from mienskip_intake.domain.commands import ApplyRetention, StopVolunteering
    from mienskip_intake.domain.model import Principal
    from mienskip_intake.service_layer import privacy, volunteers

    approved_request, _ = _task(client, intake, kamer_a, volunteer, "approved")
    accepted_request, _ = _task(client, intake, kamer_a, volunteer, "accepted")
    own_link = Principal(token_id=volunteer, role=Role.VOLUNTEER, volunteer_id=volunteer, assignment_id="any")
    stopped = volunteers.stop_volunteering(StopVolunteering(own_link, volunteer), uow(intake.engine))
    assert stopped.active is False and stopped.stopped_at is not None

    assert _assignment(client, kamer_a, approved_request)["status"] == "declined"
    assert _assignment(client, kamer_a, accepted_request)["status"] == "declined"
    assert {d["reason_code"] for d in _events(intake.engine, "assignment.declined")} == {"volunteer_stopped"}
    assert client.get(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers).get_json()["status"] == "stopped"

    someone_else = Principal(token_id="x", role=Role.VOLUNTEER, volunteer_id="another", assignment_id="any")
    with pytest.raises(Exception, match=volunteer):  # NotFound: a link reaches only its own volunteer
        volunteers.stop_volunteering(StopVolunteering(someone_else, volunteer), uow(intake.engine))

    keep = timedelta(days=365)
    assert privacy.apply_retention(ApplyRetention(keep), uow(intake.engine)) == 0  # not yet
    later = datetime.now(UTC) + keep + timedelta(days=1)
    assert privacy.apply_retention(ApplyRetention(keep, at=later), uow(intake.engine)) == 1
    body = client.get(f"/v1/volunteers/{volunteer}", headers=kamer_a.headers).get_json()
    assert (body["name"], body["phone"]) == ("", None)
    assert _events(intake.engine, "personal_data.erased")[-1]["reason"] == "retention"

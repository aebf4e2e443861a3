"""A volunteer's home placed on its postcode area while PDOK was away is looked up
exactly later, as a request's place is (issue 16): the worker saves the exact home with
one more revision and announces ``volunteer.updated`` with it (rounded), so matching
measures from it. Against a local stand-in for PDOK, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

from intake_support import Kamer, uow
from sqlalchemy import select
from ui_support import post_form, sign_in

from mienskip_intake.adapters import tables as t
from mienskip_intake.adapters.geocoders import build_lookup
from mienskip_intake.domain.commands import EraseVolunteer, LookUpExactLocations
from mienskip_intake.service_layer import locations, privacy
from mienskip_shared.contracts import parse

HILTSJE = {"name": "Hiltsje Bouma", "language": "fy", "phone": "0611122233",
           "home_address": {"postcode": "9001ab", "house_number": "3", "addition": "a"},
           "skills": ["pets"], "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}]}
CENTROID, EXACT = (53.09276, 5.83689), (53.09411, 5.83712)


def stored(engine, volunteer_id):
    with engine.begin() as tx:
        return tx.execute(select(t.volunteers).where(t.volunteers.c.id == volunteer_id)).one()


def events(engine, event_type):
    with engine.begin() as tx:
        rows = tx.execute(select(t.outbox).where(t.outbox.c.event_type == event_type).order_by(t.outbox.c.id))
        return [parse(row.body) for row in rows]


def look_up(engine, pdok) -> bool:
    return locations.look_up_exact_locations(LookUpExactLocations(), lambda: uow(engine),
                                             build_lookup("pdok", pdok.url, timeout_s=0.5))


def registered_while_away(service, pdok, kamer, **changes) -> str:
    pdok.mode = "error"
    answer = service.wsgi_app.test_client().post("/v1/volunteers", json={**HILTSJE, **changes}, headers=kamer.headers)
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def test_a_home_placed_while_pdok_was_away_becomes_exact_and_matching_hears_it(pdok_intake, pdok):
    engine = pdok_intake.engine
    kamer = Kamer(engine, "Dorpskamer Grou", 53.0946, 5.8374)
    volunteer_id = registered_while_away(pdok_intake, pdok, kamer)
    row = stored(engine, volunteer_id)
    assert ((row.home_lat, row.home_lon), row.home_precision, row.revision) == (CENTROID, "postcode4", 0)
    assert row.home_exact_lookup == {"postcode": "9001 AB", "house_number": "3", "addition": "A", "fill_text": True}
    [registered] = events(engine, "volunteer.registered")
    assert registered.data["home"] == {"lat": 53.093, "lon": 5.837}

    assert look_up(engine, pdok) is False  # still away: nothing changes, the mark stays
    assert stored(engine, volunteer_id).home_exact_lookup is not None and events(engine, "volunteer.updated") == []

    pdok.mode = "ok"
    look_up(engine, pdok)
    row = stored(engine, volunteer_id)
    assert ((row.home_lat, row.home_lon), row.home_precision, row.revision) == (EXACT, "exact", 1)
    assert row.home_exact_lookup is None
    [updated] = events(engine, "volunteer.updated")
    assert updated.data["home"] == {"lat": 53.094, "lon": 5.837} and updated.data["revision"] == 1
    assert updated.data["volunteer_id"] == volunteer_id and updated.data["skills"] == ["pets"]
    assert events(engine, "contact.volunteer")[-1].data["phone"] == "0611122233"  # contact unchanged: no new one
    assert len(events(engine, "contact.volunteer")) == 1
    shown = pdok_intake.wsgi_app.test_client().get(f"/v1/volunteers/{volunteer_id}", headers=kamer.headers).json
    assert shown["home"] == {"lat": EXACT[0], "lon": EXACT[1], "precision": "exact"}
    with engine.begin() as tx:
        audited = tx.execute(select(t.audit_log.c.action, t.audit_log.c.token_id).where(
            t.audit_log.c.subject_id == volunteer_id, t.audit_log.c.action == "update")).all()
    assert [tuple(a) for a in audited] == [("update", "system")]
    look_up(engine, pdok)  # nothing left to do: nothing twice
    assert len(events(engine, "volunteer.updated")) == 1


def test_a_new_home_meanwhile_an_unknown_address_and_an_erasure_each_drop_the_mark(pdok_intake, pdok):
    engine = pdok_intake.engine
    kamer = Kamer(engine, "Dorpskamer Grou", 53.0946, 5.8374)
    moved = registered_while_away(pdok_intake, pdok, kamer)
    unknown = registered_while_away(pdok_intake, pdok, kamer, name="Durk Postma", phone="0622233344")
    erased = registered_while_away(pdok_intake, pdok, kamer, name="Sjoerd Kingma", phone="0633344455")
    client = pdok_intake.wsgi_app.test_client()
    assert client.patch(f"/v1/volunteers/{moved}", json={"home": {"lat": 53.1, "lon": 5.84}},
                        headers=kamer.headers).status_code == 200
    assert stored(engine, moved).home_exact_lookup is None  # typed anew: the old address is moot
    privacy.erase_volunteer(EraseVolunteer(erased), uow(engine))
    assert stored(engine, erased).home_exact_lookup is None

    pdok.mode = "empty"  # PDOK is back, and knows no such house number
    look_up(engine, pdok)
    row = stored(engine, unknown)
    assert row.home_exact_lookup is None and row.home_precision == "postcode4" and row.revision == 0
    assert [e.data["volunteer_id"] for e in events(engine, "volunteer.updated")] == [moved]  # only the PATCH's


def test_a_volunteer_imported_while_pdok_was_away_is_looked_up_exactly_later(pdok_intake, pdok):
    engine = pdok_intake.engine
    kamer = Kamer(engine, "Dorpskamer Grou", 53.0946, 5.8374)
    web = pdok_intake.wsgi_app.test_client()
    sign_in(web, kamer.token)
    pdok.mode = "error"
    sheet = ("Naam;Telefoon;Postcode;Huisnummer;Vaardigheden;Beschikbaarheid\n"
             "Sjoerd Kingma;06-12345678;9001 AB;3a;boodschappen;ma ochtend\n")
    uploaded = post_form(web, "/desk/import", {"kind": "volunteers", "file": (io.BytesIO(sheet.encode()), "lijst.csv")},
                         content_type="multipart/form-data")
    assert post_form(web, uploaded.headers["Location"] + "/confirm").status_code == 303
    with engine.begin() as tx:
        volunteer_id = tx.execute(select(t.volunteers.c.id)).scalar_one()
    row = stored(engine, volunteer_id)
    assert row.home_precision == "postcode4" and row.home_exact_lookup["postcode"] == "9001 AB"

    pdok.mode = "ok"
    look_up(engine, pdok)
    row = stored(engine, volunteer_id)
    assert ((row.home_lat, row.home_lon), row.home_precision, row.revision) == (EXACT, "exact", 1)
    assert [e.data["revision"] for e in events(engine, "volunteer.updated")] == [1]

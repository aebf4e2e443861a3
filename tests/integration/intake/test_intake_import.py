"""Importing a kamer's volunteer list at /desk/import through Flask's test client, on
SQLite and PostgreSQL: upload, preview, column meanings, all or none, likely duplicates
(skip, merge, add), another kamer's volunteers, a resend, and the upload gone after."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from ui_support import bearer_token, post_form, sign_in, text_of

from mienskip_intake.adapters import tables as t
from mienskip_intake.adapters.geocoders import build_lookup
from mienskip_intake.adapters.read_models import AMSTERDAM
from mienskip_intake.adapters.repository import IntakeUnitOfWork
from mienskip_intake.domain import commands
from mienskip_intake.domain.model import Principal, Role
from mienskip_intake.entrypoints.web.desk_import import CHECKS
from mienskip_intake.service_layer import imports
from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import parse

HEADER = "Naam;Telefoon;E-mail;Postcode;Huisnummer;Vaardigheden;Auto;Beschikbaarheid;Max taken per week\n"
SJOERD = "Sjoerd Kingma;06-12345678;;8911 AB;3;boodschappen, rijden;ja;ma, wo ochtend;2\n"
ANNA = "Anna de Vries;;anna@example.org;9001 AB;12a;tuin;nee;di 09:00-12:00;1\n"


@pytest.fixture
def web(intake):
    return intake.wsgi_app.test_client()


def _events(engine, event_type=None):
    with engine.connect() as tx:
        query = select(t.outbox).order_by(t.outbox.c.id)
        if event_type:
            query = query.where(t.outbox.c.event_type == event_type)
        return [parse(row.body) for row in tx.execute(query)]


def _stored_uploads(engine):
    with engine.connect() as tx:
        return tx.execute(select(t.imports.c.status, t.imports.c.rows)).all()


def _volunteers(engine, kamer_id):
    with engine.connect() as tx:
        return tx.execute(select(t.volunteers).where(t.volunteers.c.kamer_id == kamer_id)
                          .order_by(t.volunteers.c.name)).all()


def _upload(web, data: bytes, filename="vrijwilligers.csv"):
    return post_form(web, "/desk/import", {"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def _preview_path(web, data: bytes, filename="vrijwilligers.csv") -> str:
    r = _upload(web, data, filename)
    assert r.status_code == 303, r.get_data(as_text=True)
    return r.headers["Location"]


def _register(client, kamer, name, phone=None, email=None):
    body = {"name": name, "phone": phone, "email": email, "home": {"lat": 53.2, "lon": 5.79}, "skills": ["pets"],
            "language": "fy", "max_distance_km": 25,
            "availability": [{"day": "mon", "from": "09:00", "to": "12:00"}]}
    r = client.post("/v1/volunteers", json=body, headers=kamer.headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_upload_preview_and_import_register_every_row_with_its_events(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    path = _preview_path(web, ("\ufeff" + HEADER + SJOERD + ANNA).encode())
    page = web.get(path)
    text = text_of(page)
    assert page.status_code == 200
    assert "2 rijen: 0 met een probleem, 0 mogelijk al ingeschreven" in text
    assert "Sjoerd Kingma" in text and "Boodschappen, Vervoer" in text and "wo 09:00–12:00" in text
    assert "9001 AB 12 A" in text and "ongeveer" in text  # placed on the postcode area, and says so
    assert _events(intake.engine, "volunteer.registered") == []  # a preview stores nothing

    done = post_form(web, path + "/confirm")
    assert done.status_code == 303 and done.headers["Location"].endswith("/done")
    result = web.get(done.headers["Location"])
    assert "2 vrijwilligers geïmporteerd, 0 samengevoegd met bestaande, 0 overgeslagen" in text_of(result)
    assert 'href="/desk/volunteers"' in result.get_data(as_text=True)  # on to the kamer's list

    stored = _volunteers(intake.engine, kamer_a.id)
    assert [v.name for v in stored] == ["Anna de Vries", "Sjoerd Kingma"]
    sjoerd = stored[1]
    assert sjoerd.phone == "06-12345678" and sjoerd.skills == ["shopping", "transport"] and sjoerd.has_car
    assert sjoerd.availability == [{"day": "mon", "start": "09:00", "end": "17:00"},  # stored as the API stores it
                                   {"day": "wed", "start": "09:00", "end": "12:00"}]
    assert sjoerd.max_tasks_per_week == 2 and sjoerd.max_distance_km == 10.0  # the API's default
    assert sjoerd.home_precision == "postcode4"  # the embedded geocoder: the postcode area's centre
    registered = _events(intake.engine, "volunteer.registered")
    contacts = _events(intake.engine, "contact.volunteer")
    assert {e.data["volunteer_id"] for e in registered} == {v.id for v in stored} == {
        e.data["volunteer_id"] for e in contacts}
    assert all("name" not in e.data and "phone" not in e.data for e in registered)  # personal data: notify only
    with intake.engine.connect() as tx:
        audited = tx.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.action == "create", t.audit_log.c.subject_kind == "volunteer")).scalar()
    assert audited == 2
    assert _stored_uploads(intake.engine) == [("imported", None)]  # the rows are gone, only the counts stay


def test_an_xlsx_list_imports_the_same_way(web, intake, kamer_a):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Voornaam", "Achternaam", "Mobiel", "Postcode", "Huisnummer", "Help met", "VOG-datum"])
    sheet.append(["Doutzen", "Tjoelker", 612345678, "8911AB", 7, "Maatje", utcnow().replace(tzinfo=None)])
    out = io.BytesIO()
    workbook.save(out)
    sign_in(web, kamer_a.token)
    path = _preview_path(web, out.getvalue(), "lijst.xlsx")
    assert "1 rijen: 0 met een probleem" in text_of(web.get(path))
    assert post_form(web, path + "/confirm").status_code == 303
    (doutzen,) = _volunteers(intake.engine, kamer_a.id)
    assert doutzen.phone == "0612345678" and doutzen.skills == ["buddy"]  # the 0 a spreadsheet dropped is back
    assert doutzen.vog_checked_on == utcnow().date()


def test_one_erroneous_row_blocks_the_whole_import_and_says_why_in_the_person_s_language(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    bad = "Piet Paal;12;;8911 AB;3;paardrijden;ja;soms;2\n"
    path = _preview_path(web, (HEADER + SJOERD + bad).encode())
    web.get(path + "?lang=fy")
    text = text_of(web.get(path))
    assert "2 rigels: 1 mei in probleem" in text
    assert "Feardichheden: ‘paardrijden’ kenne wy net as soarte help" in text
    assert "Beskikberens: ‘soms’ begripe wy net" in text
    assert "Tillefoan: gjin tillefoannûmer" in text  # the API's own rule for a phone, in Frisian
    blocked = post_form(web, path + "/confirm")
    assert blocked.status_code == 422
    assert "Der is neat ymportearre: 1 rigels hawwe noch in probleem" in text_of(blocked)
    assert _volunteers(intake.engine, kamer_a.id) == [] and _events(intake.engine, "volunteer.registered") == []
    assert _stored_uploads(intake.engine)[0].status == "staged"  # still there to correct the columns


def test_likely_duplicates_are_shown_and_skipped_unless_chosen_otherwise(client, web, intake, kamer_a):
    existing = _register(client, kamer_a, "sjoerd KINGMA", phone="+31 6 1234 5678")
    sign_in(web, kamer_a.token)
    twice_in_file = "Anna de Vries;;ANNA@example.org;9001 AB;12;tuin;nee;;1\n"
    path = _preview_path(web, (HEADER + SJOERD + ANNA + twice_in_file).encode())
    text = text_of(web.get(path))
    assert "3 rijen: 0 met een probleem, 2 mogelijk al ingeschreven" in text
    assert "Lijkt op sjoerd KINGMA, al ingeschreven" in text and "lijkt op rij 3 van dit bestand" in text
    with intake.engine.connect() as tx:  # the existing volunteer was shown by name: audited as a list shows one
        assert tx.execute(select(t.audit_log.c.action).where(t.audit_log.c.subject_id == existing)).scalars().all() \
            == ["create", "list"]
    assert post_form(web, path + "/confirm").status_code == 303  # no choice made: duplicates are skipped
    assert "1 vrijwilligers geïmporteerd, 0 samengevoegd met bestaande, 2 overgeslagen" in text_of(
        web.get(path + "/done"))
    assert sorted(v.name for v in _volunteers(intake.engine, kamer_a.id)) == ["Anna de Vries", "sjoerd KINGMA"]
    assert existing in {v.id for v in _volunteers(intake.engine, kamer_a.id)}


def test_a_duplicate_may_be_merged_into_the_existing_volunteer_or_added_anyway(client, web, intake, kamer_a):
    existing = _register(client, kamer_a, "Sjoerd Kingma", phone="0612345678")
    sign_in(web, kamer_a.token)
    path = _preview_path(web, (HEADER + SJOERD).encode())
    assert post_form(web, path + "/confirm", {"choice-2": f"merge:{existing}"}).status_code == 303
    (merged,) = _volunteers(intake.engine, kamer_a.id)
    assert merged.id == existing and merged.skills == ["shopping", "transport"] and merged.has_car
    assert merged.phone == "06-12345678" and merged.revision == 1
    assert merged.language == "fy" and merged.max_distance_km == 25  # what the sheet does not hold stays
    assert merged.home_precision == "postcode4" and merged.home_lat != 53.2  # the sheet's address is the new home
    updated = _events(intake.engine, "volunteer.updated")
    assert [e.data["volunteer_id"] for e in updated] == [existing]
    assert "0 vrijwilligers geïmporteerd, 1 samengevoegd" in text_of(web.get(path + "/done"))

    again = _preview_path(web, (HEADER + SJOERD).encode())
    assert post_form(web, again + "/confirm", {"choice-2": "add"}).status_code == 303
    assert len(_volunteers(intake.engine, kamer_a.id)) == 2  # the person said: a different Sjoerd Kingma


def test_a_merge_into_another_kamer_s_volunteer_is_never_possible(client, web, intake, kamer_a, kamer_b):
    theirs = _register(client, kamer_b, "Sjoerd Kingma", phone="0612345678")
    sign_in(web, kamer_a.token)
    path = _preview_path(web, (HEADER + SJOERD).encode())
    text = text_of(web.get(path))
    assert "0 mogelijk al ingeschreven" in text and "Lijkt op" not in text  # kamer B's volunteer is not shown
    assert post_form(web, path + "/confirm", {"choice-2": f"merge:{theirs}"}).status_code == 303
    (ours,) = _volunteers(intake.engine, kamer_a.id)  # not a duplicate here: imported as new
    assert ours.id != theirs
    (still,) = _volunteers(intake.engine, kamer_b.id)
    assert still.revision == 0 and still.skills == ["pets"]


def test_another_kamer_s_staff_cannot_open_or_import_someone_else_s_upload(web, intake, kamer_a, kamer_b):
    sign_in(web, kamer_a.token)
    path = _preview_path(web, (HEADER + SJOERD).encode())
    other = intake.wsgi_app.test_client()
    sign_in(other, kamer_b.token)
    assert other.get(path).status_code == 404 and "Sjoerd" not in other.get(path).get_data(as_text=True)
    assert post_form(other, path + "/confirm").status_code == 404
    assert _volunteers(intake.engine, kamer_a.id) == [] == _volunteers(intake.engine, kamer_b.id)


def test_a_resend_or_double_click_imports_once(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    path = _preview_path(web, (HEADER + SJOERD + ANNA).encode())
    first = post_form(web, path + "/confirm")
    second = post_form(web, path + "/confirm")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_volunteers(intake.engine, kamer_a.id)) == 2
    assert len(_events(intake.engine, "volunteer.registered")) == 2
    assert web.get(path).headers["Location"].endswith("/done")  # the preview of a done import: its result


def test_uploads_are_forgotten_after_an_hour_imported_or_not(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    waiting = _preview_path(web, (HEADER + SJOERD).encode())
    done = _preview_path(web, (HEADER + ANNA).encode())
    post_form(web, done + "/confirm")
    assert len(_stored_uploads(intake.engine)) == 2
    gone = imports.forget_old_imports(IntakeUnitOfWork(intake.engine), now=utcnow() + timedelta(hours=1, minutes=1))
    assert gone == 2 and _stored_uploads(intake.engine) == []
    page = web.get(waiting)
    assert page.status_code == 404 and "een upload blijft een uur bewaard" in text_of(page)


def test_the_columns_can_be_given_another_meaning_or_ignored(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    path = _preview_path(web, (b"Wie;Nummer;Postcode;Huisnummer;Hulp\n"
                               b"Sjoerd Kingma;0612345678;8911 AB;3;boodschappen\n"))
    text = text_of(web.get(path))
    assert "Naam: vul een naam in" in text  # "Wie" is no header we know
    columns = {"column": ["0", "1", "2", "3", "4"], "column-0": "name", "column-1": "phone", "column-2": "postcode",
               "column-3": "house_number", "column-4": "skills"}
    assert post_form(web, path + "/columns", columns).status_code == 303
    assert "1 rijen: 0 met een probleem" in text_of(web.get(path))
    post_form(web, path + "/columns", {**columns, "column-1": "name"})  # two columns of names
    text = text_of(web.get(path))
    assert "Twee kolommen hebben dezelfde betekenis: Naam" in text and "Alles importeren" not in text
    assert post_form(web, path + "/confirm").status_code == 422


@pytest.mark.parametrize(("data", "words"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "geen CSV- of Excel-bestand"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "oud Excel-bestand (.xls)"),
    (b"Naam;Telefoon\n", "geen rijen onder de kolomnamen"),
])
def test_a_file_that_is_no_volunteer_list_is_a_clear_error_not_a_500(web, kamer_a, data, words):
    sign_in(web, kamer_a.token)
    r = _upload(web, data)
    assert r.status_code == 422 and words in text_of(r)


def test_a_file_over_two_megabytes_is_refused_with_words(web, kamer_a):
    sign_in(web, kamer_a.token)
    r = _upload(web, b"naam\n" + b"x" * (2 * 1024 * 1024 + 100 * 1024))
    assert r.status_code == 413 and "groter dan 2 MB" in text_of(r)
    assert _upload(web, b"").status_code == 422  # an empty file field


def test_only_signed_in_kamer_staff_import(web, intake, coordinator):
    assert web.get("/desk/import").status_code == 302  # to the sign-in page
    sign_in(web, bearer_token(coordinator))
    assert web.get("/desk/import").status_code == 403  # a coordinator's region has no one kamer


def test_two_confirms_at_the_same_moment_import_once(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    import_id = _preview_path(web, (HEADER + SJOERD + ANNA).encode()).rsplit("/", 1)[1]
    principal = Principal(token_id=kamer_a.token_id, role=Role.KAMER, kamer_id=kamer_a.id)
    start = threading.Barrier(2)

    def confirm():
        start.wait()
        return imports.confirm_import(commands.ConfirmImport(principal, import_id, {}), IntakeUnitOfWork(intake.engine),
                                      build_lookup("embedded", ""), CHECKS)

    with ThreadPoolExecutor(2) as pool:
        results = [f.result(timeout=60) for f in [pool.submit(confirm), pool.submit(confirm)]]
    assert [(r.imported, r.skipped) for r in results] == [(2, 0), (2, 0)]  # both answer the one import's counts
    assert len(_volunteers(intake.engine, kamer_a.id)) == 2
    assert len(_events(intake.engine, "volunteer.registered")) == 2


# -- a sheet of open requests --------------------------------------------------------------------

def _next_week_day() -> str:
    return (utcnow() + timedelta(days=7)).astimezone(AMSTERDAM).strftime("%d-%m-%Y")


def test_a_sheet_of_open_requests_is_submitted_all_or_none(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    day = _next_week_day()
    sheet = ("Bewoner;Telefoon;Postcode;Huisnummer;Soort hulp;Datum;Van;Tot;Opmerkingen\n"
             f"Durk Postma;058 123 4567;9001 AB;3;boodschappen;{day};10;11:30;graag eerst bellen\n"
             f"Trijntje Hoekstra;;8911 AB;12a;vervoer, maatje;{day};14:00;16:00;\n")
    late = "Piet Paal;;8911 AB;7;tuin;01-01-2020;10:00;11:00;\n"
    r = post_form(web, "/desk/import", {"kind": "requests", "file": (io.BytesIO((sheet + late).encode()), "vragen.csv")},
                  content_type="multipart/form-data")
    path = r.headers["Location"]
    text = text_of(web.get(path))
    assert "3 rijen: 1 met een probleem, 0 mogelijk al aangemeld." in text
    assert "Datum: deze tijd is al voorbij" in text
    assert post_form(web, path + "/confirm").status_code == 422
    assert _events(intake.engine, "request.submitted") == []

    r = post_form(web, "/desk/import", {"kind": "requests", "file": (io.BytesIO(sheet.encode()), "vragen.csv")},
                  content_type="multipart/form-data")
    path = r.headers["Location"]
    text = text_of(web.get(path))
    assert "2 rijen: 0 met een probleem, 0 mogelijk al aangemeld." in text
    assert "Boodschappen" in text and "10:00–11:30" in text
    assert post_form(web, path + "/confirm").status_code == 303
    assert "2 hulpvragen geïmporteerd" in text_of(web.get(path + "/done"))
    submitted = _events(intake.engine, "request.submitted")
    assert sorted(e.data["category"] for e in submitted) == ["shopping", "transport"]
    assert next(e for e in submitted if e.data["category"] == "transport").data["skills"] == ["transport", "buddy"]
    assert len(_events(intake.engine, "contact.resident")) == 2
    with intake.engine.connect() as tx:
        stored = tx.execute(select(t.requests).where(t.requests.c.kamer_id == kamer_a.id)
                            .order_by(t.requests.c.window_start)).all()
    assert [r.resident_name for r in stored] == ["Durk Postma", "Trijntje Hoekstra"]
    durk = stored[0]
    assert durk.notes == "graag eerst bellen" and durk.location_precision == "postcode4"
    assert durk.window_start.astimezone(AMSTERDAM).strftime("%H:%M") == "10:00"
    assert post_form(web, path + "/confirm").status_code == 303  # a resend: nothing twice
    assert len(_events(intake.engine, "request.submitted")) == 2

"""Importing open requests flags likely duplicates (issue 16): the same resident (name,
case and spaces aside) with the same phone or the same address, at an overlapping time
or in a weekly request's slot, against the kamer's open requests and the rows above;
each is skipped unless imported anyway. Flask's test client on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select
from ui_support import post_form, sign_in, text_of

from mienskip_intake.adapters import tables as t
from mienskip_intake.adapters.read_models import AMSTERDAM
from mienskip_shared.clock import utcnow

HEADER = "Bewoner;Telefoon;Postcode;Huisnummer;Soort hulp;Datum;Van;Tot\n"


@pytest.fixture
def web(intake):
    return intake.wsgi_app.test_client()


def day_ahead(days: int, weekday: int | None = None):
    day = (utcnow() + timedelta(days=days)).astimezone(AMSTERDAM).date()
    while weekday is not None and day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def submit(client, kamer, name, day, start, end, *, phone=None, postcode="9001 AB", number="3", **more) -> str:
    window = {"start": datetime.combine(day, time.fromisoformat(start), AMSTERDAM).isoformat(),
              "end": datetime.combine(day, time.fromisoformat(end), AMSTERDAM).isoformat()}
    body = {"resident": {"name": name, "language": "nl", **({"phone": phone} if phone else {})},
            "address": {"postcode": postcode, "house_number": number}, "category": "shopping", "window": window,
            **more}
    answer = client.post("/v1/requests", json=body, headers=kamer.headers)
    assert answer.status_code == 202, answer.json
    return answer.json["id"]


def upload(web, sheet: str) -> str:
    answer = post_form(web, "/desk/import", {"kind": "requests", "file": (io.BytesIO(sheet.encode()), "vragen.csv")},
                       content_type="multipart/form-data")
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return answer.headers["Location"]


def stored_names(engine, kamer_id) -> list[str]:
    with engine.begin() as tx:
        return sorted(r.resident_name for r in tx.execute(
            select(t.requests.c.resident_name).where(t.requests.c.kamer_id == kamer_id)))


def test_likely_duplicates_of_open_requests_and_of_rows_above_are_skipped_unless_imported_anyway(
        web, client, intake, kamer_a, kamer_b):
    day = day_ahead(7)
    durk = submit(client, kamer_a, "Durk  Postma", day, "10:00", "11:30", phone="058 123 4567")
    cancelled = submit(client, kamer_a, "Sieds Visser", day, "10:00", "11:00", phone="0612345678")
    client.post(f"/v1/requests/{cancelled}/cancel", headers=kamer_a.headers)
    submit(client, kamer_b, "Baukje Bouma", day, "10:00", "11:00", phone="0698765432")  # another kamer's
    d = day.strftime("%d-%m-%Y")
    later = day_ahead(9).strftime("%d-%m-%Y")
    sheet = HEADER + (
        f"durk postma;0581234567;8911 AB;1;boodschappen;{d};10:30;11:00\n"  # 2: same name and phone, overlapping
        f"DURK POSTMA;;9001 AB;3;boodschappen;{d};11:00;12:00\n"  # 3: same name and address, overlapping
        f"Durk Postma;0581234567;9001 AB;3;boodschappen;{later};10:00;11:00\n"  # 4: another day
        f"Durk Postma;0699999999;8911 AB;2;boodschappen;{d};10:00;11:00\n"  # 5: neither phone nor address
        f"Trijntje Hoekstra;0611122233;8911 AB;12a;tuin;{d};14:00;16:00\n"  # 6
        f"Trijntje  Hoekstra;0611122233;8911 AB;12a;tuin;{d};15:00;15:30\n"  # 7: as row 6
        f"Sieds Visser;0612345678;9001 AB;3;boodschappen;{d};10:00;11:00\n"  # 8: only like a cancelled one
        f"Baukje Bouma;0698765432;9001 AB;3;boodschappen;{d};10:00;11:00\n")  # 9: only like another kamer's
    sign_in(web, kamer_a.token)
    path = upload(web, sheet)
    page = web.get(path)
    text = text_of(page)
    assert "8 rijen: 0 met een probleem, 3 mogelijk al aangemeld." in text
    html = page.get_data(as_text=True)
    for row in (2, 3, 7):
        assert f'name="choice-{row}" value="skip" checked' in html
    for row in (4, 5, 6, 8, 9):
        assert f'name="choice-{row}"' not in html
    assert text.count("Lijkt op de hulpvraag van Durk Postma") == 2 and "lijkt op rij 6 van dit bestand" in text
    with intake.engine.begin() as tx:  # the stored request was shown by name: audited as a list shows it
        assert tx.execute(select(t.audit_log.c.action).where(t.audit_log.c.subject_id == durk,
                                                             t.audit_log.c.action == "list")).first() is not None

    assert post_form(web, path + "/confirm", {"choice-3": "add"}).status_code == 303
    assert "6 hulpvragen geïmporteerd, 2 overgeslagen" in text_of(web.get(path + "/done"))
    assert stored_names(intake.engine, kamer_a.id) == [
        "Baukje Bouma", "DURK POSTMA", "Durk  Postma", "Durk Postma", "Durk Postma", "Sieds Visser", "Sieds Visser",
        "Trijntje Hoekstra"]


def test_a_weekly_requests_slot_counts_as_the_same_time(web, client, intake, kamer_a):
    tuesday = day_ahead(1, weekday=1)
    submit(client, kamer_a, "Anna de Vries", tuesday, "10:00", "11:00", phone="0612345678", recurrence="weekly")
    two_weeks_on, wednesday = tuesday + timedelta(days=14), tuesday + timedelta(days=15)
    sheet = HEADER + (
        f"Anna de Vries;06-12345678;8911 AB;1;boodschappen;{two_weeks_on:%d-%m-%Y};10:30;11:30\n"  # in the slot
        f"Anna de Vries;06-12345678;8911 AB;1;boodschappen;{two_weeks_on:%d-%m-%Y};13:00;14:00\n"  # later that day
        f"Anna de Vries;06-12345678;8911 AB;1;boodschappen;{wednesday:%d-%m-%Y};10:00;11:00\n")  # another weekday
    sign_in(web, kamer_a.token)
    path = upload(web, sheet)
    html = web.get(path).get_data(as_text=True)
    assert 'name="choice-2"' in html and 'name="choice-3"' not in html and 'name="choice-4"' not in html
    assert post_form(web, path + "/confirm").status_code == 303
    assert "2 hulpvragen geïmporteerd, 1 overgeslagen" in text_of(web.get(path + "/done"))

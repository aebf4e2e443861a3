"""The report pages (/review/reports, /desk/report): the month's figures with SVG charts
(title, description, a table beside them), scoped to who is signed in; the CSV and XLSX
exports in the reader's language with "< 5"; the resident's answer on the request page."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from report_support import seed_november
from sqlalchemy import insert, select
from ui_support import bearer_token, sign_in, text_of

from mienskip_intake.adapters import tables as t


@pytest.fixture
def seeded(intake, kamer_a, kamer_b):
    return seed_november(intake, kamer_a, kamer_b)


@pytest.fixture
def coordinator_page(intake, coordinator):
    client = intake.wsgi_app.test_client()
    sign_in(client, bearer_token(coordinator))
    return client


def test_the_coordinator_sees_the_region_with_charts_and_a_table(coordinator_page, kamer_a, kamer_b, seeded):
    page = coordinator_page.get("/review/reports?month=2026-11&lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('role="img"') == 2 and "<title id=\"chart-categories-title\">" in html and "<desc" in html
    assert 'data-testid="report-table"' in html and "Buurtkamer Bilgaard" in html and "Dorpskamer De Wjukken" in html
    assert "Dorpskamer Drachten" not in html  # another region
    assert "November 2026" in text_of(page) and "&lt; 5" in html
    assert "<script" not in html.split("</head>")[1]  # the charts need no script


def test_kamer_staff_see_their_own_kamer_only(intake, kamer_a, kamer_b, seeded):
    client = intake.wsgi_app.test_client()
    sign_in(client, bearer_token(kamer_b.headers))
    page = client.get(f"/desk/report?month=2026-11&kamer={kamer_a.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Dorpskamer De Wjukken" in html and "Buurtkamer Bilgaard" not in html
    exported = client.get(f"/review/reports.csv?month=2026-11&kamer={kamer_a.id}").get_data(as_text=True)
    assert "Buurtkamer Bilgaard" not in exported and "Dorpskamer De Wjukken" in exported


def test_a_month_that_is_not_one_shows_last_month(coordinator_page, seeded):
    page = coordinator_page.get("/review/reports?month=2026-13")
    assert page.status_code == 200 and 'name="month" type="month" value="' in page.get_data(as_text=True)


def test_the_csv_export_in_the_readers_language(coordinator_page, kamer_a, seeded):
    response = coordinator_page.get(f"/review/reports.csv?month=2026-11&kamer={kamer_a.id}&lang=en")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="mienskip-report-2026-11.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, kamer, total = rows
    assert header[:3] == ["Kamer", "Requests", "Helped by a volunteer"] and "Transport" in header
    assert kamer[0] == "Buurtkamer Bilgaard" and total[0] == "Total"
    cells = dict(zip(header, kamer, strict=True))
    assert (cells["Requests"], cells["Not helped"], cells["Transport"], cells["Pets"], cells["Km"]) == \
        ("9", "< 5", "6", "< 5", "24.0")


def test_the_xlsx_export_says_the_same(coordinator_page, seeded):
    response = coordinator_page.get("/review/reports.xlsx?month=2026-11&lang=nl")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = rows[0]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:4]}
    assert sheet.title == "2026-11" and header[:2] == ["Kamer", "Hulpvragen"]
    assert by_name["Buurtkamer Bilgaard"]["Hulpvragen"] == 9
    assert by_name["Buurtkamer Bilgaard"]["Vervoer"] == 6 and by_name["Buurtkamer Bilgaard"]["Huisdieren"] == "< 5"
    assert by_name["Dorpskamer De Wjukken"]["Hulpvragen"] == "< 5" and by_name["Totaal"]["Hulpvragen"] == 11
    counts = [v for row in rows[1:4] for name, v in zip(header, row, strict=True) if not name.startswith("Mediaan")]
    assert not any(isinstance(v, int) and 0 < v < 5 for v in counts)


def test_the_residents_answer_shows_on_the_request_page(intake, kamer_a, seeded):
    with intake.engine.begin() as tx:
        request_id, assignment_id = tx.execute(select(t.assignments.c.request_id, t.assignments.c.id)
                                               .where(t.assignments.c.kamer_id == kamer_a.id)).first()
        tx.execute(insert(t.follow_ups).values(request_id=request_id, assignment_id=assignment_id,
                                               kamer_id=kamer_a.id, answer="no", text="Nimmen kaam",
                                               answered_at=datetime(2026, 11, 20, 9, tzinfo=UTC)))
    client = intake.wsgi_app.test_client()
    sign_in(client, bearer_token(kamer_a.headers))
    page = client.get(f"/review/requests/{request_id}?lang=en")
    assert page.status_code == 200 and 'data-follow-up="no"' in page.get_data(as_text=True)
    assert "No, the help did not come" in text_of(page) and "Nimmen kaam" in text_of(page)

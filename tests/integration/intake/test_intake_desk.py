"""The kamer desk's lists (/desk, /desk/week) through Flask's test client, on SQLite and
PostgreSQL: scope, filters, search, paging, the week per day and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from ui_support import IN_A_WEEK, bearer_token, proposed_case, request_body, sign_in, text_of

from mienskip_intake.adapters import desk
from mienskip_intake.adapters.read_models import AMSTERDAM, week_bounds
from mienskip_intake.entrypoints.web.desk import csv_cell


@pytest.fixture
def web(intake):
    return intake.wsgi_app.test_client()


def _submit(client, kamer, name, start=IN_A_WEEK):
    body = request_body(start)
    body["resident"]["name"] = name
    r = client.post("/v1/requests", json=body, headers=kamer.headers)
    assert r.status_code == 202, r.get_json()
    return r.get_json()["id"]


def test_a_kamer_sees_its_own_requests_newest_first_and_none_of_another_kamer(client, web, kamer_a, kamer_b):
    first = _submit(client, kamer_a, "Jan Hoekstra")
    second = _submit(client, kamer_a, "Sietske Postma")
    other = _submit(client, kamer_b, "Geertje Other")
    sign_in(web, kamer_a.token)
    page = web.get("/desk")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index(second) < html.index(first)  # newest first
    assert other not in html and "Geertje" not in html
    assert "Tsjerkepaed" not in html and "+31587123456" not in html  # lists never show addresses or phones


def test_search_by_part_of_the_name_and_filter_by_status(client, web, kamer_a):
    jan = _submit(client, kamer_a, "Jan Hoekstra")
    sietske = _submit(client, kamer_a, "Sietske Postma")
    sign_in(web, kamer_a.token)
    html = web.get("/desk?q=hoek").get_data(as_text=True)
    assert jan in html and sietske not in html
    assert jan not in web.get("/desk?q=100%25").get_data(as_text=True)  # a wildcard is taken literally
    html = web.get("/desk?status=queued").get_data(as_text=True) + web.get("/desk?status=received").get_data(as_text=True)
    assert jan in html
    assert jan not in web.get("/desk?status=cancelled").get_data(as_text=True)
    assert web.get("/desk?status=nonsense&page=abc").status_code == 200  # odd filters are ignored, not a 500


def test_the_list_pages_through_a_page_at_a_time(client, web, kamer_a, monkeypatch):
    monkeypatch.setattr(desk, "PAGE_SIZE", 5)
    ids = [_submit(client, kamer_a, f"Bewoner {n}") for n in range(7)]
    sign_in(web, kamer_a.token)
    first = web.get("/desk").get_data(as_text=True)
    second = web.get("/desk?page=2").get_data(as_text=True)
    assert sum(i in first for i in ids) == 5 and sum(i in second for i in ids) == 2
    assert web.get("/desk?page=99").status_code == 200  # past the end: the last page
    assert ids[0] in second and ids[-1] in first


def test_the_desk_needs_a_signed_in_person(web):
    r = web.get("/desk")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_this_week_lists_tasks_per_day_and_exports_them(client, web, intake, kamer_a, kamer_b):
    case = proposed_case(client, intake.engine, kamer_a)
    proposed_case(client, intake.engine, kamer_b)
    sign_in(web, kamer_a.token)
    week = IN_A_WEEK.astimezone(AMSTERDAM).date().isoformat()
    page = web.get(f"/desk/week?week={week}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and case["assignment"] in html and "Anna de Vries" in html
    assert html.count("data-assignment-id") == 1  # kamer B's task is not here
    start, _ = week_bounds(IN_A_WEEK)
    assert (start + timedelta(days=7)).date().isoformat() in html  # the link to next week
    export = web.get(f"/desk/week.csv?week={week}&lang=en")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "date" and len(rows) == 2
    assert rows[1][6] == "Anna de Vries" and rows[1][4] == "Jan" and rows[1][7] == "proposed"


def test_an_empty_week_says_so_in_frisian(web, kamer_a):
    sign_in(web, kamer_a.token)
    text = text_of(web.get("/desk/week?week=2030-01-07&lang=fy"))
    assert text.count("Gjin taken.") == 7


def test_a_coordinator_sees_the_region_with_a_kamer_filter(client, web, kamer_a, kamer_b, coordinator):
    a = _submit(client, kamer_a, "Jan Hoekstra")
    b = _submit(client, kamer_b, "Geertje Other")
    sign_in(web, bearer_token(coordinator))
    html = web.get("/desk").get_data(as_text=True)
    assert a in html and b in html
    only_b = web.get(f"/desk?kamer={kamer_b.id}").get_data(as_text=True)
    assert b in only_b and a not in only_b


def test_csv_cells_never_start_a_formula():
    assert csv_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert csv_cell("+31612345678") == "'+31612345678"
    assert csv_cell("Anna") == "Anna" and csv_cell(None) == ""

"""Mileage claims against a seeded month whose true sums the test knows, on SQLite and
PostgreSQL: km of done visits per volunteer at the kamer's rate, approval freezing a
line, a visit recorded later as a difference line, marked paid, and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import propose, uow
from sqlalchemy import select
from ui_support import post_form, request_body, sign_in, volunteer_body

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain import commands
from mienskip_intake.domain.model import Principal, Role
from mienskip_intake.domain.visits import LOCAL_TZ, month_of
from mienskip_intake.service_layer import mileage, visits
from mienskip_intake.service_layer.common import Conflict

_SOON = (datetime.now(UTC) + timedelta(days=9)).astimezone(LOCAL_TZ)
BASE = datetime(_SOON.year + _SOON.month // 12, _SOON.month % 12 + 1, 10, 10, 0, tzinfo=LOCAL_TZ)  # next month's 10th
MONTH = month_of(BASE)
LATER = BASE + timedelta(days=40)  # another month


@pytest.fixture
def web(intake):
    return intake.wsgi_app.test_client()


def _staff(kamer) -> Principal:
    return Principal(token_id=kamer.token_id, role=Role.KAMER, kamer_id=kamer.id)


@pytest.fixture
def visit(client, intake):
    """Record a visit of ``volunteer`` for ``kamer`` at ``start``: done with km, or not done."""
    def record(kamer, volunteer_id, start, km=None, done=True):
        request_id = client.post("/v1/requests", json=request_body(start.astimezone(UTC)),
                                 headers=kamer.headers).get_json()["id"]
        assignment_id = propose(intake.engine, request_id, volunteer_id)
        for step in ("approve", "accept"):
            assert client.post(f"/v1/assignments/{assignment_id}/{step}", json={},
                               headers=kamer.headers).status_code == 200
        visits.complete(commands.CompleteAssignment(_staff(kamer), assignment_id, done=done, km=km,
                                                    reason=None if done else "ziek", at=start + timedelta(hours=2)),
                        uow(intake.engine))
    return record


@pytest.fixture
def seeded(client, kamer_a, kamer_b, visit):
    """Kamer A's month: Anna 12.4 + 7.6 km (2 visits), Baukje 3.3 km and one not done, Anna
    10 km next month; kamer B's Geart 50 km the same month (not A's)."""
    anna, baukje = (client.post("/v1/volunteers", json=volunteer_body(name), headers=kamer_a.headers)
                    .get_json()["id"] for name in ("=Anna de Vries", "Baukje Bouma"))
    geart = client.post("/v1/volunteers", json=volunteer_body("Geart"), headers=kamer_b.headers).get_json()["id"]
    visit(kamer_a, anna, BASE, 12.4)
    visit(kamer_a, anna, BASE + timedelta(hours=3), 7.6)
    visit(kamer_a, baukje, BASE + timedelta(days=1), 3.3)
    visit(kamer_a, baukje, BASE + timedelta(days=2), done=False)
    visit(kamer_a, anna, LATER, 10.0)
    visit(kamer_b, geart, BASE, 50.0)
    return {"anna": anna, "baukje": baukje, "geart": geart}


def _lines(intake, kamer, month=MONTH):
    _, lines = mileage.month_claims(_staff(kamer), kamer.id, month, uow(intake.engine))
    return {(line.volunteer_id, line.status): line for line in lines}


def test_the_month_sums_per_volunteer_at_the_kamers_rate(intake, kamer_a, seeded):
    lines = _lines(intake, kamer_a)
    assert set(lines) == {(seeded["anna"], "open"), (seeded["baukje"], "open")}
    anna, baukje = lines[(seeded["anna"], "open")], lines[(seeded["baukje"], "open")]
    assert (anna.km, anna.visits, anna.rate_cents, anna.amount_cents) == (20.0, 2, 30, 600)
    assert (baukje.km, baukje.visits, baukje.amount_cents) == (3.3, 1, 99)
    later = _lines(intake, kamer_a, month_of(LATER))
    assert [(v, line.km, line.amount_cents) for (v, _), line in later.items()] == [(seeded["anna"], 10.0, 300)]


def test_approval_freezes_and_a_later_visit_is_a_difference_line(intake, kamer_a, seeded, visit, coordinator):
    claim = mileage.approve(commands.ApproveMileage(_staff(kamer_a), kamer_a.id, seeded["anna"], MONTH, 20.0),
                            uow(intake.engine))
    assert (claim.km, claim.amount_cents, claim.status) == (20.0, 600, "approved")
    assert claim.approved_by == f"kamer:{kamer_a.token_id}"
    with pytest.raises(Conflict) as twice:
        mileage.approve(commands.ApproveMileage(_staff(kamer_a), kamer_a.id, seeded["anna"], MONTH), uow(intake.engine))
    assert twice.value.code == "mileage_nothing_open"
    mileage.change_settings(commands.ChangeKamerSettings(Principal(token_id="c", role=Role.COORDINATOR),
                                                         kamer_a.id, None, 35, "18:00", 3), uow(intake.engine))
    visit(kamer_a, seeded["anna"], BASE + timedelta(days=3), 5.0)
    lines = _lines(intake, kamer_a)
    frozen, difference = lines[(seeded["anna"], "approved")], lines[(seeded["anna"], "open")]
    assert (frozen.km, frozen.amount_cents, frozen.rate_cents) == (20.0, 600, 30)
    assert (difference.km, difference.visits, difference.amount_cents, difference.difference) == (5.0, 1, 175, True)
    with pytest.raises(Conflict) as changed:  # what the person saw is no longer what is open
        mileage.approve(commands.ApproveMileage(_staff(kamer_a), kamer_a.id, seeded["anna"], MONTH, 4.0),
                        uow(intake.engine))
    assert changed.value.code == "mileage_changed"


def test_kamer_b_cannot_see_or_approve_kamer_as_claims(intake, kamer_a, kamer_b, seeded):
    from mienskip_intake.service_layer.common import NotFound

    with pytest.raises(NotFound):
        mileage.month_claims(_staff(kamer_b), kamer_a.id, MONTH, uow(intake.engine))
    with pytest.raises(NotFound):
        mileage.approve(commands.ApproveMileage(_staff(kamer_b), kamer_a.id, seeded["anna"], MONTH), uow(intake.engine))
    assert {v for v, _ in _lines(intake, kamer_b)} == {seeded["geart"]}


def test_the_page_approves_marks_paid_and_exports_csv(web, intake, kamer_a, seeded):
    sign_in(web, kamer_a.token)
    page = web.get(f"/desk/mileage?month={MONTH}&lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "€6.00" in html and "€0.99" in html and "€6.99" in html
    assert "Geart" not in html
    approved = post_form(web, "/desk/mileage/approve", {"kamer_id": kamer_a.id, "month": MONTH,
                                                        "volunteer_id": seeded["anna"], "expected_km": "20.0"})
    assert approved.status_code == 303
    with intake.engine.begin() as tx:
        claim = tx.execute(select(t.mileage_claims)).one()
    assert (claim.km, claim.amount_cents, claim.volunteer_id, claim.month) == (20.0, 600, seeded["anna"], MONTH)
    assert post_form(web, f"/desk/mileage/{claim.id}/paid", {"kamer_id": kamer_a.id, "month": MONTH}).status_code == 303
    post_form(web, f"/desk/mileage/{claim.id}/paid", {"kamer_id": kamer_a.id, "month": MONTH})
    flashed = web.get(f"/desk/mileage?month={MONTH}&lang=en").get_data(as_text=True)
    assert "marked paid already" in flashed and 'data-status="paid"' in flashed
    with intake.engine.begin() as tx:
        assert tx.execute(select(t.mileage_claims.c.paid_at)).scalar() is not None
    exported = web.get(f"/desk/mileage.csv?month={MONTH}&lang=nl")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Maand", "Vrijwilliger", "Bezoeken"]
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["'=Anna de Vries"][3:7] == ["20,0", "0,30", "6,00", "betaald"]  # never a formula
    assert by_name["Baukje Bouma"][3:7] == ["3,3", "0,30", "0,99", "open"]

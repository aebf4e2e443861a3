"""The visit record's rules (domain.visits): when a visit may be recorded, what it holds,
and what mileage it pays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mienskip_intake.domain.model import Assignment, AssignmentStatus, HelpRequest
from mienskip_intake.domain.visits import (
    ClaimLine,
    InvalidVisit,
    VisitRefused,
    amount_cents,
    may_record,
    month_bounds,
    month_of,
    open_lines,
    record_visit,
)

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _assignment(status: AssignmentStatus) -> Assignment:
    return Assignment(id="a1", request_id="r1", volunteer_id="v1", kamer_id="k", status=status.value,
                      distance_km=1.0, explanation={}, created_at=START, updated_at=START)


REQUEST = HelpRequest(id="r1", kamer_id="k1", region="leeuwarden", resident_name="Durk Postma", resident_phone=None,
                      resident_language="fy", resident_address=None, lat=53.1, lon=5.8, category="pets",
                      skills=["pets"], needs_vog=False, needs_language=None, window_start=START,
                      window_end=START + timedelta(hours=1), recurrence=None, follows=None, urgency="normal",
                      notes=None, status="accepted", created_at=START, updated_at=START)


def _record(status=AssignmentStatus.ACCEPTED, *, now=START + timedelta(minutes=5), already=False, **fields):
    fields.setdefault("done", True)
    return record_visit(_assignment(status), REQUEST, already_recorded=already, now=now, actor="volunteer:v1",
                        **fields)


def test_a_done_visit_keeps_hours_km_and_note_and_drops_a_reason():
    visit = _record(hours=1.5, km=12.4, note="  Koffie dronken  ", reason="ignored")
    assert (visit.done, visit.hours, visit.km, visit.note, visit.reason) == (True, 1.5, 12.4, "Koffie dronken", None)
    assert (visit.assignment_id, visit.request_id, visit.volunteer_id, visit.kamer_id) == ("a1", "r1", "v1", "k1")
    assert visit.window_start == START and visit.recorded_by == "volunteer:v1"


def test_a_done_visit_needs_nothing_else():
    visit = _record()
    assert (visit.hours, visit.km, visit.note) == (None, None, None)


def test_a_visit_not_done_keeps_its_reason():
    visit = _record(done=False, reason="Niet thuis", note="belde aan")
    assert (visit.done, visit.reason, visit.note) == (False, "Niet thuis", "belde aan")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_visit_not_done_without_a_reason_is_refused_on_reason(reason):
    with pytest.raises(InvalidVisit) as refused:
        _record(done=False, reason=reason)
    assert refused.value.field == "reason"


@pytest.mark.parametrize("field", ["hours", "km"])
def test_a_visit_not_done_has_no_hours_or_km(field):
    with pytest.raises(InvalidVisit) as refused:
        _record(done=False, reason="ziek", **{field: 1.0})
    assert refused.value.field == field


@pytest.mark.parametrize(("field", "value"), [("hours", -0.5), ("hours", 24.5), ("km", -1), ("km", 1000.1)])
def test_hours_and_km_stay_in_range(field, value):
    with pytest.raises(InvalidVisit) as refused:
        _record(**{field: value})
    assert refused.value.field == field


def test_the_edges_of_the_ranges_are_allowed():
    assert _record(hours=0, km=0).hours == 0
    assert _record(hours=24, km=1000).km == 1000


def test_too_early_is_refused_and_the_start_itself_is_allowed():
    with pytest.raises(VisitRefused) as refused:
        _record(now=START - timedelta(seconds=1))
    assert refused.value.why == "too_early"
    assert _record(now=START).done


def test_recorded_once_only():
    with pytest.raises(VisitRefused) as refused:
        _record(already=True)
    assert refused.value.why == "recorded"
    with pytest.raises(VisitRefused) as completed:
        _record(AssignmentStatus.COMPLETED)
    assert completed.value.why == "recorded"


@pytest.mark.parametrize("status", [s for s in AssignmentStatus
                                    if s not in (AssignmentStatus.ACCEPTED, AssignmentStatus.COMPLETED)])
def test_only_an_accepted_task_is_recorded(status):
    with pytest.raises(VisitRefused) as refused:
        _record(status)
    assert refused.value.why == "not_accepted" and refused.value.params == {"status": status.value}


def test_the_page_asks_only_when_the_visit_may_be_recorded():
    later = START + timedelta(hours=1)
    assert may_record("accepted", START, later, recorded=False)
    assert not may_record("accepted", START, later, recorded=True)
    assert not may_record("accepted", START, START - timedelta(minutes=1), recorded=False)
    assert not may_record("approved", START, later, recorded=False)


def test_months_are_amsterdam_months():
    start, end = month_bounds("2026-12")
    assert start == datetime(2026, 11, 30, 23, 0, tzinfo=UTC) and end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert month_bounds("2026-07")[0] == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # summer time
    assert month_of(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "2026-12"
    for bad in ("2026-13", "26-12", "2026/12", "december"):
        with pytest.raises(ValueError):
            month_bounds(bad)


def test_amounts_are_whole_cents_rounded_half_up():
    assert amount_cents(12.5, 30) == 375
    assert amount_cents(0.05, 30) == 2  # 1.5 cents
    assert amount_cents(33.3, 19) == 633  # 632.7


def test_open_lines_are_what_no_approved_claim_holds_yet():
    done = [("v1", 40.0, 3), ("v2", 10.0, 1), ("v3", 5.0, 1)]
    approved = [ClaimLine("v1", "2026-12", 30.0, 2, 900, 30, claim_id="c1"),
                ClaimLine("v3", "2026-12", 5.0, 1, 150, 30, claim_id="c3")]
    lines = {line.volunteer_id: line for line in open_lines(done, approved, "2026-12", 35)}
    assert set(lines) == {"v1", "v2"}  # v3: all approved already
    assert (lines["v1"].km, lines["v1"].visits, lines["v1"].amount_cents, lines["v1"].difference) == (10.0, 1, 350, True)
    assert (lines["v2"].km, lines["v2"].amount_cents, lines["v2"].difference, lines["v2"].status) == (10.0, 350, False,
                                                                                                      "open")

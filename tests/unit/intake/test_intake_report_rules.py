"""The monthly report's rules as plain functions: Amsterdam months, outcomes, answers and
back-outs from a request's steps, and "< 5"."""

from datetime import UTC, datetime, timedelta

import pytest

from mienskip_intake.domain import reports
from mienskip_intake.domain.reports import Month, MonthRows, RequestRow, StepRow, VisitRow

NOV = Month(2026, 11)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_months_are_amsterdams_also_across_summer_time():
    assert (NOV.start, NOV.end) == (utc(2026, 10, 31, 23), utc(2026, 11, 30, 23))
    assert Month(2026, 3).end == utc(2026, 3, 31, 22)  # April starts in summer time
    assert Month(2026, 12).next() == Month(2027, 1) and Month(2027, 1).previous() == Month(2026, 12)
    assert Month.of(utc(2026, 11, 30, 23, 30)) == Month(2026, 12)  # 00:30 on 1 December in Leeuwarden
    assert str(Month.parse("2026-02")) == "2026-02"


@pytest.mark.parametrize("text", [None, "", "2026-13", "2026-00", "26-11", "2026-1", "1999-01", "2026-11-01"])
def test_a_month_is_yyyy_mm(text):
    with pytest.raises(ValueError):
        Month.parse(text)


@pytest.mark.parametrize("n, shown", [(0, 0), (1, "< 5"), (4, "< 5"), (5, 5), (120, 120)])
def test_counts_under_five_are_hidden_but_zero_stays(n, shown):
    assert reports.count(n) == shown


def test_a_median_of_fewer_than_five_cases_is_hidden():
    assert reports.median([]) is None
    assert reports.median([1.0, 2.0, 3.0, 4.0]) == "< 5"
    assert reports.median([1.0, 2.0, 3.0, 4.0, 50.0]) == 3.0


def _steps(request_id, *steps):
    return [StepRow(request_id, "k", at, status) for status, at in steps]


def test_an_outcome_is_decided_in_one_place():
    t0 = utc(2026, 11, 2, 9)
    assert reports.outcome("completed", []) == "volunteer"
    assert reports.outcome("unmatched", []) == "none"
    assert reports.outcome("cancelled", _steps("r", ("accepted", t0), ("cancelled", t0))) == "volunteer"
    assert reports.outcome("cancelled", _steps("r", ("proposed", t0), ("cancelled", t0))) == "none"
    assert reports.outcome("queued", []) == reports.IN_PROGRESS
    # issue 13: a care provider's part, alone or beside a volunteer's
    assert reports.outcome("completed", [], "professional", professional=True) == "professional"
    assert reports.outcome("received", [], "professional") == reports.IN_PROGRESS
    assert reports.outcome("cancelled", [], "professional") == "none"
    assert reports.outcome("accepted", [], "both", professional=True) == "both"
    assert reports.outcome("accepted", [], "both") == "volunteer"
    assert reports.outcome("queued", [], "both", professional=True) == "professional"
    assert reports.outcome("completed", [], "professional") == reports.IN_PROGRESS  # never a volunteer's


def test_answers_declines_and_back_outs_count_in_the_month_they_happen():
    t0 = utc(2026, 11, 3, 9)
    rows = MonthRows(NOV, requests=[RequestRow("r", "k", "pets", "declined", t0)], steps=_steps(
        "r", ("received", t0), ("proposed", t0 + timedelta(hours=1)), ("approved", t0 + timedelta(hours=2)),
        ("accepted", t0 + timedelta(hours=5)), ("declined", t0 + timedelta(days=1)),  # backs out
        ("proposed", t0 + timedelta(days=2)), ("declined", utc(2026, 12, 1, 9))) + _steps(  # not approved: no offer
        "old", ("approved", utc(2026, 10, 30, 9)), ("declined", utc(2026, 11, 1, 9))))  # declined in November
    f = reports.figures(rows)
    assert f.hours_to_match == [1.0] and f.back_outs == 1 and f.declines == 1
    assert sorted(f.hours_to_answer) == [3.0, 48.0]
    assert f.outcomes == {"volunteer": 0, "professional": 0, "both": 0, "none": 0, "open": 1}


def test_visits_and_volunteers_and_suppression_of_small_sums():
    rows = MonthRows(NOV, visits=[VisitRow("k", f"v{n}", n != 0, 1.5, 3.0) for n in range(3)],
                     accepted_tasks=[("k", "v1"), ("k", "v9")], new_volunteers=["k"] * 5)
    f = reports.figures(rows)
    assert (f.visits_recorded, f.visits_done, f.hours, f.km, f.volunteers_active) == (3, 2, 4.5, 9.0, 4)
    shown = reports.suppressed(f)
    assert shown["hours"] == shown["km"] == shown["visits_done"] == shown["volunteers_active"] == "< 5"
    assert shown["volunteers_new"] == 5 and shown["requests"] == 0


def test_the_weeks_digest_goes_out_from_monday_seven_in_amsterdam():
    from mienskip_intake.domain.waiting import digest_due, week_of

    assert not digest_due(utc(2026, 12, 7, 5, 59))  # Monday 06:59 in Leeuwarden
    assert digest_due(utc(2026, 12, 7, 6, 0)) and digest_due(utc(2026, 12, 9, 2, 0))  # Wednesday night: late
    assert str(week_of(utc(2026, 12, 6, 23, 30))) == "2026-12-07"  # Monday 00:30 in Leeuwarden
    assert str(week_of(utc(2026, 12, 6, 22, 30))) == "2026-11-30"

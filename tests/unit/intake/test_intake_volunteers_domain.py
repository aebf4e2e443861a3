"""Intake's rules about a volunteer's time: away periods (checked, sorted, past ones
dropped), whether an offer may stand, a VOG that ages, and who is likely the same person."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mienskip_intake.domain.model import InvalidRequest, Volunteer
from mienskip_intake.domain.volunteers import (
    AwayPeriod,
    Release,
    away_periods,
    same_person,
    vog_expires_soon,
    vog_valid_until,
    why_not_available,
)

TODAY = date(2026, 12, 5)


def volunteer(**changes) -> Volunteer:
    base = dict(id="v", kamer_id="k", region="leeuwarden", name="Anna de Vries", email="anna@example.org",
                phone="+31612345678", language="nl", languages=["nl"], home_lat=53.2, home_lon=5.8, skills=["buddy"],
                has_car=False, vog_checked_on=None, availability=[], max_tasks_per_week=2, max_distance_km=10.0,
                created_at=datetime(2026, 1, 1, tzinfo=UTC))
    return Volunteer(**{**base, **changes})


def test_periods_are_sorted_deduplicated_and_those_over_are_dropped():
    given = [{"start": date(2027, 1, 2), "end": date(2027, 1, 3)}, {"start": date(2026, 11, 1), "end": date(2026, 11, 9)},
             {"start": date(2026, 12, 20), "end": date(2027, 1, 3)}, {"start": date(2027, 1, 2), "end": date(2027, 1, 3)}]
    assert away_periods(given, TODAY) == (AwayPeriod(date(2026, 12, 20), date(2027, 1, 3)),
                                          AwayPeriod(date(2027, 1, 2), date(2027, 1, 3)))


@pytest.mark.parametrize("period, field", [
    ({"start": date(2027, 1, 3), "end": date(2027, 1, 2)}, "away.0.to"),
    ({"start": date(2027, 1, 1), "end": date(2028, 1, 2)}, "away.0.to"),
    ({"start": date(2029, 1, 1), "end": date(2029, 1, 2)}, "away.0.from"),
])
def test_a_period_out_of_bounds_names_its_field(period, field):
    with pytest.raises(InvalidRequest) as raised:
        away_periods([period], TODAY)
    assert raised.value.field == field


def test_an_offer_stands_unless_paused_stopped_or_away_on_its_local_day():
    # 23:30 UTC on 31 December is already 1 January in Leeuwarden
    start, end = datetime(2026, 12, 31, 23, 30, tzinfo=UTC), datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    assert why_not_available(volunteer(), start, end) is None
    assert why_not_available(volunteer(active=False), start, end) is Release.PAUSED
    assert why_not_available(volunteer(active=False, stopped_at=start), start, end) is Release.STOPPED
    assert why_not_available(volunteer(away=[{"from": "2027-01-01", "to": "2027-01-01"}]), start, end) is Release.AWAY
    assert why_not_available(volunteer(away=[{"from": "2026-12-31", "to": "2026-12-31"}]), start, end) is None


def test_a_vog_counts_until_it_is_exactly_the_regions_years_old():
    assert vog_valid_until(date(2024, 2, 29), 3) == date(2027, 2, 28)
    assert vog_valid_until(None, 3) is None
    assert vog_expires_soon(date(2024, 3, 20), 3, TODAY) is False  # until 20 March 2027: not yet
    assert vog_expires_soon(date(2023, 12, 20), 3, TODAY) is True  # 20 December 2026
    assert vog_expires_soon(date(2023, 12, 1), 3, TODAY) is False  # over already: not "soon"


def test_the_same_name_and_phone_or_email_is_likely_the_same_person():
    anna = volunteer()
    assert same_person(" anna  de VRIES", "06-12345678", None, anna)
    assert same_person("Anna de Vries", None, "ANNA@example.org ", anna)
    assert not same_person("Anna de Vries", "0699999999", "other@example.org", anna)
    assert not same_person("Anna Visser", "+31612345678", None, anna)
    assert not same_person("Anna de Vries", None, None, anna)
    assert not same_person("", "+31612345678", None, volunteer(name="", erased_at=datetime(2026, 2, 1, tzinfo=UTC)))


def test_an_unmatched_request_names_the_paused_and_the_away_among_those_with_the_skill():
    from mienskip_intake.catalogue import catalogue
    from mienskip_intake.entrypoints.wording import unmatched_words

    reasons = {"skills": 1, "inactive": 1, "away": 2}
    assert unmatched_words(catalogue(), "nl", reasons, 4) == (
        "3 vrijwilligers hebben de vaardigheid; 1 × gepauzeerd of gestopt, 2 × afwezig op die dag")
    assert unmatched_words(catalogue(), "fy", reasons, 4).endswith("1 × skoft of stoppe, 2 × fuort op dy dei")

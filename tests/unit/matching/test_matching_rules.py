"""Each hard rule on its own: a volunteer who breaks exactly that rule is never chosen,
even when they are the nearest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mienskip_matching.domain.model import AwayPeriod, Booking, WeeklySlot, Window
from mienskip_matching.domain.rules import (
    HARD_RULES,
    RuleContext,
    covering_slot,
    first_failing_rule,
)
from mienskip_matching.domain.solver import assign, travel_km

T = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)  # Tuesday 09:00 in Amsterdam (summer time)


def breakers(make):
    """rule key -> (request, the nearest volunteer that breaks only that rule, its bookings)."""
    req = make.request
    vol = make.volunteer
    elsewhere = Window(T + timedelta(days=2, hours=6), T + timedelta(days=2, hours=8))  # Thursday 15-17
    return {
        "region": (req(), vol("bad", 0.5, region="fryslan-noord"), []),
        "inactive": (req(), vol("bad", 0.5, active=False), []),
        "skills": (req(category="paperwork"), vol("bad", 0.5), []),
        "skills-extra": (req(skills=frozenset({"shopping", "digital"}), category="shopping"), vol("bad", 0.5), []),
        "transport": (req(category="transport"), vol("bad", 0.5, has_car=False), []),
        "vog": (req(needs_vog=True), vol("bad", 0.5, vog_checked_on=None), []),
        # checked on 30 June 2022: three years old on 30 June 2025, older on the task's day (1 July)
        "vog-old": (req(needs_vog=True), vol("bad", 0.5, vog_checked_on=date(2022, 6, 30)), []),
        "language": (req(needs_language="ar"), vol("bad", 0.5, languages=frozenset({"nl"})), []),
        "distance": (req(), vol("bad", 0.5, max_distance_km=0.5), []),
        "availability": (req(), vol("bad", 0.5, availability=(WeeklySlot.parse("wed", "09:00", "12:00"),)), []),
        "away": (req(), vol("bad", 0.5, away=(AwayPeriod(date(2025, 6, 20), date(2025, 7, 1)),)), []),
        "capacity": (req(), vol("bad", 0.5, max_tasks_per_week=1), [Booking("bad", "other", elsewhere)]),
        "overlap": (req(), vol("bad", 0.5), [Booking("bad", "other", Window(T + timedelta(hours=1),
                                                                             T + timedelta(hours=3)))]),
        # a weekly series' next occurrence held for them: its time, or the week's last task
        "reserved_for_series": (req(), vol("bad", 0.5), [
            Booking("bad", "series/next", Window(T + timedelta(hours=1), T + timedelta(hours=2)), reserved=True)]),
        "reserved_for_series-extra": (req(), vol("bad", 0.5, max_tasks_per_week=2), [
            Booking("bad", "other", elsewhere), Booking("bad", "series/next", elsewhere, reserved=True)]),
        "excluded": (req(excluded_volunteers=frozenset({"bad"})), vol("bad", 0.5), []),
    }


RULE_CASES = ["region", "skills", "skills-extra", "inactive", "transport", "vog", "vog-old", "language", "distance",
              "availability", "away", "capacity", "overlap", "reserved_for_series", "reserved_for_series-extra",
              "excluded"]


@pytest.mark.parametrize("case", RULE_CASES)
def test_a_volunteer_breaking_one_rule_is_never_chosen(make, case):
    request, bad, bookings = breakers(make)[case]
    good = make.volunteer("good", 5.0, skills=frozenset({"transport", "buddy", "shopping", "paperwork", "digital"}),
                          languages=frozenset({"nl", "ar"}))

    ctx = RuleContext(travel_km(request, bad, 1.3), bookings)
    assert first_failing_rule(request, bad, ctx) == case.removesuffix("-extra").removesuffix("-old")
    assert first_failing_rule(request, good, RuleContext(travel_km(request, good, 1.3))) is None

    answer = assign([request], [bad, good], bookings)
    assert [p.volunteer_id for p in answer.proposals] == ["good"]


@pytest.mark.parametrize("case", RULE_CASES)
def test_alone_the_rule_breaker_leaves_the_request_unmatched_with_that_reason(make, case):
    request, bad, bookings = breakers(make)[case]
    answer = assign([request], [bad], bookings)
    assert answer.proposals == []
    assert answer.unmatched[0].reasons == {case.removesuffix("-extra").removesuffix("-old"): 1}


def test_rules_are_named_functions_in_a_fixed_order():
    assert [r.__name__ for r in HARD_RULES] == [
        "in_region", "has_required_skills", "is_active", "has_car_for_transport", "has_vog_when_needed",
        "speaks_language_when_needed", "within_max_distance", "available_for_window", "not_away",
        "has_capacity_left", "has_no_overlapping_task", "not_reserved_for_series", "not_excluded_before",
    ]


def test_availability_follows_summer_and_winter_time(make):
    slots = (WeeklySlot.parse("tue", "09:00", "12:00"),)
    summer = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)  # 09:00 CEST
    winter = datetime(2025, 1, 7, 7, 0, tzinfo=UTC)  # 08:00 CET: before the slot
    assert covering_slot(make.volunteer("v", availability=slots), Window(summer, summer + timedelta(hours=2))).label() == "tue 09:00-12:00"
    assert covering_slot(make.volunteer("v", availability=slots), Window(winter, winter + timedelta(hours=2))) is None
    assert covering_slot(make.volunteer("v", availability=slots), Window(winter + timedelta(hours=1), winter + timedelta(hours=3))) is not None


def test_touching_slots_cover_a_window_across_them_but_a_gap_does_not(make):
    start = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)  # 11:00 local
    joined = (WeeklySlot.parse("tue", "09:00", "12:00"), WeeklySlot.parse("tue", "12:00", "15:00"))
    gap = (WeeklySlot.parse("tue", "09:00", "12:00"), WeeklySlot.parse("tue", "12:30", "15:00"))
    assert covering_slot(make.volunteer("v", availability=joined), Window(start, start + timedelta(hours=2))).label() == "tue 09:00-15:00"
    assert covering_slot(make.volunteer("v", availability=gap), Window(start, start + timedelta(hours=2))) is None


def test_a_window_ending_at_midnight_fits_a_slot_to_24_00(make):
    slots = (WeeklySlot.parse("tue", "20:00", "24:00"),)
    start = datetime(2025, 7, 1, 20, 0, tzinfo=UTC)  # 22:00 local
    assert covering_slot(make.volunteer("v", availability=slots), Window(start, start + timedelta(hours=2))) is not None
    assert covering_slot(make.volunteer("v", availability=slots), Window(start, start + timedelta(hours=3))) is None  # into Wednesday


def test_capacity_counts_only_the_iso_week_of_the_window(make):
    request = make.request()
    volunteer = make.volunteer("v", max_tasks_per_week=1)
    last_week = Window(T - timedelta(days=7), T - timedelta(days=7) + timedelta(hours=2))
    same_week_sunday = Window(T + timedelta(days=5), T + timedelta(days=5, hours=2))
    ctx_last = RuleContext(1.0, [Booking("v", "old", last_week)])
    ctx_same = RuleContext(1.0, [Booking("v", "old", same_week_sunday)])
    assert first_failing_rule(request, volunteer, ctx_last) is None
    assert first_failing_rule(request, volunteer, ctx_same) == "capacity"


def test_a_volunteers_own_booking_for_this_request_is_not_a_clash(make):
    request = make.request()
    ctx = RuleContext(1.0, [Booking("v", request.id, request.window)])
    assert first_failing_rule(request, make.volunteer("v"), ctx) is None


def test_a_vog_counts_up_to_the_day_it_is_exactly_the_regions_years_old(make):
    request = make.request(needs_vog=True)  # Tuesday 1 July 2025
    ctx = RuleContext(1.0)
    assert first_failing_rule(request, make.volunteer("v", vog_checked_on=date(2022, 7, 1)), ctx) is None
    assert first_failing_rule(request, make.volunteer("v", vog_checked_on=date(2022, 6, 30)), ctx) == "vog"
    # a region that lets a VOG count five years
    assert first_failing_rule(request, make.volunteer("v", vog_checked_on=date(2022, 6, 30), vog_valid_years=5),
                              ctx) is None
    # an old VOG matters only where one is needed
    assert first_failing_rule(make.request(), make.volunteer("v", vog_checked_on=date(2010, 1, 1)), ctx) is None


def test_away_days_are_inclusive_and_other_days_are_free(make):
    request = make.request()  # Tuesday 1 July 2025, 09:00-11:00 local
    ctx = RuleContext(1.0)

    def away(start, end):
        return make.volunteer("v", away=(AwayPeriod(start, end),))

    assert first_failing_rule(request, away(date(2025, 7, 1), date(2025, 7, 1)), ctx) == "away"
    assert first_failing_rule(request, away(date(2025, 7, 1), date(2025, 7, 14)), ctx) == "away"
    assert first_failing_rule(request, away(date(2025, 6, 20), date(2025, 6, 30)), ctx) is None
    assert first_failing_rule(request, away(date(2025, 7, 2), date(2025, 7, 9)), ctx) is None


def test_the_region_sets_how_long_a_vog_counts_for_the_whole_pool():
    from mienskip_matching.settings import Settings

    config = Settings.from_env({"MIENSKIP_VOG_VALID_YEARS": "3,fryslan=5"}).solver_config()
    assert config.vog_valid_years_in("leeuwarden") == 3
    assert config.vog_valid_years_in("fryslan") == 5
    with pytest.raises(ValueError):
        Settings.from_env({"MIENSKIP_VOG_VALID_YEARS": "0"})

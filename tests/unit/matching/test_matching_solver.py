"""The assignment: nearest first, capacity across a batch, explanations, unmatched reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mienskip_matching.domain.model import Booking, Window
from mienskip_matching.domain.solver import SolverConfig, assign

T = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)  # Tuesday 09:00 local


def at(hours: float, length: float = 1.0) -> Window:
    return Window(T + timedelta(hours=hours), T + timedelta(hours=hours + length))


def test_picks_the_nearest_volunteer(make):
    pool = [make.volunteer("far", 4.0), make.volunteer("near", 1.0), make.volunteer("mid", 2.5)]
    answer = assign([make.request()], pool)
    assert [p.volunteer_id for p in answer.proposals] == ["near"]
    assert answer.proposals[0].distance_km == 1.3  # 1 km great-circle x road factor 1.3


def test_road_factor_scales_distances(make):
    answer = assign([make.request()], [make.volunteer("v", 2.0)], config=SolverConfig(road_factor=1.0))
    assert answer.proposals[0].distance_km == 2.0


def test_weekly_capacity_holds_across_a_batch(make):
    requests = [make.request(f"r{i}", window=at(i)) for i in range(3)]  # 09-10, 10-11, 11-12: no overlap
    pool = [make.volunteer("near", 0.5, max_tasks_per_week=2), make.volunteer("far", 3.0, max_tasks_per_week=5)]
    answer = assign(requests, pool)
    chosen = [p.volunteer_id for p in answer.proposals]
    assert sorted(chosen) == ["far", "near", "near"]
    assert answer.unmatched == []


def test_existing_bookings_use_up_capacity(make):
    booked = [Booking("near", "old", Window(T + timedelta(days=2, hours=6), T + timedelta(days=2, hours=7)))]
    pool = [make.volunteer("near", 0.5, max_tasks_per_week=1), make.volunteer("far", 3.0)]
    answer = assign([make.request()], pool, booked)
    assert answer.proposals[0].volunteer_id == "far"


def test_overlapping_requests_in_a_batch_go_to_different_volunteers(make):
    requests = [make.request("r1", window=at(0, 2)), make.request("r2", window=at(1, 2))]
    pool = [make.volunteer("near", 0.5), make.volunteer("far", 3.0)]
    answer = assign(requests, pool)
    assert sorted(p.volunteer_id for p in answer.proposals) == ["far", "near"]


def test_when_one_volunteer_is_left_the_urgent_request_gets_them(make):
    requests = [make.request("calm", window=at(0), urgency="low"),
                make.request("urgent", window=at(0), urgency="urgent", location=make.km_north(3.0))]
    answer = assign(requests, [make.volunteer("only", 0.0)])
    assert [(p.request_id, p.volunteer_id) for p in answer.proposals] == [("urgent", "only")]
    assert answer.unmatched[0].request_id == "calm"
    assert answer.unmatched[0].reasons == {"taken": 1}


def test_explanation_names_distance_skills_slot_load_and_runner_up(make):
    booked = [Booking("near", "old", Window(T + timedelta(days=2, hours=6), T + timedelta(days=2, hours=7)))]
    pool = [make.volunteer("near", 1.0), make.volunteer("second", 3.0)]
    answer = assign([make.request(category="shopping", skills=frozenset({"buddy"}))], pool, booked)
    explanation = answer.proposals[0].explanation
    assert explanation == {
        "distance_km": 1.3,
        "skills_matched": ["buddy", "shopping"],
        "availability": "tue 09:00-12:00",
        "load_this_week": 1,
        "max_tasks_per_week": 3,
        "runner_up": {"volunteer_id": "second", "distance_km": 3.9, "reason": {"code": "further", "km": 2.6},
                      "rule": None},
    }


def test_without_a_qualified_runner_up_the_nearest_excluded_volunteer_and_rule_are_named(make):
    pool = [make.volunteer("chosen", 2.0), make.volunteer("carless", 1.0, has_car=False),
            make.volunteer("far-away", 9.0, max_distance_km=1.0)]
    answer = assign([make.request(category="transport")], pool)
    runner_up = answer.proposals[0].explanation["runner_up"]
    assert runner_up == {"volunteer_id": "carless", "distance_km": 1.3, "reason": {"code": "transport"},
                         "rule": "transport"}


def test_a_lone_volunteer_has_no_runner_up(make):
    answer = assign([make.request()], [make.volunteer("only")])
    assert answer.proposals[0].explanation["runner_up"] is None


def test_equal_distance_prefers_the_less_busy_volunteer(make):
    elsewhere = Window(T + timedelta(days=1), T + timedelta(days=1, hours=1))
    pool = [make.volunteer("a-busy", 1.0), replace(make.volunteer("b-free", 1.0), home=make.km_north(1.0))]
    answer = assign([make.request()], pool, [Booking("a-busy", "old", elsewhere)])
    assert answer.proposals[0].volunteer_id == "b-free"
    assert answer.proposals[0].explanation["runner_up"]["reason"] == {"code": "busier"}


def test_unmatched_counts_the_first_failing_rule_per_volunteer(make):
    clash = Window(T, T + timedelta(hours=1))
    pool = [
        make.volunteer("unskilled", 1.0, skills=frozenset({"garden"})),
        make.volunteer("far-1", 8.0, max_distance_km=5.0),
        make.volunteer("far-2", 9.0, max_distance_km=5.0, has_car=True),
        make.volunteer("busy", 1.0),
        make.volunteer("other-region", 0.1, region="grou"),
    ]
    answer = assign([make.request()], pool, [Booking("busy", "other", clash)])
    assert answer.proposals == []
    result = answer.unmatched[0]
    assert result.reasons == {"region": 1, "skills": 1, "distance": 2, "overlap": 1}
    assert result.considered == 5


def test_the_volunteers_considered_are_the_whole_pool(make):
    assert assign([make.request()], []).unmatched[0].considered == 0
    nobody = assign([make.request(category="paperwork")], [make.volunteer("v")]).unmatched[0]
    assert (nobody.reasons, nobody.considered) == ({"skills": 1}, 1)


def test_the_index_gives_the_same_answer_as_checking_every_pair(make):
    requests = [make.request(f"r{i}", window=at(i % 3), location=make.km_east(i * 1.5)) for i in range(8)]
    pool = [make.volunteer(f"v{j}", j * 0.7, max_distance_km=4.0 + j % 3,
                           home=make.km_east(j * 1.1, make.km_north(j * 0.3))) for j in range(10)]
    brute = assign(requests, pool, config=SolverConfig(index_from_pairs=10**9))
    indexed = assign(requests, pool, config=SolverConfig(index_from_pairs=1))
    assert indexed == brute


def test_same_input_same_answer_in_any_order(make):
    requests = [make.request(f"r{i}", window=at(i % 2)) for i in range(4)]
    pool = [make.volunteer(f"v{j}", 1.0 + (j % 2)) for j in range(4)]
    assert assign(requests, pool) == assign(list(reversed(requests)), list(reversed(pool)))


# -- continuity: a recurring request prefers last time's volunteer -------------------------------------------


def test_last_times_volunteer_is_preferred_within_the_continuity_allowance(make):
    request = make.request(recurrence="weekly", follows="last-week", previous_volunteer="before")
    pool = [make.volunteer("nearer", 1.0), make.volunteer("before", 1.5)]  # 0.65 km further by road
    answer = assign([request], pool)
    (proposal,) = answer.proposals
    assert proposal.volunteer_id == "before"
    assert proposal.explanation["continuity"] is True
    runner_up = proposal.explanation["runner_up"]
    assert runner_up["volunteer_id"] == "nearer" and runner_up["reason"] == {"code": "continuity"}
    assert answer.optimal


def test_last_times_volunteer_is_kept_however_much_further(make):
    request = make.request(recurrence="weekly", follows="last-week", previous_volunteer="before")
    pool = [make.volunteer("nearer", 0.2), make.volunteer("before", 7.0)]  # 8.84 km further by road
    answer = assign([request], pool)
    (proposal,) = answer.proposals
    assert proposal.volunteer_id == "before" and proposal.explanation["continuity"] is True
    assert proposal.explanation["runner_up"]["reason"] == {"code": "continuity"}
    assert answer.optimal


def test_with_continuity_first_off_distance_wins_beyond_the_allowance(make):
    request = make.request(recurrence="weekly", follows="last-week", previous_volunteer="before")
    pool = [make.volunteer("nearer", 1.0), make.volunteer("before", 2.0)]  # 1.3 km further by road
    (proposal,) = assign([request], pool, config=SolverConfig(continuity_first=False)).proposals
    assert proposal.volunteer_id == "nearer"
    assert proposal.explanation["continuity"] is False
    assert proposal.explanation["runner_up"]["reason"] == {"code": "further_than_continuity", "km": 1.3}


def test_without_continuity_the_nearest_helps_and_the_explanation_does_not_mention_it(make):
    request = make.request(recurrence="weekly", follows="last-week", previous_volunteer="before")
    pool = [make.volunteer("nearer", 1.0), make.volunteer("before", 1.5)]
    (proposal,) = assign([request], pool, config=SolverConfig(continuity_first=False, continuity_m=0)).proposals
    assert proposal.volunteer_id == "nearer"
    plain = assign([make.request()], pool).proposals[0]
    assert "continuity" not in plain.explanation


def test_last_times_volunteer_still_obeys_every_hard_rule(make):
    request = make.request(recurrence="weekly", follows="last-week", previous_volunteer="before",
                           excluded_volunteers=frozenset({"before"}))
    pool = [make.volunteer("nearer", 3.0), make.volunteer("before", 0.5)]
    (proposal,) = assign([request], pool).proposals
    assert proposal.volunteer_id == "nearer"


def test_last_times_volunteer_taken_by_another_request_is_said_to_be_taken_not_further(make):
    """A series lost its volunteer to another request of the same batch: within the
    continuity allowance they were the better choice, so "further" would mislead."""
    series = make.request("series", recurrence="weekly", follows="last-week", previous_volunteer="before")
    only_before_reaches = make.request("one-off", location=make.km_north(3.0))
    pool = [make.volunteer("nearer", 1.0, max_distance_km=2.0), make.volunteer("before", 1.5)]
    answer = assign([series, only_before_reaches], pool)
    chosen = {p.request_id: p for p in answer.proposals}
    assert (chosen["series"].volunteer_id, chosen["one-off"].volunteer_id) == ("nearer", "before")
    runner_up = chosen["series"].explanation["runner_up"]
    assert runner_up["volunteer_id"] == "before" and runner_up["reason"] == {"code": "taken"}

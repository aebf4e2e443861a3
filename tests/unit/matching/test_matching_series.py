"""A weekly series keeps its volunteer whatever the batching: continuity as a tier between
matching and distance, and the next occurrence held for the volunteer of a held series."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mienskip_matching.domain import series
from mienskip_matching.domain.model import Booking, WeeklySlot, Window
from mienskip_matching.domain.solver import UNMATCHED_PENALTY_M, SolverConfig, assign, candidate_arcs

T = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)  # Tuesday 09:00 in Amsterdam (summer time)
WEEK = timedelta(days=7)
ROAD = SolverConfig().road_factor


def at(hours: float, length: float = 1.0, weeks: int = 0) -> Window:
    start = T + timedelta(hours=hours) + weeks * WEEK
    return Window(start, start + timedelta(hours=length))


def held(make, volunteer_id="before", window=None, **changes) -> series.HeldSeries:
    """Last week's request of a weekly series, held by ``volunteer_id``."""
    latest = make.request("last-week", recurrence="weekly", window=window or at(0, 2, weeks=-1), **changes)
    return series.HeldSeries(latest, volunteer_id)


# -- the reservation ------------------------------------------------------------------------------


def test_the_next_occurrence_is_the_same_local_time_a_week_on_across_summer_time():
    last_summer_day = Window(datetime(2025, 10, 21, 7, 0, tzinfo=UTC), datetime(2025, 10, 21, 9, 0, tzinfo=UTC))
    after = series.next_occurrence(last_summer_day)  # summer time ends on 26 October
    assert (after.start, after.end) == (datetime(2025, 10, 28, 8, 0, tzinfo=UTC), datetime(2025, 10, 28, 10, 0, tzinfo=UTC))
    assert after.local_span == last_summer_day.local_span == ("tue", 9 * 60, 11 * 60)


def test_a_held_series_reserves_its_next_occurrence_for_its_volunteer(make):
    pool = [make.volunteer("before", 1.0), make.volunteer("other", 2.0)]
    [reserved] = series.reservations([held(make)], pool, ROAD)
    assert reserved == Booking("before", "last-week/next", at(0, 2), reserved=True)


def test_the_reservation_blocks_an_overlapping_one_off_and_says_so(make):
    pool = [make.volunteer("before", 0.5), make.volunteer("other", 3.0)]
    one_off = make.request("one-off", window=at(1, 1))  # 10-11, inside the series' 09-11
    reserved = series.reservations([held(make)], pool, ROAD)

    (proposal,) = assign([one_off], pool, reserved).proposals
    assert proposal.volunteer_id == "other"
    assert proposal.explanation["runner_up"] == {"volunteer_id": "before", "distance_km": 0.7,
                                                  "reason": {"code": "reserved_for_series"},
                                                  "rule": "reserved_for_series"}
    assert assign([one_off], pool).proposals[0].volunteer_id == "before"  # nothing held: the nearest


def test_the_reservation_counts_as_a_task_in_its_weeks_load(make):
    thursday = Window(T + timedelta(days=2, hours=6), T + timedelta(days=2, hours=7))  # 15-16, no overlap
    one_off = make.request("one-off", window=thursday)
    full = [make.volunteer("before", 0.5, max_tasks_per_week=1)]
    reserved = series.reservations([held(make)], full, ROAD)

    answer = assign([one_off], full, reserved)
    assert answer.proposals == []
    assert answer.unmatched[0].reasons == {"reserved_for_series": 1}
    roomy = [make.volunteer("before", 0.5, max_tasks_per_week=2)]
    (proposal,) = assign([one_off], roomy, series.reservations([held(make)], roomy, ROAD)).proposals
    assert proposal.explanation["load_this_week"] == 1  # besides this one: the series' next occurrence
    assert assign([one_off], roomy).proposals[0].explanation["load_this_week"] == 0


def test_a_volunteer_who_left_or_cannot_help_then_holds_nothing(make):
    assert series.reservations([held(make)], [make.volunteer("other", 1.0)], ROAD) == []  # erased: not in the pool
    no_tuesdays = make.volunteer("before", 1.0, availability=(WeeklySlot.parse("thu", "13:00", "17:00"),))
    assert series.reservations([held(make)], [no_tuesdays], ROAD) == []
    moved_away = make.volunteer("before", 1.0, max_distance_km=0.5)
    assert series.reservations([held(make)], [moved_away], ROAD) == []


def test_the_follow_up_replaces_the_reservation(make):
    pool = [make.volunteer("before", 1.0), make.volunteer("nearer", 0.2)]
    follow_up = make.request("this-week", recurrence="weekly", follows="last-week", previous_volunteer="before")
    assert series.reservations([held(make)], pool, ROAD, solving=[follow_up]) == []
    (proposal,) = assign([follow_up], pool, series.reservations([held(make)], pool, ROAD, solving=[follow_up])).proposals
    assert proposal.volunteer_id == "before" and proposal.explanation["continuity"] is True


# -- continuity as a tier ---------------------------------------------------------------------------


def test_continuity_beats_a_nearer_volunteer_in_the_same_batch_even_if_the_batch_travels_more(make):
    follow_up = make.request("series", recurrence="weekly", follows="last-week", previous_volunteer="before")
    one_off = make.request("one-off", location=make.km_north(3.0))  # where "before" lives, same time
    pool = [make.volunteer("before", 3.0), make.volunteer("nearer", 0.0)]

    answer = assign([follow_up, one_off], pool)
    assert {p.request_id: p.volunteer_id for p in answer.proposals} == {"series": "before", "one-off": "nearer"}
    assert answer.optimal
    legacy = assign([follow_up, one_off], pool, config=SolverConfig(continuity_first=False))
    assert {p.request_id: p.volunteer_id for p in legacy.proposals} == {"series": "nearer", "one-off": "before"}


def test_matching_more_requests_still_comes_first_even_a_low_urgency_one(make):
    follow_up = make.request("series", recurrence="weekly", follows="last-week", previous_volunteer="before")
    only_before = make.request("one-off", urgency="low", location=make.km_north(3.0))
    pool = [make.volunteer("before", 2.5), make.volunteer("other", 0.5, max_distance_km=2.0)]

    answer = assign([follow_up, only_before], pool)
    assert {p.request_id: p.volunteer_id for p in answer.proposals} == {"series": "other", "one-off": "before"}
    assert answer.unmatched == []
    series_proposal = next(p for p in answer.proposals if p.request_id == "series")
    assert series_proposal.explanation["continuity"] is False
    assert series_proposal.explanation["runner_up"]["reason"] == {"code": "taken"}


def test_the_tier_is_exact_on_random_batches(make):
    """Against every assignment by brute force: fewest unmatched (by urgency), then fewest
    series losing last time's volunteer, then least travel."""
    rng = random.Random(7)
    differs = 0
    for _ in range(40):
        pool = [make.volunteer(f"v{j}", rng.uniform(0, 9), max_tasks_per_week=rng.choice((1, 2)),
                               max_distance_km=rng.choice((3.0, 6.0, 10.0))) for j in range(4)]
        requests = []
        for i in range(5):
            request = make.request(f"r{i}", window=at(rng.choice((0, 0.5, 1)), 1), location=make.km_east(rng.uniform(-5, 5)),
                                   urgency=rng.choice(("low", "normal", "urgent")))
            if rng.random() < 0.6:
                request = replace(request, recurrence="weekly", follows=f"before-{i}",
                                  previous_volunteer=rng.choice(pool).id)
            requests.append(request)
        answer = assign(requests, pool)
        best = _best_key(requests, pool)
        assert _key(answer.proposals, requests, pool) == best
        legacy = assign(requests, pool, config=SolverConfig(continuity_first=False))
        differs += _key(legacy.proposals, requests, pool) != best
    assert differs  # the instances tell the tier from the 1 km allowance


def _arcs(requests, pool):
    arcs = candidate_arcs(requests, pool)
    return {(arcs.requests[r].id, arcs.volunteers[v].id): (int(m), bool(a))
            for r, v, m, a in zip(arcs.request, arcs.volunteer, arcs.metres, arcs.again, strict=True)}


def _score(choice: dict[str, str], requests, arcs) -> tuple[int, int, int]:
    """(unmatched by urgency, series without last time's volunteer, metres) of an answer."""
    series_ids = {r for (r, _), (_, again) in arcs.items() if again}
    unmatched = sum(UNMATCHED_PENALTY_M[r.urgency] for r in requests if r.id not in choice)
    lost = sum(1 for r in series_ids if r not in choice or not arcs[(r, choice[r])][1])
    metres = sum(arcs[(r, v)][0] for r, v in choice.items())
    return unmatched, lost, metres


def _key(proposals, requests, pool):
    return _score({p.request_id: p.volunteer_id for p in proposals}, requests, _arcs(requests, pool))


def _best_key(requests, pool):
    arcs = _arcs(requests, pool)
    room = {v.id: v.max_tasks_per_week for v in pool}
    options = [[None, *[v for (r2, v) in arcs if r2 == r.id]] for r in requests]
    best = None
    for picked in itertools.product(*options):
        choice = {r.id: v for r, v in zip(requests, picked, strict=True) if v is not None}
        if any(list(choice.values()).count(v) > room[v] for v in room):
            continue
        mine = [(r, v) for r, v in zip(requests, picked, strict=True) if v is not None]
        if any(a[1] == b[1] and a[0].window.overlaps(b[0].window) for a, b in itertools.combinations(mine, 2)):
            continue
        key = _score(choice, requests, arcs)
        best = key if best is None or key < best else best
    return best

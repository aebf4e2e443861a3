"""The fast path agrees with the rules pair by pair.

candidates.py (with facts.py and array_rules.py) applies the hard rules to arrays of
pairs, behind an availability index; rules.py is the reference. On random small
instances (every rule, both regions, bookings in and around the week, windows past
midnight, distances exactly at a volunteer's limit) they must agree on every pair, on
the reasons of unmatched requests, and -- with the index forced on or off -- on the
solver's optimum.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mienskip_matching.domain.candidates import RULE_KEYS, BatchFacts
from mienskip_matching.domain.explain import exclusion_counts
from mienskip_matching.domain.model import (
    AwayPeriod,
    Booking,
    OpenRequest,
    Point,
    Volunteer,
    WeeklySlot,
    Window,
)
from mienskip_matching.domain.rules import HARD_RULES, RuleContext, covering_slot, first_failing_rule
from mienskip_matching.domain.solver import (
    TIE_SCALE,
    UNMATCHED_PENALTY_M,
    FlowProblem,
    SolverConfig,
    assign,
    candidate_arcs,
    solve_flow,
    travel_km,
)

CENTRE = Point(53.2012, 5.7999)
MONDAY = datetime(2025, 6, 30, 6, 0, tzinfo=UTC)  # 08:00 in Amsterdam
CATEGORIES = ["transport", "buddy", "shopping", "paperwork"]
EVERY_PAIR = SolverConfig(index_from_pairs=10**9)
INDEX_ALWAYS = SolverConfig(index_from_pairs=1)


def place(dx: float, dy: float) -> Point:
    return Point(CENTRE.lat + dy / 111.195, CENTRE.lon + dx / (111.195 * 0.5988))


offsets = st.tuples(st.floats(-8, 8), st.floats(-8, 8))
windows = st.builds(
    lambda day, hour, minutes, length: Window(MONDAY + timedelta(days=day, hours=hour, minutes=minutes),
                                              MONDAY + timedelta(days=day, hours=hour, minutes=minutes + length)),
    st.integers(0, 8), st.integers(0, 15), st.sampled_from([0, 15, 30, 59]), st.sampled_from([30, 60, 120, 240]))


@st.composite
def volunteers(draw, i: int) -> Volunteer:
    slots = draw(st.lists(st.builds(
        lambda day, start, length: WeeklySlot(day, start, min(24 * 60, start + length)),
        st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), st.integers(6 * 60, 22 * 60),
        st.sampled_from([60, 120, 180, 240])), max_size=4))
    return Volunteer(
        id=f"v{i}", kamer_id="k", region=draw(st.sampled_from(["a", "a", "b"])), home=place(*draw(offsets)),
        skills=frozenset(draw(st.sets(st.sampled_from(CATEGORIES), max_size=4))),
        languages=frozenset(draw(st.sets(st.sampled_from(["nl", "fy", "ar"]), max_size=2))),
        # 2 July 2022: three years old in the middle of the windows' days
        has_car=draw(st.booleans()), vog_checked_on=draw(st.sampled_from([None, date(2024, 1, 1), date(2022, 7, 2)])),
        availability=tuple(slots), max_tasks_per_week=draw(st.integers(1, 3)),
        max_distance_km=draw(st.sampled_from([1.0, 3.0, 5.0, 10.0, 15.0])),
        away=tuple(draw(st.lists(st.builds(lambda first, days: AwayPeriod(first, first + timedelta(days=days)),
                                           st.dates(date(2025, 6, 25), date(2025, 7, 10)), st.integers(0, 4)),
                                 max_size=2))),
        active=draw(st.sampled_from([True, True, True, False])))


@st.composite
def instances(draw, max_requests: int = 6, max_volunteers: int = 8):
    pool = [draw(volunteers(i)) for i in range(draw(st.integers(0, max_volunteers)))]
    ids = [v.id for v in pool]
    requests = []
    for i in range(draw(st.integers(1, max_requests))):
        category = draw(st.sampled_from(CATEGORIES))
        requests.append(OpenRequest(
            id=f"r{i}", kamer_id="k", region=draw(st.sampled_from(["a", "a", "b"])), category=category,
            skills=frozenset(draw(st.sets(st.sampled_from(CATEGORIES), max_size=1))),
            needs_vog=draw(st.booleans()), needs_language=draw(st.sampled_from([None, None, "fy", "ar"])),
            window=draw(windows), location=place(*draw(offsets)),
            urgency=draw(st.sampled_from(["low", "normal", "urgent"])),
            excluded_volunteers=frozenset(draw(st.sets(st.sampled_from(ids), max_size=2)) if ids else ())))
    if pool and draw(st.booleans()):  # one volunteer exactly at their limit for the first request
        j = draw(st.integers(0, len(pool) - 1))
        pool[j] = replace(pool[j], max_distance_km=travel_km(requests[0], pool[j], 1.3))
    bookings = [Booking(draw(st.sampled_from(ids)), draw(st.sampled_from([f"old{k}", "r0", "r1"])), draw(windows))
                for k in range(draw(st.integers(0, 6)))] if ids else []
    return requests, pool, bookings


def booked_by_volunteer(bookings):
    booked = {}
    for b in bookings:
        booked.setdefault(b.volunteer_id, []).append(b)
    return booked


def reference_codes(requests, pool, bookings):
    booked = booked_by_volunteer(bookings)
    return {(r, v): first_failing_rule(request, volunteer,
                                       RuleContext(travel_km(request, volunteer, 1.3), booked.get(volunteer.id, [])))
            for r, request in enumerate(requests) for v, volunteer in enumerate(pool)}


def test_the_array_rules_are_the_hard_rules_in_order():
    assert len(RULE_KEYS) == len(HARD_RULES)
    assert RULE_KEYS[0] == "region" and RULE_KEYS[-1] == "excluded"


@settings(max_examples=60, deadline=None)
@given(instances())
def test_every_pair_gets_the_first_failing_rule_of_the_rule_chain(instance):
    requests, pool, bookings = instance
    requests, pool = sorted(requests, key=lambda r: r.id), sorted(pool, key=lambda v: v.id)
    facts = BatchFacts(requests, pool, bookings, 1.3)
    r, v = (a.reshape(-1) for a in np.meshgrid(np.arange(len(requests)), np.arange(len(pool)), indexing="ij"))
    checked = facts.first_failing_rules(r, v)
    expected = reference_codes(requests, pool, bookings)
    got = {(i, j): (RULE_KEYS[c - 1] if c else None) for i, j, c in zip(r.tolist(), v.tolist(), checked.codes.tolist(),
                                                                         strict=True)}
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(instances())
def test_the_candidate_arcs_are_the_pairs_passing_every_rule_with_or_without_the_index(instance):
    requests, pool, bookings = instance
    requests_sorted, pool_sorted = sorted(requests, key=lambda r: r.id), sorted(pool, key=lambda v: v.id)
    expected = {pair for pair, reason in reference_codes(requests_sorted, pool_sorted, bookings).items()
                if reason is None}
    for config in (EVERY_PAIR, INDEX_ALWAYS):
        arcs = candidate_arcs(requests, pool, bookings, config)
        assert set(zip(arcs.request.tolist(), arcs.volunteer.tolist(), strict=True)) == expected
        for r, v, metres in zip(arcs.request.tolist(), arcs.volunteer.tolist(), arcs.metres.tolist(), strict=True):
            assert metres == round(travel_km(requests_sorted[r], pool_sorted[v], 1.3) * 1000)


@settings(max_examples=40, deadline=None)
@given(instances())
def test_unmatched_reasons_count_the_first_failing_rule_as_the_rule_chain_does(instance):
    requests, pool, bookings = instance
    booked = booked_by_volunteer(bookings)
    answer = assign(requests, pool, bookings, INDEX_ALWAYS)
    by_id = {r.id: r for r in requests}
    arcs = candidate_arcs(requests, pool, bookings)
    passing = {arcs.requests[r].id: int(n) for r, n in enumerate(np.diff(arcs.starts()))}
    for unmatched in answer.unmatched:
        expected = exclusion_counts(by_id[unmatched.request_id], pool, booked, SolverConfig().road_factor)
        if passing[unmatched.request_id]:
            expected["taken"] = passing[unmatched.request_id]
        assert unmatched.reasons == expected
        assert list(unmatched.reasons) == list(expected)  # same order: rule order, "taken" last


@settings(max_examples=40, deadline=None)
@given(instances(max_requests=8, max_volunteers=8))
def test_the_answer_keeps_every_hard_rule_across_the_batch(instance):
    requests, pool, bookings = instance
    answer = assign(requests, pool, bookings)
    by_id, vol = {r.id: r for r in requests}, {v.id: v for v in pool}
    booked = booked_by_volunteer(bookings)
    for p in answer.proposals:
        request, volunteer = by_id[p.request_id], vol[p.volunteer_id]
        ctx = RuleContext(travel_km(request, volunteer, 1.3), booked.get(volunteer.id, []))
        assert first_failing_rule(request, volunteer, ctx) is None
        slot = covering_slot(volunteer, request.window)  # the explanation's slot, read off arrays
        assert p.explanation["availability"] == (slot.label() if slot else None)
        mine_this_week = [q for q in answer.proposals if q.volunteer_id == volunteer.id
                          and by_id[q.request_id].window.iso_week == request.window.iso_week]
        before = sum(1 for b in booked.get(volunteer.id, []) if b.window.iso_week == request.window.iso_week
                     and b.request_id != request.id)
        assert p.explanation["load_this_week"] == before + len(mine_this_week) - 1
    for volunteer_id in {p.volunteer_id for p in answer.proposals}:
        mine = [by_id[p.request_id] for p in answer.proposals if p.volunteer_id == volunteer_id]
        assert not any(a.window.overlaps(b.window) for i, a in enumerate(mine) for b in mine[i + 1:])
        weeks = [r.window.iso_week for r in mine]
        for week in set(weeks):  # bookings for another request of the batch count for all but that one
            elsewhere = sum(1 for b in booked.get(volunteer_id, []) if b.window.iso_week == week
                            and b.request_id not in by_id)
            assert weeks.count(week) + elsewhere <= vol[volunteer_id].max_tasks_per_week
    assert answer.lower_bound <= answer.total_cost
    assert answer.optimal == (answer.lower_bound == answer.total_cost)
    assert answer.optimal or answer.note


def all_pairs_optimum(requests, pool) -> int:
    """The flow over every pair the rule chain allows, built pair by pair (no index, no arrays)."""
    requests, pool = sorted(requests, key=lambda r: r.id), sorted(pool, key=lambda v: v.id)
    buckets: dict[tuple[int, tuple[int, int]], int] = {}
    arcs = {}
    for r, request in enumerate(requests):
        for v, volunteer in enumerate(pool):
            km = travel_km(request, volunteer, 1.3)
            if first_failing_rule(request, volunteer, RuleContext(km)) is None:
                b = buckets.setdefault((v, request.window.iso_week), len(buckets))
                arcs[r, b] = round(km * 1000) * TIE_SCALE
    units = [list(range(pool[v].max_tasks_per_week)) for (v, _), _ in sorted(buckets.items(), key=lambda x: x[1])]
    unmatched = [UNMATCHED_PENALTY_M[r.urgency] * TIE_SCALE for r in requests]
    return solve_flow(FlowProblem(unmatched, arcs, units))[1]


@settings(max_examples=40, deadline=None)
@given(instances(max_requests=8, max_volunteers=10))
def test_the_pruned_candidates_reach_the_optimum_of_the_all_pairs_model(instance):
    requests, pool, _ = instance
    # Windows an hour apart on different days: no two overlap, so the flow alone is exact.
    requests = [replace(r, window=Window(MONDAY + timedelta(days=i % 5, hours=i),
                                         MONDAY + timedelta(days=i % 5, hours=i, minutes=45)))
                for i, r in enumerate(requests)]
    pruned = assign(requests, pool, (), INDEX_ALWAYS)
    unpruned = assign(requests, pool, (), EVERY_PAIR)
    assert pruned == unpruned
    assert pruned.optimal and pruned.total_cost == all_pairs_optimum(requests, pool)


def test_a_clash_the_flow_cannot_see_is_solved_exactly_and_proven_optimal(make):
    # 09-11, 10:30-12:30, 12-14 form a chain: overlap groups {a, b}, {c} leave b and c free to clash.
    t = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)
    win = [(0, 120), (90, 210), (180, 300)]
    requests = [make.request(f"r{i}", window=Window(t + timedelta(minutes=s), t + timedelta(minutes=e)))
                for i, (s, e) in enumerate(win)]
    day = (WeeklySlot.parse("tue", "08:00", "16:00"),)
    pool = [make.volunteer("near", 0.2, availability=day, max_tasks_per_week=3),
            make.volunteer("far", 6.0, availability=day, max_tasks_per_week=3)]
    answer = assign(requests, pool)
    chosen = {p.request_id: p.volunteer_id for p in answer.proposals}
    assert len(chosen) == 3
    for volunteer in ("near", "far"):
        mine = [r for r in requests if chosen[r.id] == volunteer]
        assert not any(a.window.overlaps(b.window) for i, a in enumerate(mine) for b in mine[i + 1:])
    assert answer.lower_bound <= answer.total_cost
    assert answer.optimal and answer.lower_bound == answer.total_cost and not answer.note  # solved whole, proven
    assert {chosen["r0"], chosen["r1"]} == {"near", "far"} and chosen["r0"] == chosen["r2"] == "near"


def test_when_the_time_limit_stops_the_repair_the_answer_says_so_and_has_no_clash(make):
    t = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)
    requests = [make.request(f"r{i}", window=Window(t + timedelta(minutes=s), t + timedelta(minutes=e)))
                for i, (s, e) in enumerate([(0, 120), (90, 210), (180, 300)])]
    pool = [make.volunteer("only", 0.2, availability=(WeeklySlot.parse("tue", "08:00", "16:00"),),
                           max_tasks_per_week=3)]
    answer = assign(requests, pool, config=SolverConfig(time_limit_s=-1))  # already past it
    mine = [r for r in requests if r.id in {p.request_id for p in answer.proposals}]
    assert not any(a.window.overlaps(b.window) for i, a in enumerate(mine) for b in mine[i + 1:])
    if answer.total_cost != answer.lower_bound:
        assert not answer.optimal and "time limit" in answer.note


def test_the_index_keeps_a_window_whose_local_end_is_before_its_start(make):
    # 26 Oct 2025, 02:50 CEST -> 02:10 CET: later in time, earlier on the clock.
    night = Window(datetime(2025, 10, 26, 0, 50, tzinfo=UTC), datetime(2025, 10, 26, 1, 10, tzinfo=UTC))
    requests = [make.request("odd", window=night)] + [make.request(f"r{i}") for i in range(30)]
    pool = [make.volunteer(f"v{j}", 0.5 + j / 10, availability=(WeeklySlot.parse("sun", "02:00", "02:30"),
                                                                WeeklySlot.parse("tue", "09:00", "12:00")))
            for j in range(30)]
    expected = {pair for pair, reason in reference_codes(sorted(requests, key=lambda r: r.id), pool, []).items()
                if reason is None}
    arcs = candidate_arcs(requests, pool, (), INDEX_ALWAYS)
    assert set(zip(arcs.request.tolist(), arcs.volunteer.tolist(), strict=True)) == expected
    assert any(arcs.requests[r].id == "odd" for r in arcs.request.tolist())

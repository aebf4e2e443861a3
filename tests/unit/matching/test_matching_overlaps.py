"""The exact solve of the no-overlap rule (:mod:`mienskip_matching.domain.overlaps`)
against brute force: the LP path, the branch-and-bound path, and what it never returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mienskip_matching.domain import overlaps
from mienskip_matching.domain.model import WeeklySlot, Window
from mienskip_matching.domain.solver import assign


def brute_force(req, vol, bucket, cost, penalty, start, end, unit_first, unit_room) -> int:
    """The cheapest subset of arcs: one per request, units per bucket, no overlap per volunteer."""
    best = 0  # choosing nothing
    n = len(req)
    for mask in range(1 << n):
        chosen = [i for i in range(n) if mask >> i & 1]
        if len({req[i] for i in chosen}) < len(chosen):
            continue
        taken = np.bincount(bucket[chosen], minlength=len(unit_room)) if chosen else np.zeros(len(unit_room), int)
        if (taken > unit_room).any():
            continue
        if any(vol[i] == vol[j] and start[i] < end[j] and start[j] < end[i] for i in chosen for j in chosen if i < j):
            continue
        cost_here = sum(int(cost[i] - penalty[i]) for i in chosen) + sum(
            int(k * unit_first[b] + k * (k - 1) // 2) for b, k in enumerate(taken))
        best = min(best, cost_here)
    return best


def keeps_rules(answer, req, vol, bucket, start, end, unit_room) -> bool:
    c = answer.chosen
    return (len(set(req[c].tolist())) == len(c)
            and (np.bincount(bucket[c], minlength=len(unit_room)) <= unit_room).all()
            and not any(vol[i] == vol[j] and start[i] < end[j] and start[j] < end[i] for i in c for j in c if i < j))


@st.composite
def instances(draw):
    n_req, n_vol = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    pairs = draw(st.lists(st.tuples(st.integers(0, n_req - 1), st.integers(0, n_vol - 1)),
                          min_size=1, max_size=11, unique=True))
    req = np.array([r for r, _ in pairs])
    vol = np.array([v for _, v in pairs])
    begins = np.array([draw(st.integers(0, 4)) * 30 for _ in range(n_req)])
    lengths = np.array([draw(st.integers(1, 3)) * 30 for _ in range(n_req)])
    return dict(req=req, vol=vol, bucket=vol.copy(),
                cost=np.array([draw(st.integers(0, 60)) * 64 for _ in pairs]),
                penalty=np.array([draw(st.sampled_from([1_000, 10_000]))] * len(pairs)),
                start=begins[req], end=(begins + lengths)[req],
                unit_first=np.array([draw(st.integers(0, 3)) for _ in range(n_vol)]),
                unit_room=np.array([draw(st.integers(1, 3)) for _ in range(n_vol)]))


@settings(max_examples=150, deadline=None)
@given(instances())
def test_the_answer_is_the_brute_force_optimum_and_proven(case):
    answer = overlaps.best_without_overlaps(**case, time_limit_s=5.0)
    assert answer.objective == brute_force(**case)
    assert answer.proven and answer.bound == answer.objective
    assert keeps_rules(answer, case["req"], case["vol"], case["bucket"], case["start"], case["end"], case["unit_room"])


# Found by a random search: its LP optimum is fractional, so branch and bound decides.
FRACTIONAL = dict(req=np.array([0, 0, 1, 2, 2]), vol=np.array([0, 1, 0, 0, 1]), bucket=np.array([0, 1, 0, 0, 1]),
                  cost=np.array([960, 192, 2496, 1984, 64]), penalty=np.full(5, 10_000),
                  start=np.array([30, 30, 60, 90, 90]), end=np.array([90, 90, 150, 180, 180]),
                  unit_first=np.zeros(2, dtype=np.int64), unit_room=np.array([3, 1]))


def test_a_fractional_lp_goes_on_to_branch_and_bound(monkeypatch):
    used = []
    solve = overlaps._solve
    monkeypatch.setattr(overlaps, "_solve", lambda model, name, limit: used.append(name) or solve(model, name, limit))
    answer = overlaps.best_without_overlaps(**FRACTIONAL, time_limit_s=5.0)
    assert used == [overlaps.LP_SOLVER, overlaps.MIP_SOLVER]
    assert answer.objective == brute_force(**FRACTIONAL) and answer.proven
    assert keeps_rules(answer, FRACTIONAL["req"], FRACTIONAL["vol"], FRACTIONAL["bucket"], FRACTIONAL["start"],
                       FRACTIONAL["end"], FRACTIONAL["unit_room"])


def test_no_time_left_means_no_answer():
    assert overlaps.best_without_overlaps(**FRACTIONAL, time_limit_s=0) is None


def service_sized_batch(make):
    """64 requests at four overlapping hours, 40 volunteers with room for three."""
    t = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)
    requests = [make.request(f"r{i:02d}", location=make.km_east((i % 8) * 0.7 - 2.5),
                             window=Window(t + timedelta(minutes=45 * (i % 4)), t + timedelta(minutes=45 * (i % 4) + 75)))
                for i in range(64)]
    day = (WeeklySlot.parse("tue", "08:00", "18:00"),)
    pool = [make.volunteer(f"v{j:02d}", (j % 10) * 0.5, availability=day, max_tasks_per_week=3) for j in range(40)]
    return requests, pool


def test_a_service_sized_batch_with_overlaps_is_solved_whole_and_proven_optimal(make, monkeypatch):
    """64 requests at four overlapping hours, 40 volunteers with room for three: the flow
    alone gives some volunteers overlapping tasks; the answer is still proven optimal."""
    solved = []
    exact = overlaps.best_without_overlaps
    monkeypatch.setattr(overlaps, "best_without_overlaps", lambda *a, **k: solved.append(len(a[0])) or exact(*a, **k))

    requests, pool = service_sized_batch(make)
    answer = assign(requests, pool)
    assert len(solved) == 1 and solved[0] > 64  # the whole region, once
    assert answer.optimal and answer.lower_bound == answer.total_cost and not answer.note
    by_id = {r.id: r for r in requests}
    for volunteer in pool:
        mine = [by_id[p.request_id].window for p in answer.proposals if p.volunteer_id == volunteer.id]
        assert not any(a.overlaps(b) for i, a in enumerate(mine) for b in mine[i + 1:])


def test_when_the_whole_region_cannot_be_solved_in_time_the_clashes_are_solved_around(make, monkeypatch):
    calls = []
    exact = overlaps.best_without_overlaps

    def first_one_runs_out_of_time(*args, **kwargs):
        calls.append(len(args[0]))
        return None if len(calls) == 1 else exact(*args, **kwargs)

    monkeypatch.setattr(overlaps, "best_without_overlaps", first_one_runs_out_of_time)
    requests, pool = service_sized_batch(make)
    answer = assign(requests, pool)
    assert len(calls) >= 2 and calls[1] < calls[0]  # the whole region, then only around the clashes
    assert "solved again exactly" in answer.note and "time limit" not in answer.note
    assert answer.lower_bound <= answer.total_cost
    assert len(answer.proposals) == 64
    by_id = {r.id: r for r in requests}
    for volunteer in pool:
        mine = [by_id[p.request_id].window for p in answer.proposals if p.volunteer_id == volunteer.id]
        assert not any(a.overlaps(b) for i, a in enumerate(mine) for b in mine[i + 1:])

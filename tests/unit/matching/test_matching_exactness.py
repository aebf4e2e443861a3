"""What the solver claims about its own answers holds on tiny instances.

* Each flow is first solved with the unmatched penalties shrunk, and kept only if it
  matches every request (the certificate of ``flow.Network.solve``, see ``proof``): with penalties large or
  small, the answer is the Hungarian algorithm's optimum.
* Overlap groups are cliques: the windows of one group share a moment, in one
  (volunteer, week).
* A small region (as the service's batches are) is proven optimal, overlap rule
  included: ``total_cost`` is the brute-force optimum and ``optimal`` is claimed.
* Solved only around its clashes (as big regions are), ``lower_bound <= brute-force
  optimum <= total_cost``, no volunteer gets overlapping tasks, and when ``optimal`` is
  claimed it is the brute-force optimum.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_matching_flow_property import hungarian_optimum

from mienskip_matching.domain.flow import overlap_groups
from mienskip_matching.domain.model import Window
from mienskip_matching.domain.solver import (
    PENALTY_SHRINK,
    TIE_SCALE,
    UNMATCHED_PENALTY_M,
    FlowProblem,
    SolverConfig,
    assign,
    candidate_arcs,
    solve_flow,
)

T = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)  # Tuesday 09:00 local


@st.composite
def flow_instances(draw, penalty_floor: int):
    n_req = draw(st.integers(1, 6))
    n_vol = draw(st.integers(0, 5))
    pairs = [(r, v) for r in range(n_req) for v in range(n_vol)]
    allowed = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    arcs = {pair: draw(st.integers(0, 50_000)) for pair in allowed}
    unmatched = draw(st.lists(st.integers(penalty_floor, penalty_floor * 8), min_size=n_req, max_size=n_req))
    capacity = draw(st.lists(st.integers(1, 2), min_size=n_vol, max_size=n_vol))
    return n_req, n_vol, arcs, unmatched, capacity


def hungarian_with_capacity(n_req, n_vol, arcs, unmatched, capacity) -> int:
    """Each volunteer's k-th unit is a column of its own (unit costs 0 here)."""
    columns = [v for v in range(n_vol) for _ in range(capacity[v])]
    split = {(r, c): arcs[r, v] for r in range(n_req) for c, v in enumerate(columns) if (r, v) in arcs}
    return hungarian_optimum(n_req, len(columns), split, unmatched)


@settings(max_examples=60, deadline=None)
@given(flow_instances(penalty_floor=PENALTY_SHRINK * 60_000))  # shrunk, still dearer than any trip
def test_with_large_penalties_the_shrunk_solve_is_certified_and_optimal(instance):
    n_req, n_vol, arcs, unmatched, capacity = instance
    chosen, total = solve_flow(FlowProblem(unmatched, arcs, [[0] * c for c in capacity]))
    assert total == hungarian_with_capacity(*instance)
    assert total == sum(arcs[r, v] for r, v in chosen.items()) + sum(
        unmatched[r] for r in range(n_req) if r not in chosen)


@settings(max_examples=60, deadline=None)
@given(flow_instances(penalty_floor=1_000))  # shrunk, cheaper than most trips: the real solve decides
def test_with_small_penalties_the_answer_is_still_the_optimum(instance):
    n_req, n_vol, arcs, unmatched, capacity = instance
    _, total = solve_flow(FlowProblem(unmatched, arcs, [[0] * c for c in capacity]))
    assert total == hungarian_with_capacity(*instance)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20), st.integers(1, 8), st.booleans()),
                min_size=1, max_size=30))
def test_overlap_groups_are_windows_around_one_moment_in_one_bucket(rows):
    bucket = np.array([b for b, _, _, _ in rows], dtype=np.int64)
    start = np.array([s for _, s, _, _ in rows], dtype=np.int64)
    end = start + np.array([length for _, _, length, _ in rows], dtype=np.int64)
    which = np.array([w for *_, w in rows], dtype=bool)
    group = overlap_groups(bucket, start, end, which)
    assert (group[~which] == -1).all()
    for g in np.unique(group[group >= 0]):
        members = np.flatnonzero(group == g)
        assert len(set(bucket[members].tolist())) == 1
        assert start[members].max() < end[members].min()  # a moment every window holds


def at(minutes: int, length: int) -> Window:
    return Window(T + timedelta(minutes=minutes), T + timedelta(minutes=minutes + length))


@st.composite
def overlapping_instances(draw, make):
    n_req, n_vol = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    requests = [make.request(f"r{i}", window=at(draw(st.sampled_from([0, 30, 60, 90, 120])),
                                                 draw(st.sampled_from([30, 60, 90]))),
                             location=make.km_east(draw(st.floats(-3, 3))),
                             urgency=draw(st.sampled_from(["low", "normal", "urgent"])))
                for i in range(n_req)]
    pool = [make.volunteer(f"v{j}", draw(st.floats(0, 3)), max_tasks_per_week=draw(st.integers(1, 3)))
            for j in range(n_vol)]
    return requests, pool


def brute_force_optimum(requests, pool) -> int:
    """Every way to give each request a candidate or nobody; the cheapest that keeps capacity
    and never gives one volunteer overlapping windows (no bookings: load 0)."""
    arcs = candidate_arcs(requests, pool)
    reqs, vols = arcs.requests, arcs.volunteers
    options = [[None] + [a for a in range(len(arcs)) if arcs.request[a] == r] for r in range(len(reqs))]
    best = None
    for pick in product(*options):
        taken: dict[int, list[int]] = {}
        cost = 0
        for r, a in enumerate(pick):
            if a is None:
                cost += UNMATCHED_PENALTY_M[reqs[r].urgency] * TIE_SCALE
            else:
                taken.setdefault(int(arcs.volunteer[a]), []).append(r)
                cost += int(arcs.metres[a]) * TIE_SCALE
        ok = True
        for v, mine in taken.items():
            windows = [reqs[r].window for r in mine]
            if len(mine) > vols[v].max_tasks_per_week or any(
                    w1.overlaps(w2) for i, w1 in enumerate(windows) for w2 in windows[i + 1:]):
                ok = False
                break
            cost += len(mine) * (len(mine) - 1) // 2  # the k-th task of the week costs k - 1 (load 0)
        if ok and (best is None or cost < best):
            best = cost
    return best


@st.composite
def chained_instances(draw, make):
    """Windows in a chain (each overlaps the next, not the one after), volunteers with
    room for several: the overlaps the flow's groups cannot see."""
    n_req, n_vol = draw(st.integers(3, 6)), draw(st.integers(1, 3))
    requests = [make.request(f"r{i}", window=at(i * 45 + draw(st.sampled_from([0, 15])), draw(st.sampled_from([60, 75]))),
                             location=make.km_east(draw(st.floats(-2, 2))),
                             urgency=draw(st.sampled_from(["low", "normal", "urgent"])))
                for i in range(n_req)]
    pool = [make.volunteer(f"v{j}", draw(st.floats(0, 3)), max_tasks_per_week=draw(st.integers(2, 3)))
            for j in range(n_vol)]
    return requests, pool


def instances(make):
    return st.one_of(overlapping_instances(make), chained_instances(make))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_small_region_is_solved_to_the_brute_force_optimum_and_says_so(make, data):
    requests, pool = data.draw(instances(make))
    answer = assign(requests, pool)
    assert answer.total_cost == brute_force_optimum(requests, pool)
    assert answer.optimal and answer.lower_bound == answer.total_cost and not answer.note


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_solved_only_around_the_clashes_the_bound_and_the_optimal_flag_hold(make, data):
    requests, pool = data.draw(instances(make))
    answer = assign(requests, pool, config=SolverConfig(exact_arcs=0, repair_reach_m=data.draw(
        st.sampled_from([0, 500, 10_000]))))
    optimum = brute_force_optimum(requests, pool)
    assert answer.lower_bound <= optimum <= answer.total_cost
    windows: dict[str, list[Window]] = {}
    by_id = {r.id: r for r in requests}
    for p in answer.proposals:
        mine = windows.setdefault(p.volunteer_id, [])
        assert not any(by_id[p.request_id].window.overlaps(w) for w in mine)
        mine.append(by_id[p.request_id].window)
    if answer.optimal:
        assert answer.total_cost == optimum
    else:
        assert "solved again exactly" in answer.note

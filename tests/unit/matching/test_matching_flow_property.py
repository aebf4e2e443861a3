"""The min-cost flow finds the same optimum as scipy's Hungarian algorithm.

With capacity 1 per volunteer the flow is an assignment problem; leaving request ``i``
unmatched is a dummy column only ``i`` may use, at its penalty.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from mienskip_matching.domain.model import Window
from mienskip_matching.domain.solver import (
    TIE_SCALE,
    UNMATCHED_PENALTY_M,
    FlowProblem,
    assign,
    solve_flow,
    travel_km,
)


def hungarian_optimum(n_requests: int, n_volunteers: int, arcs: dict[tuple[int, int], int],
                      unmatched: list[int]) -> int:
    forbidden = sum(unmatched) + 1  # dearer than leaving everyone unmatched: never optimal
    matrix = np.full((n_requests, n_volunteers + n_requests), forbidden, dtype=np.int64)
    for (r, v), cost in arcs.items():
        matrix[r, v] = cost
    for r in range(n_requests):
        matrix[r, n_volunteers + r] = unmatched[r]
    rows, cols = linear_sum_assignment(matrix)
    return int(matrix[rows, cols].sum())


@st.composite
def flow_instances(draw):
    n_req = draw(st.integers(1, 6))
    n_vol = draw(st.integers(0, 6))
    pairs = [(r, v) for r in range(n_req) for v in range(n_vol)]
    allowed = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    arcs = {pair: draw(st.integers(0, 50_000)) for pair in allowed}
    unmatched = draw(st.lists(st.integers(1_000, 200_000), min_size=n_req, max_size=n_req))
    return n_req, n_vol, arcs, unmatched


@settings(max_examples=50, deadline=None)
@given(flow_instances())
def test_flow_optimum_equals_linear_sum_assignment(instance):
    n_req, n_vol, arcs, unmatched = instance
    chosen, total = solve_flow(FlowProblem(unmatched, arcs, [[0]] * n_vol))
    assert total == hungarian_optimum(n_req, n_vol, arcs, unmatched)
    assert len(set(chosen.values())) == len(chosen)  # capacity 1: nobody twice
    assert all(pair in arcs for pair in chosen.items())
    assert total == sum(arcs[r, v] for r, v in chosen.items()) + sum(
        unmatched[r] for r in range(n_req) if r not in chosen)


offsets = st.tuples(st.floats(-6, 6), st.floats(-6, 6))


@settings(max_examples=50, deadline=None)
@given(req_offsets=st.lists(offsets, min_size=1, max_size=6), vol_offsets=st.lists(offsets, max_size=6),
       reach=st.lists(st.sampled_from([2.0, 5.0, 10.0]), min_size=6, max_size=6))
def test_assign_total_equals_linear_sum_assignment(make, req_offsets, vol_offsets, reach):
    start = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)
    # All in one week, none overlapping: only weekly capacity 1 and distance decide.
    requests = [make.request(f"r{i}", location=make.km_east(dx, make.km_north(dy)),
                             window=Window(start + timedelta(minutes=20 * i), start + timedelta(minutes=20 * i + 15)))
                for i, (dx, dy) in enumerate(req_offsets)]
    pool = [make.volunteer(f"v{j}", home=make.km_east(dx, make.km_north(dy)), max_tasks_per_week=1,
                           max_distance_km=reach[j])
            for j, (dx, dy) in enumerate(vol_offsets)]

    answer = assign(requests, pool)

    arcs = {}
    for r, request in enumerate(requests):
        for v, volunteer in enumerate(pool):
            km = travel_km(request, volunteer, 1.3)
            if km <= volunteer.max_distance_km:
                arcs[r, v] = round(km * 1000) * TIE_SCALE
    unmatched = [UNMATCHED_PENALTY_M["normal"] * TIE_SCALE] * len(requests)
    assert answer.total_cost == hungarian_optimum(len(requests), len(pool), arcs, unmatched)
    assert len(answer.proposals) + len(answer.unmatched) == len(requests)
    assert len({p.volunteer_id for p in answer.proposals}) == len(answer.proposals)

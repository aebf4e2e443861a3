"""The rule a flow cannot say -- one volunteer, no two overlapping tasks -- as a small MIP.

:mod:`.solver` solves each region as a min-cost flow (:mod:`.flow`), a relaxation of this
rule. Where that flow gives a volunteer two overlapping windows, the arcs around the
clash (:mod:`.repair`), or the whole region, are handed here and solved exactly: a mixed-integer program with OR-Tools' linear solver
wrapper (SCIP), built from sparse arrays, never one Python object per arc.

Columns: ``x_a`` in {0, 1} per arc (request -> volunteer), and per (volunteer, week)
bucket its units ``y_bk`` in [0, 1], the k-th costing ``unit_first[b] + k`` (rising
costs: the cheapest units fill first, so they need not be integer). Rows:

* each request at most once: ``sum x_a <= 1``;
* each bucket: ``sum x_a - sum y_bk = 0`` (so no more than its units);
* each volunteer, at the start of each of its windows: the arcs whose windows hold that
  moment, at most one. In an interval graph every maximal clique holds some window's
  start, so these rows forbid every overlap.

Objective: ``sum (cost_a - penalty_a) x_a + sum unit costs``: matching a request saves
its penalty for staying unmatched, as in the flow.

The LP relaxation (GLOP) is solved first: these rows are nearly an interval matrix and
its optimal vertex is usually whole, and then it is the MIP's optimum, proven by its
own bound, in a tenth of the time branch and bound takes. Only a fractional vertex goes
on to SCIP. Either answer is checked against every rule in integers before it is used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse
from ortools.linear_solver.python import model_builder_helper as mbh

LP_SOLVER = "glop"  # first the LP relaxation: on these models it is mostly whole already
MIP_SOLVER = "scip"  # else branch and bound; both bundled with OR-Tools (HiGHS prints a banner on stdout)
INTEGRAL = 1e-6  # an LP value this close to 0 or 1 counts as whole


@dataclass(frozen=True)
class MipAnswer:
    chosen: np.ndarray  # positions of the arcs taken
    objective: int  # in the objective's terms: sum (cost - penalty) + unit costs
    bound: int  # no choice costs less than this
    proven: bool  # objective == bound: the solver proved it optimal


def units_cost(taken: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Per (volunteer, week): the cost of its ``taken`` cheapest units, the k-th costing
    ``first + k`` (k from 0): the load tie-break of the flow and of the MIP alike."""
    return taken * first + taken * (taken - 1) // 2


def same_volunteer_pairs(arcs: np.ndarray, others: np.ndarray, vol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (position in ``arcs``, arc of ``others``) of one volunteer, the arc itself included."""
    if not arcs.size or not others.size:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    by_vol = others[np.argsort(vol[others], kind="stable")]
    lo = np.searchsorted(vol[by_vol], vol[arcs], side="left")
    count = np.searchsorted(vol[by_vol], vol[arcs], side="right") - lo
    pos = np.repeat(np.arange(arcs.size), count)
    other = by_vol[np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))]
    return pos, other


def best_without_overlaps(req: np.ndarray, vol: np.ndarray, bucket: np.ndarray, cost: np.ndarray,
                          penalty: np.ndarray, start: np.ndarray, end: np.ndarray,
                          unit_first: np.ndarray, unit_room: np.ndarray, time_limit_s: float) -> MipAnswer | None:
    """The cheapest choice of these arcs keeping every request, bucket and volunteer's time;
    None when the solver found no answer within the time limit.

    Per arc: its request, volunteer and bucket (any integers), cost, the request's
    penalty, its window's instants. Per bucket number: the cost of its first free unit
    and how many it has (buckets of no arc may have any values).
    """
    n = len(req)
    if n == 0 or time_limit_s <= 0:
        return None
    _, req_row = np.unique(req, return_inverse=True)
    buckets, bucket_row = np.unique(bucket, return_inverse=True)
    units = np.minimum(unit_room[buckets], np.bincount(bucket_row, minlength=len(buckets)))
    unit_bucket = np.repeat(np.arange(len(buckets)), units)
    unit_cost = unit_first[buckets][unit_bucket] + np.arange(int(units.sum())) - np.repeat(np.cumsum(units) - units, units)

    arcs = np.arange(n)
    pos, other = same_volunteer_pairs(arcs, arcs, vol)
    holds = (start[other] <= start[pos]) & (start[pos] < end[other])  # other's window holds pos's start
    pos, other = pos[holds], other[holds]
    crowded = np.bincount(pos, minlength=n) >= 2
    keep = crowded[pos]
    _, clique_row = np.unique(pos[keep], return_inverse=True)

    n_req, n_bucket, n_clique = int(req_row.max()) + 1, len(buckets), int(clique_row.max(initial=-1)) + 1
    n_units = len(unit_cost)
    rows = np.concatenate((req_row, n_req + bucket_row, n_req + unit_bucket, n_req + n_bucket + clique_row))
    cols = np.concatenate((arcs, arcs, n + np.arange(n_units), other[keep]))
    vals = np.concatenate((np.ones(2 * n), -np.ones(n_units), np.ones(int(keep.sum()))))
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n_req + n_bucket + n_clique, n + n_units))
    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        np.zeros(n + n_units), np.ones(n + n_units),
        np.concatenate((cost - penalty, unit_cost)).astype(np.float64),
        np.concatenate((np.full(n_req, -np.inf), np.zeros(n_bucket), np.full(n_clique, -np.inf))),
        np.concatenate((np.ones(n_req), np.zeros(n_bucket), np.ones(n_clique))),
        matrix)
    deadline = time.monotonic() + time_limit_s

    def answer(solver: mbh.ModelSolverHelper, bound: float) -> MipAnswer | None:
        chosen = np.flatnonzero(np.asarray(solver.variable_values())[:n] > 0.5)
        taken = np.bincount(bucket_row[chosen], minlength=n_bucket)  # the cheapest units of each bucket
        if (np.bincount(req_row[chosen]) > 1).any() or (taken > units).any() or overlaps_any(chosen, chosen, vol, start, end).any():
            return None  # cannot happen within the solvers' tolerances; never trust it blindly
        objective = int((cost[chosen] - penalty[chosen]).sum()
                        + units_cost(taken, unit_first[buckets]).sum())
        lower = objective if bound >= objective - 0.5 else int(np.ceil(bound))  # 0.5: float noise, units are whole
        return MipAnswer(chosen=chosen, objective=objective, bound=min(objective, lower), proven=lower >= objective)

    relaxed = _solve(model, LP_SOLVER, time_limit_s)
    if relaxed is not None:
        x = np.asarray(relaxed.variable_values())[:n]
        if (np.minimum(x, 1 - x) < INTEGRAL).all():  # an optimal vertex that is whole: the MIP's optimum too
            found = answer(relaxed, relaxed.objective_value())
            if found is not None:
                return found
    for column in range(n):
        model.set_var_integrality(column, True)
    exact = _solve(model, MIP_SOLVER, deadline - time.monotonic())
    return None if exact is None else answer(exact, exact.best_objective_bound())


def _solve(model: mbh.ModelBuilderHelper, name: str, time_limit_s: float) -> mbh.ModelSolverHelper | None:
    """The solver after solving, if it has a solution (optimal for an LP); else None."""
    if time_limit_s <= 0:
        return None
    solver = mbh.ModelSolverHelper(name)
    solver.set_time_limit_in_seconds(time_limit_s)
    solver.solve(model)
    if not solver.has_solution():
        return None
    if name == LP_SOLVER and solver.status() != mbh.SolveStatus.OPTIMAL:
        return None
    return solver


def overlapping_pairs(arcs: np.ndarray, others: np.ndarray, vol: np.ndarray, start: np.ndarray,
                      end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (position in ``arcs``, arc of ``others``) that gives one volunteer two
    overlapping windows (an arc is never paired with itself)."""
    pos, other = same_volunteer_pairs(arcs, others, vol)
    mine = arcs[pos]
    overlap = (other != mine) & (start[other] < end[mine]) & (start[mine] < end[other])
    return pos[overlap], other[overlap]


def overlaps_any(arcs: np.ndarray, others: np.ndarray, vol: np.ndarray, start: np.ndarray,
                 end: np.ndarray) -> np.ndarray:
    """Per arc of ``arcs``: does one of ``others`` give its volunteer an overlapping window?"""
    pos, _ = overlapping_pairs(arcs, others, vol, start, end)
    return np.bincount(pos, minlength=arcs.size) > 0

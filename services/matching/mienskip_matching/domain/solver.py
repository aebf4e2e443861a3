"""Who helps whom: a min-cost flow over the pairs that pass every hard rule.

data -> candidates (the hard rules on arrays, :mod:`.candidates`) -> one flow network per
region (:mod:`.flow`) -> solve -> status check -> overlapping tasks solved exactly
(:mod:`.overlaps`, :mod:`.repair`) -> proposals with an explanation, unmatched requests
with reasons (:mod:`.explain`). This module runs those steps within the time limit and
says how good the answer is; callers import the solver's names from here (``__all__``).

No volunteer may help outside their region, so each region is a network of its own
(smaller, and solved faster, than one big one; the sum of their optima is the optimum).
Costs are whole metres (great-circle km x road factor x 1000) scaled by
:data:`TIE_SCALE`, so distance always wins over the current weekly load, which only
breaks ties. Not matching a request costs far more than any trip, more for urgent
ones, so the solver only leaves a request unmatched when it must. Between the two sits
continuity (``SolverConfig.continuity_first``, :func:`_continuity_tier`): a weekly
series keeps the volunteer who helped it last time whenever every hard rule allows it
and no request would go unmatched for it -- an exact tier, whatever the distances: in a
region with such requests, losing that volunteer costs more than all of the region's
travel and load could differ by, and leaving a request unmatched more than all of
that. (With ``continuity_first`` off, last time's volunteer only counts as
``SolverConfig.continuity_m`` metres nearer, as before the weekly-series trial.)

One volunteer may not take two requests whose windows overlap, which a flow cannot say
in general: the flow says it in part (overlap groups, :func:`.flow.overlap_groups`), so
it is a relaxation of the real problem and its cost a lower bound. If it gives no
volunteer two overlapping requests, it is the optimum. Otherwise the rule is solved
exactly (:mod:`.overlaps`, a MIP): the whole region when it is small -- as the service's
batches are -- and the answer is proven optimal; in a bigger region only the requests
around the clashes (:mod:`.repair`), the rest kept as the flow chose, so every rule holds
and the :class:`Assignment` says how far above the flow's bound it is. If the time limit
comes first, the losers of the clashes stay unmatched, and it says that too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import proof, repair
from .candidates import BatchFacts, CandidateArcs, arcs_passing_every_rule, travel_km
from .explain import explain
from .flow import (
    PENALTY_SHRINK,
    FlowProblem,
    Network,
    Region,
    SolverFailed,
    cost_of,
    overlap_groups,
    region_network,
    solve_flow,
)
from .model import VOG_VALID_YEARS, Assignment, Booking, OpenRequest, Volunteer

__all__ = [
    "INDEX_FROM_PAIRS", "PENALTY_SHRINK", "TIE_SCALE", "UNMATCHED_PENALTY_M", "CandidateArcs", "FlowProblem",
    "SolverConfig", "SolverFailed", "assign", "candidate_arcs", "solve_flow", "travel_km",
]

TIE_SCALE = 64  # > max_tasks_per_week (50): load can never outweigh one metre
UNMATCHED_PENALTY_M = {"low": 10_000_000, "normal": 20_000_000, "high": 40_000_000, "urgent": 80_000_000}
INDEX_FROM_PAIRS = 20_000  # below this, checking every pair is cheaper than the availability index


@dataclass(frozen=True)
class SolverConfig:
    road_factor: float = 1.3
    # Continuity: a weekly series keeps the volunteer who helped it last time unless a
    # hard rule forbids it or another request would go unmatched (a tier between
    # matching and distance) ...
    continuity_first: bool = True
    # ... or, with that off, last time's volunteer counts as this many metres nearer
    # (distance decides beyond that; 0 turns continuity off).
    continuity_m: int = 1_000
    # Hold the next occurrence of a held weekly series for its volunteer while other
    # requests are solved (:mod:`.series`; the service layer reads this).
    reserve_series: bool = True
    time_limit_s: float = 5.0  # bounds the clash-repair rounds; one flow solve is polynomial
    index_from_pairs: int = INDEX_FROM_PAIRS
    # Overlapping tasks the flow gave one volunteer are solved exactly as a MIP: the whole
    # region up to this many arcs (proven optimal; 16,000 arcs took 0.13 s here), else the
    # requests around the clashes, with moves costing at most ``repair_reach_m`` more than
    # the flow's choice (tuned on the benchmark scenarios: from 350 m on every request the
    # flow matched stays matched in Leeuwarden and Fryslân; 700 m travels 20 km less than
    # 500 m in Leeuwarden in the same time; at 1,000 m the LP turned fractional and SCIP
    # took 0.7 s).
    exact_arcs: int = 16_000
    repair_reach_m: int = 700
    # How many years a VOG counts, and per region where that differs ((region, years), ...).
    vog_valid_years: int = VOG_VALID_YEARS
    vog_valid_years_by_region: tuple[tuple[str, int], ...] = ()

    def vog_valid_years_in(self, region: str) -> int:
        return dict(self.vog_valid_years_by_region).get(region, self.vog_valid_years)


# -- candidates ------------------------------------------------------------------------------


def candidate_arcs(requests: Sequence[OpenRequest], volunteers: Sequence[Volunteer],
                   bookings: Sequence[Booking] = (), config: SolverConfig = SolverConfig()) -> CandidateArcs:
    """The pairs :func:`assign` chooses from: those passing every rule of :data:`.rules.HARD_RULES`."""
    requests = sorted(requests, key=lambda r: r.id)
    volunteers = sorted(volunteers, key=lambda v: v.id)
    facts = BatchFacts(requests, volunteers, bookings, config.road_factor)
    return arcs_passing_every_rule(facts, config.index_from_pairs)


# -- solving -----------------------------------------------------------------------------------


@dataclass
class _Solved:
    chosen: list[np.ndarray]  # arc indices carrying a request, per region
    total: int = 0
    bound: int = 0
    repairs: repair.Repairs = field(default_factory=repair.Repairs)


def assign(
    requests: Sequence[OpenRequest],
    volunteers: Sequence[Volunteer],
    bookings: Sequence[Booking] = (),
    config: SolverConfig = SolverConfig(),
) -> Assignment:
    """Propose at most one volunteer per request, minimising total travel, never breaking a hard rule."""
    requests = sorted(requests, key=lambda r: r.id)
    volunteers = sorted(volunteers, key=lambda v: v.id)  # same input, same answer
    bookings = list(bookings)
    facts = BatchFacts(requests, volunteers, bookings, config.road_factor)
    arcs = arcs_passing_every_rule(facts, config.index_from_pairs)
    deadline = time.monotonic() + config.time_limit_s  # for the solving, not for reading the input

    penalty = np.array([UNMATCHED_PENALTY_M.get(r.urgency, UNMATCHED_PENALTY_M["normal"]) * TIE_SCALE
                        for r in requests], dtype=np.int64)
    solved = _Solved(chosen=[])
    arc_region = facts.req_region[arcs.request]
    with_arcs = np.zeros(len(requests), dtype=bool)
    with_arcs[arcs.request] = True
    solved.total = solved.bound = int(penalty[~with_arcs].sum())  # nobody qualifies: unmatched for sure
    for code in np.unique(arc_region):
        _solve_region(facts, arcs, np.flatnonzero(arc_region == code), penalty, deadline, solved, config)

    chosen = np.sort(np.concatenate(solved.chosen)) if solved.chosen else np.zeros(0, np.int64)
    return _answer(facts, arcs, chosen, solved, config)


def _solve_region(facts: BatchFacts, arcs: CandidateArcs, idx: np.ndarray, penalty: np.ndarray,
                  deadline: float, solved: _Solved, config: SolverConfig) -> None:
    """Solve one region's arcs ``idx`` so that no volunteer gets overlapping windows.

    The flow knows the overlap groups (cliques: windows sharing a moment) but not every
    overlap, so it is a relaxation: its cost is a lower bound, and if it gives no
    volunteer two overlapping requests it is the optimum. Otherwise :func:`_without_clashes`
    solves the rule exactly around the clashes.
    """
    req, vol, again = arcs.request[idx], arcs.volunteer[idx], arcs.again[idx]
    if config.continuity_first:
        cost = arcs.metres[idx] * TIE_SCALE
        if again.any():
            cost, penalty = _continuity_tier(req, again, cost, int(facts.vol_max_tasks[vol].max()), penalty)
    else:
        cost = np.maximum(0, arcs.metres[idx] - config.continuity_m * again) * TIE_SCALE
    _, first, bucket = np.unique(vol * 10**7 + facts.req_week[req], return_index=True, return_inverse=True)
    bucket = bucket.reshape(-1)
    bucket_load = arcs.load[idx][first]  # as the first request (by id) of the bucket sees it
    room = facts.vol_max_tasks[vol[first]] - bucket_load
    start, end = facts.req_start[req], facts.req_end[req]
    # with room for one, a volunteer cannot get two overlapping tasks anyway
    group = overlap_groups(bucket, start, end, room[bucket] >= 2)
    region = Region(req, vol, bucket, cost, start, end, bucket_load, room, penalty)
    network = region_network(region, group)
    used, bound = network.solve(first_arcs=len(req))
    chosen = np.flatnonzero(used)
    clashes = repair.clashes(chosen, vol, start, end)
    if clashes:
        chosen, bound = _without_clashes(region, network, chosen, clashes, bound, deadline, solved, config)
    solved.chosen.append(idx[chosen])
    solved.total += cost_of(chosen, region)
    solved.bound += bound


def _continuity_tier(req: np.ndarray, again: np.ndarray, cost: np.ndarray, most_tasks: int,
                     penalty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(arc costs, unmatched penalties) of one region ranking answers lexicographically:
    fewest requests unmatched (weighted by urgency, as before), then the fewest series
    that lose last time's volunteer, then travel, then load.

    A series request is one whose previous volunteer passes every hard rule for it (an
    ``again`` arc). No two answers' travel and load differ by more than ``spread`` (each
    request's dearest arc, plus a load unit of at most ``most_tasks``), so losing the
    volunteer costs ``spread + 1`` on every other arc of a series request and on its
    unmatched arc; and the region's penalties are scaled up (urgencies keep their
    ratios) until the cheapest exceeds every series losing its volunteer at once.
    """
    series = np.zeros(len(penalty), dtype=bool)
    series[req[again]] = True
    reqs = np.unique(req)
    dearest = np.zeros(len(penalty), dtype=np.int64)
    np.maximum.at(dearest, req, cost)
    spread = int(dearest[reqs].sum()) + len(reqs) * most_tasks
    losing = spread + 1
    cost = cost + losing * (series[req] & ~again)
    penalty = penalty.copy()
    needed = (int(series.sum()) + 1) * losing
    cheapest = int(penalty[reqs].min())
    if cheapest < needed:
        penalty[reqs] *= -(-needed // cheapest)
    penalty[series] += losing
    return cost, penalty


def _without_clashes(region: Region, network: Network, chosen: np.ndarray, clashes: list[tuple[int, int]],
                     bound: int, deadline: float, solved: _Solved, config: SolverConfig) -> tuple[np.ndarray, int]:
    """(arcs chosen, lower bound) with no volunteer's windows overlapping.

    A region of up to ``config.exact_arcs`` arcs is solved whole as a MIP
    (:func:`.overlaps.best_without_overlaps`), with half the time left: proven optimal,
    its bound is the answer's. A bigger one, or one that solve could not finish, keeps
    the flow's choice except around the clashes (:func:`.repair.around_clashes`, reaching
    ``config.repair_reach_m`` beyond the flow's optimum at first): every rule holds, and
    the flow's bound stays the bound.
    """
    if len(region.req) <= config.exact_arcs:
        halfway = time.monotonic() + (deadline - time.monotonic()) / 2
        whole = repair.reoptimise(region, chosen, np.arange(len(region.req)), halfway, solved.repairs)
        if whole is not None:
            # every arc of the region was open: the MIP's bound holds for it
            return whole[0], max(bound, whole[1] + int(region.penalty[np.unique(region.req)].sum()))
    reduced = proof.reduced_costs(network)[:len(region.req)]
    return repair.around_clashes(region, reduced, chosen, clashes, config.repair_reach_m * TIE_SCALE, deadline,
                                 solved.repairs), bound


# -- the answer ------------------------------------------------------------------------------


def _answer(facts: BatchFacts, arcs: CandidateArcs, chosen: np.ndarray, solved: _Solved,
            config: SolverConfig) -> Assignment:
    proposals, unmatched = explain(facts, arcs, chosen, config.continuity_m, config.continuity_first)
    optimal = solved.total == solved.bound
    return Assignment(proposals=proposals, unmatched=unmatched, total_cost=solved.total, optimal=optimal,
                      lower_bound=solved.bound, note="" if optimal else _note(solved, config))


def _note(solved: _Solved, config: SolverConfig) -> str:
    gap, repairs = solved.total - solved.bound, solved.repairs
    text = (f"the flow gave volunteers overlapping tasks; {repairs.around} request(s) around them were solved "
            f"again exactly ({repairs.repaired} MIP solve(s)), the rest kept; "
            f"cost {gap} above the lower bound {solved.bound} (gap {100 * gap / max(1, solved.bound):.4f} %)")
    if repairs.cut_short:
        text = (f"time limit of {config.time_limit_s} s reached before overlapping tasks were solved in "
                f"{repairs.cut_short} region(s): {repairs.left_unmatched} request(s) left unmatched so no "
                f"volunteer has overlapping tasks; " + text)
    return text

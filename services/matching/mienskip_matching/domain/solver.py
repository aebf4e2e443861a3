"""Who helps whom: a min-cost flow over the pairs that pass every hard rule.

data -> candidates (the hard rules on arrays, :mod:`.candidates`) -> one flow network per
region -> solve -> status check -> overlapping tasks solved exactly (:mod:`.overlaps`) ->
proposals with an explanation, unmatched requests with reasons (:mod:`.explain`).

No volunteer may help outside their region, so each region is a network of its own
(smaller, and solved faster, than one big one; the sum of their optima is the optimum).
The network of one region::

    request --1, metres--> [overlap group --1-->] (volunteer, ISO week) --1 each, load tie-break--> sink
    request --1, penalty by urgency----------------------------------------------------------> sink

A (volunteer, week) node has as many unit arcs to the sink as the volunteer has tasks
left that week, so weekly capacity holds across the batch. Costs are whole metres
(great-circle km x road factor x 1000) scaled by :data:`TIE_SCALE`, so distance always
wins and the current weekly load only breaks ties (DOMAIN.md: distance first, then
continuity, then spread load). For continuity, the volunteer who helped a recurring
request's series last time counts as ``SolverConfig.continuity_m`` metres nearer. Not matching a request costs far more than any trip, more for urgent
ones, so the solver only leaves a request unmatched when it must. Each flow is first
solved with those penalties divided by :data:`PENALTY_SHRINK` (a cost-scaling solver
needs fewer rounds for smaller costs) and kept only with a certificate that it is
optimal with the real ones too (:meth:`_Network.solve`); else it is solved again.

One volunteer may not take two requests whose windows overlap, which a flow cannot say
in general. It can in part: an *overlap group* node of capacity 1 between a volunteer's
requests whose windows share a moment and their (volunteer, week) node. Each run of
overlapping windows is covered by such groups (greedily, fewest groups), so the flow is
a relaxation of the real problem and its cost a lower bound. If it gives no volunteer
two overlapping requests, it is the optimum. Otherwise the rule is solved exactly
(:mod:`.overlaps`, a MIP): the whole region when it is small -- as the service's batches
are -- and the answer is proven optimal; in a bigger region only the requests around
the clashes, the rest kept as the flow chose, so every rule holds and the
:class:`Assignment` says how far above the flow's bound it is. If the time limit comes
first, the losers of the clashes stay unmatched, and it says that too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from . import overlaps
from .candidates import BatchFacts, CandidateArcs, travel_km
from .explain import explain
from .model import Assignment, Booking, OpenRequest, Volunteer

__all__ = [
    "INDEX_FROM_PAIRS", "TIE_SCALE", "UNMATCHED_PENALTY_M", "CandidateArcs", "FlowProblem",
    "SolverConfig", "SolverFailed", "assign", "candidate_arcs", "solve_flow", "travel_km",
]

TIE_SCALE = 64  # > max_tasks_per_week (50): load can never outweigh one metre
PENALTY_SHRINK = 256  # the first try of each flow: see _Network.solve
UNMATCHED_PENALTY_M = {"low": 10_000_000, "normal": 20_000_000, "high": 40_000_000, "urgent": 80_000_000}
INDEX_FROM_PAIRS = 20_000  # below this, checking every pair is cheaper than the availability index


class SolverFailed(Exception):
    """The flow solver did not report an optimal answer; nothing may be read from it."""


@dataclass(frozen=True)
class SolverConfig:
    road_factor: float = 1.3
    # Continuity: the volunteer who helped a recurring request's series last time counts
    # as this many metres nearer (distance still decides beyond that; 0 turns it off).
    continuity_m: int = 1_000
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


WIDER, WIDER_ROUNDS = 8, 2  # rounds around requests left unmatched: each reaches this much further

# -- the flow model, on plain integers ------------------------------------------------


@dataclass(frozen=True)
class FlowProblem:
    """Requests ``0..n-1`` and capacity buckets ``0..m-1``, all costs integers.

    ``bucket_unit_costs[b][k]`` is the cost of the (k+1)-th request in bucket ``b`` and
    must not decrease with ``k`` (a convex cost, so parallel unit arcs are exact).
    """

    unmatched_costs: Sequence[int]
    arcs: Mapping[tuple[int, int], int]  # (request, bucket) -> cost
    bucket_unit_costs: Sequence[Sequence[int]]


def solve_flow(problem: FlowProblem) -> tuple[dict[int, int], int]:
    """``({request: bucket}, total cost)`` of an optimal flow; raises :class:`SolverFailed`."""
    n, m = len(problem.unmatched_costs), len(problem.bucket_unit_costs)
    arc_pairs = np.array(list(problem.arcs), dtype=np.int64).reshape(-1, 2)  # insertion order: repeatable
    unit_counts = np.array([len(c) for c in problem.bucket_unit_costs], dtype=np.int64)
    network = _Network(n_requests=n, n_middle=m)
    network.add(arc_pairs[:, 0], n + arc_pairs[:, 1],
                np.fromiter(problem.arcs.values(), dtype=np.int64, count=len(problem.arcs)))
    network.add(n + np.repeat(np.arange(m, dtype=np.int64), unit_counts), network.sink,
                np.fromiter((c for unit in problem.bucket_unit_costs for c in unit), dtype=np.int64))
    network.add_unmatched(np.asarray(problem.unmatched_costs, dtype=np.int64).reshape(-1))
    used, total = network.solve(first_arcs=len(arc_pairs))
    return dict(zip(arc_pairs[used, 0].tolist(), arc_pairs[used, 1].tolist(), strict=True)), total


class _Network:
    """Unit-capacity arcs into one SimpleMinCostFlow: requests ``0..n-1`` (supply 1 each),
    ``n_middle`` inner nodes, then the sink. Each request's last arc is its unmatched arc
    (straight to the sink, at its penalty); add those last, with :meth:`add_unmatched`."""

    def __init__(self, n_requests: int, n_middle: int):
        self.n = n_requests
        self.sink = n_requests + n_middle
        self.tails, self.heads, self.costs = [], [], []
        self.penalty = np.zeros(0, dtype=np.int64)

    def add(self, tails, heads, costs) -> None:
        tails = np.asarray(tails, dtype=np.int64).reshape(-1)
        self.tails.append(tails)
        self.heads.append(np.broadcast_to(np.asarray(heads, dtype=np.int64), tails.shape))
        self.costs.append(np.broadcast_to(np.asarray(costs, dtype=np.int64), tails.shape))

    def add_unmatched(self, penalty: np.ndarray) -> None:
        self.penalty = np.asarray(penalty, dtype=np.int64).reshape(self.n)

    def solve(self, first_arcs: int) -> tuple[np.ndarray, int]:
        """(which of the first ``first_arcs`` arcs carry flow, optimal cost); raises :class:`SolverFailed`.

        Solved first with every unmatched penalty divided by :data:`PENALTY_SHRINK`: smaller
        costs take the cost-scaling solver fewer, cheaper rounds. Certificate: if that flow
        matches every request, it is optimal with the real penalties too. (A flow is
        optimal iff its residual network has no cycle of negative cost. A simple cycle
        passes the sink at most once; it can only leave the sink backwards along an arc
        that carries flow, and no unmatched arc carries flow, so it leaves by a capacity
        unit and enters by a unit or an unmatched arc. Raising the penalties raises such
        a cycle's cost or leaves it, so none turns negative.) If it leaves requests
        unmatched, :meth:`_no_cheaper_match` checks the cycles through them. Without a
        certificate it is solved again with the real penalties.
        """
        tails, heads, costs = (np.concatenate(x) for x in (self.tails, self.heads, self.costs))
        self.arc_tails = np.concatenate((tails, np.arange(self.n, dtype=np.int64)))
        self.arc_heads = np.concatenate((heads, np.full(self.n, self.sink, dtype=np.int64)))
        self.arc_costs = np.concatenate((costs, self.penalty))
        flows, _ = self._solve(np.concatenate((costs, np.maximum(1, self.penalty // PENALTY_SHRINK))))
        unmatched = np.flatnonzero(flows[len(costs):])
        if unmatched.size and not self._no_cheaper_match(flows, unmatched):
            flows, _ = self._solve(self.arc_costs)
        self.arc_flows = flows
        return flows[:first_arcs] > 0, int(self.arc_costs @ flows)

    def _no_cheaper_match(self, flows: np.ndarray, unmatched: np.ndarray) -> bool:
        """Whether no request left unmatched could be matched for less than its real penalty.

        The rest of the certificate (see :meth:`solve`): a negative cycle, with the real
        penalties, must leave the sink back along an unmatched request ``j``'s arc (cost
        ``-P_j``) and return by a path from ``j`` to the sink. The cheapest such path
        (:meth:`_to_sink`, with the real costs) costs at least ``P_j`` for every ``j`` iff
        the flow is optimal.
        """
        to_sink = self._to_sink(flows)
        return to_sink is not None and bool((to_sink[unmatched] >= self.penalty[unmatched]).all())

    def reduced_costs(self) -> np.ndarray:
        """Per arc, what using it (or, for an arc carrying flow, giving it up) would cost more
        than the optimal flow does: ``cost + d(head) - d(tail)``, with ``d`` the cheapest
        residual path to the sink. Zero on every arc some optimal flow could use."""
        to_sink = self._to_sink(self.arc_flows)
        if to_sink is None:  # cannot happen after an optimal solve
            return np.zeros(len(self.arc_costs), dtype=np.int64)
        return self.arc_costs + to_sink[self.arc_heads] - to_sink[self.arc_tails]

    def _to_sink(self, flows: np.ndarray) -> np.ndarray | None:
        """Cheapest cost from each node to the sink in the residual network of ``flows``
        with the real costs (Bellman-Ford on arrays; paths end at the sink, so arcs out
        of it are left out), or None if a negative cycle avoids the sink."""
        t, h, c = self.arc_tails, self.arc_heads, self.arc_costs
        free = flows == 0
        u = np.concatenate((t[free], h[~free]))  # residual arcs u -> v of cost w
        v = np.concatenate((h[free], t[~free]))
        w = np.concatenate((c[free], -c[~free]))
        keep = u != self.sink
        u, v, w = u[keep], v[keep], w[keep]
        inf = np.iinfo(np.int64).max // 4
        to_sink = np.full(self.sink + 1, inf, dtype=np.int64)
        to_sink[self.sink] = 0
        for _ in range(self.sink + 1):
            reach = np.where(to_sink[v] < inf, w + to_sink[v], inf)
            better = reach < to_sink[u]
            if not better.any():
                return to_sink
            np.minimum.at(to_sink, u[better], reach[better])
        return None

    def _solve(self, costs: np.ndarray) -> tuple[np.ndarray, int]:
        mcf = min_cost_flow.SimpleMinCostFlow()
        if costs.size:
            mcf.add_arcs_with_capacity_and_unit_cost(self.arc_tails.astype(np.int32), self.arc_heads.astype(np.int32),
                                                     np.ones(costs.size, dtype=np.int64), costs)
        supplies = np.zeros(self.sink + 1, dtype=np.int64)
        supplies[:self.n] = 1
        supplies[self.sink] = -self.n
        mcf.set_nodes_supplies(np.arange(self.sink + 1, dtype=np.int32), supplies)
        status = mcf.solve()
        if status != mcf.OPTIMAL:
            raise SolverFailed(f"min-cost flow ended with status {status!r}")
        flows = np.asarray(mcf.flows(np.arange(costs.size, dtype=np.int32)), dtype=np.int64)
        return flows, int(mcf.optimal_cost())


# -- candidates ------------------------------------------------------------------------------


def candidate_arcs(requests: Sequence[OpenRequest], volunteers: Sequence[Volunteer],
                   bookings: Sequence[Booking] = (), config: SolverConfig = SolverConfig()) -> CandidateArcs:
    """The pairs :func:`assign` chooses from: those passing every rule of :data:`.rules.HARD_RULES`."""
    requests = sorted(requests, key=lambda r: r.id)
    volunteers = sorted(volunteers, key=lambda v: v.id)
    return _candidate_arcs(BatchFacts(requests, volunteers, bookings, config.road_factor), config)


def _candidate_arcs(facts: BatchFacts, config: SolverConfig) -> CandidateArcs:
    parts = []
    for reqs, vols in facts.regions():  # one region at a time: bounded memory
        r, v = facts.pairs_to_check(reqs, vols, config.index_from_pairs)
        ok, km, load = facts.passing(r, v)
        parts.append((r[ok], v[ok], facts.metres(r[ok], v[ok], km), load))
    r, v, metres, load = (np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, np.int64)
                          for i in range(4))
    order = np.lexsort((v, load, metres, r))
    r, v = r[order], v[order]
    again = facts.vol_code[v] == facts.req_previous[r]
    return CandidateArcs(list(facts.requests), list(facts.volunteers), r, v, metres[order], load[order], again)


# -- solving -----------------------------------------------------------------------------------


@dataclass
class _Solved:
    chosen: list[np.ndarray]  # arc indices carrying a request, per region
    total: int = 0
    bound: int = 0
    repaired: int = 0  # exact solves of the requests around clashes
    around: int = 0  # requests in them
    cut_short: int = 0  # regions where the time limit came before any repair
    left_unmatched: int = 0  # requests dropped then to keep volunteers free of clashes


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
    arcs = _candidate_arcs(facts, config)
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
    req, vol = arcs.request[idx], arcs.volunteer[idx]
    cost = np.maximum(0, arcs.metres[idx] - config.continuity_m * arcs.again[idx]) * TIE_SCALE
    _, first, bucket = np.unique(vol * 10**7 + facts.req_week[req], return_index=True, return_inverse=True)
    bucket = bucket.reshape(-1)
    bucket_load = arcs.load[idx][first]  # as the first request (by id) of the bucket sees it
    room = facts.vol_max_tasks[vol[first]] - bucket_load
    start, end = facts.req_start[req], facts.req_end[req]
    # with room for one, a volunteer cannot get two overlapping tasks anyway
    group = _overlap_groups(bucket, start, end, room[bucket] >= 2)
    region = _Region(req, vol, bucket, cost, start, end, bucket_load, room, penalty)
    network = _network(region, group)
    used, bound = network.solve(first_arcs=len(req))
    chosen = np.flatnonzero(used)
    clashes = _clashes(chosen, vol, start, end)
    if clashes:
        chosen, bound = _without_clashes(region, network, chosen, clashes, bound, deadline, solved, config)
    solved.chosen.append(idx[chosen])
    solved.total += _cost_of(chosen, region)
    solved.bound += bound


@dataclass(frozen=True, eq=False)
class _Region:
    """One region's candidate arcs (``req``, ``vol``, ``bucket``: a (volunteer, week), its
    ``cost``, its window's ``start`` and ``end``), each bucket's load before the batch and
    room left, and every request's unmatched ``penalty`` (indexed by request)."""

    req: np.ndarray
    vol: np.ndarray
    bucket: np.ndarray
    cost: np.ndarray
    start: np.ndarray
    end: np.ndarray
    bucket_load: np.ndarray
    room: np.ndarray
    penalty: np.ndarray


def _without_clashes(region: _Region, network: _Network, chosen: np.ndarray, clashes: list[tuple[int, int]],
                     bound: int, deadline: float, solved: _Solved, config: SolverConfig) -> tuple[np.ndarray, int]:
    """(arcs chosen, lower bound) with no volunteer's windows overlapping.

    A region of up to ``config.exact_arcs`` arcs is solved whole as a MIP
    (:func:`.overlaps.best_without_overlaps`), with half the time left: proven optimal,
    its bound is the answer's. A bigger one, or one that solve could not finish, keeps
    the flow's choice except around the clashes (:func:`_reoptimise`, seeded with the
    requests of the volunteers in a clash and those left unmatched); if that leaves
    requests unmatched the flow had matched, wider rounds around them (each
    :data:`WIDER` times the reach before, up to :data:`WIDER_ROUNDS`) try again. Every
    rule holds, and the flow's bound stays the bound. If the solver finds nothing within
    the time limit, the loser of each clash (the less urgent request, or the longer
    trip) stays unmatched, and the answer says so.
    """
    req, vol = region.req, region.vol
    matched_by_flow = np.unique(req[chosen])
    if len(req) <= config.exact_arcs:
        halfway = time.monotonic() + (deadline - time.monotonic()) / 2
        whole = _reoptimise(region, chosen, np.arange(len(req)), halfway, solved)
        if whole is not None:
            # every arc of the region was open: the MIP's bound holds for it
            return whole[0], max(bound, whole[1] + int(region.penalty[np.unique(req)].sum()))
    reduced = network.reduced_costs()[:len(req)]
    in_clash = np.unique(vol[np.array(clashes, dtype=np.int64).reshape(-1)])
    seeds = np.union1d(req[chosen][np.isin(vol[chosen], in_clash)], np.setdiff1d(req, matched_by_flow))
    reach = config.repair_reach_m * TIE_SCALE
    better = _reoptimise(region, chosen, _around(region, reduced, chosen, seeds, reach), deadline, solved)
    for _ in range(WIDER_ROUNDS if better is not None else 0):
        lost = np.setdiff1d(matched_by_flow, req[better[0]])
        reach *= WIDER
        wider = (_reoptimise(region, better[0], _around(region, reduced, better[0], lost, reach), deadline, solved)
                 if lost.size else None)
        if wider is None:
            break
        better = wider
    if better is not None:
        return better[0], bound
    losers = np.fromiter(_dearer(clashes, req, region.cost, region.penalty), dtype=np.int64)
    solved.cut_short += 1
    solved.left_unmatched += len(losers)
    return np.setdiff1d(chosen, losers), bound


def _around(region: _Region, reduced: np.ndarray, chosen: np.ndarray, seeds: np.ndarray, reach: int) -> np.ndarray:
    """Arcs to solve again around the requests ``seeds``: theirs, and those of the requests
    held by the volunteers they could move to for at most ``reach`` more than the flow's
    optimum (by the flow's reduced costs); of all those, the arcs in reach and those chosen."""
    req, vol = region.req, region.vol
    cheap = reduced <= reach
    reachable = np.unique(vol[np.isin(req, seeds) & cheap])
    movable = np.union1d(seeds, req[chosen][np.isin(vol[chosen], reachable)])
    return np.union1d(np.flatnonzero(np.isin(req, movable) & cheap), chosen[np.isin(req[chosen], movable)])


def _reoptimise(region: _Region, chosen: np.ndarray, free: np.ndarray, deadline: float,
                solved: _Solved) -> tuple[np.ndarray, int] | None:
    """(arcs chosen, the MIP's bound) after solving the arcs ``free`` exactly, the other
    chosen arcs kept; None if the solver found no answer in time."""
    req, vol = region.req, region.vol
    fixed = chosen[~np.isin(req[chosen], req[free])]
    taken = np.bincount(region.bucket[fixed], minlength=len(region.room))
    free = free[(region.room - taken)[region.bucket[free]] > 0]
    free = free[~overlaps.overlaps_any(free, fixed, vol, region.start, region.end)]
    answer = overlaps.best_without_overlaps(
        req[free], vol[free], region.bucket[free], region.cost[free], region.penalty[req[free]],
        region.start[free], region.end[free], region.bucket_load + taken, region.room - taken,
        deadline - time.monotonic())
    if answer is None:
        return None
    solved.repaired += 1
    solved.around += len(np.unique(req[free]))
    return np.sort(np.concatenate((fixed, free[answer.chosen]))), answer.bound


def _cost_of(chosen: np.ndarray, region: _Region) -> int:
    """What the network charges for these arcs (and for leaving the region's other requests)."""
    net_reqs = np.unique(region.req)
    per_bucket = np.bincount(region.bucket[chosen], minlength=len(region.bucket_load))
    load_cost = overlaps.units_cost(per_bucket, region.bucket_load)
    return int(region.cost[chosen].sum() + load_cost.sum() + region.penalty[net_reqs].sum()
               - region.penalty[region.req[chosen]].sum())


def _network(region: _Region, group: np.ndarray) -> _Network:
    """One region's network: request -> [overlap group ->] (volunteer, week) -> sink."""
    req, bucket, cost = region.req, region.bucket, region.cost
    net_reqs, r_node = np.unique(req, return_inverse=True)
    grouped = group >= 0
    group_ids, first, group_node = np.unique(group[grouped], return_index=True, return_inverse=True)
    n, n_groups, n_buckets = len(net_reqs), len(group_ids), len(region.bucket_load)
    network = _Network(n_requests=n, n_middle=n_groups + n_buckets)
    bucket_node = n + n_groups
    head = bucket_node + bucket
    head[grouped] = n + group_node.reshape(-1)
    network.add(r_node.reshape(-1), head, cost)
    network.add(n + np.arange(n_groups), bucket_node + bucket[grouped][first], 0)
    units = np.minimum(region.room, np.bincount(bucket, minlength=n_buckets))
    kth = np.arange(int(units.sum())) - np.repeat(np.cumsum(units) - units, units)
    network.add(bucket_node + np.repeat(np.arange(n_buckets), units), network.sink,
                np.repeat(region.bucket_load, units) + kth)
    network.add_unmatched(region.penalty[net_reqs])
    return network


def _overlap_groups(bucket: np.ndarray, start: np.ndarray, end: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Overlap groups of the arcs ``which``: a group number per arc, -1 for none.

    A group is a set of one (volunteer, week)'s arcs whose windows all hold one moment,
    so the volunteer takes at most one of them (a node of capacity 1 in the network).
    Per bucket, the moments are chosen greedily: the earliest end among the windows not
    grouped yet (just before it), and every ungrouped window holding that moment joins
    the group -- the fewest groups that cover the windows; all buckets a round at a
    time. Windows in different groups may still overlap: the flow is a relaxation.
    """
    key = np.full(len(bucket), -1, dtype=np.int64)
    left = np.flatnonzero(which)
    n_buckets = int(bucket.max()) + 1 if len(bucket) else 0
    rounds = 0
    while left.size:
        earliest_end = np.full(n_buckets, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(earliest_end, bucket[left], end[left])
        moment = earliest_end[bucket[left]] - 1
        joins = start[left] <= moment  # every window left ends after the moment
        key[left[joins]] = rounds * n_buckets + bucket[left[joins]]  # one moment per bucket and round
        left = left[~joins]
        rounds += 1
    _, group = np.unique(key, return_inverse=True)
    group = group.reshape(-1) - (1 if (key < 0).any() else 0)  # -1 stays "no group"
    return group


def _clashes(chosen, vol, start, end) -> list[tuple[int, int]]:
    """Pairs of chosen arcs that give one volunteer overlapping windows."""
    pos, other = overlaps.overlapping_pairs(chosen, chosen, vol, start, end)
    first = chosen[pos] < other  # each pair once
    return list(zip(chosen[pos][first].tolist(), other[first].tolist(), strict=True))


def _dearer(clashes, req, cost, penalty) -> set[int]:
    """Of each clashing pair, the arc to drop: the less urgent request's, or the longer
    trip's when equally urgent."""
    return {max(a1, a2, key=lambda a: (-penalty[req[a]], cost[a], req[a])) for a1, a2 in clashes}


# -- the answer ------------------------------------------------------------------------------


def _answer(facts: BatchFacts, arcs: CandidateArcs, chosen: np.ndarray, solved: _Solved,
            config: SolverConfig) -> Assignment:
    proposals, unmatched = explain(facts, arcs, chosen)
    optimal = solved.total == solved.bound
    return Assignment(proposals=proposals, unmatched=unmatched, total_cost=solved.total, optimal=optimal,
                      lower_bound=solved.bound, note="" if optimal else _note(solved, config))


def _note(solved: _Solved, config: SolverConfig) -> str:
    gap = solved.total - solved.bound
    text = (f"the flow gave volunteers overlapping tasks; {solved.around} request(s) around them were solved "
            f"again exactly ({solved.repaired} MIP solve(s)), the rest kept; "
            f"cost {gap} above the lower bound {solved.bound} (gap {100 * gap / max(1, solved.bound):.4f} %)")
    if solved.cut_short:
        text = (f"time limit of {config.time_limit_s} s reached before overlapping tasks were solved in "
                f"{solved.cut_short} region(s): {solved.left_unmatched} request(s) left unmatched so no "
                f"volunteer has overlapping tasks; " + text)
    return text

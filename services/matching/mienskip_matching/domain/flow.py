"""The min-cost flow: unit arcs into OR-Tools' SimpleMinCostFlow, solved, read back as arrays.

Two ways in: :func:`solve_flow` for a plain :class:`FlowProblem` (requests, capacity
buckets, integer costs), and :func:`region_network` for one region of a matching run::

    request --1, metres--> [overlap group --1-->] (volunteer, ISO week) --1 each, load tie-break--> sink
    request --1, penalty by urgency----------------------------------------------------------> sink

A (volunteer, week) node has as many unit arcs to the sink as the volunteer has tasks
left that week, the k-th costing one more than the one before (a convex cost, so
parallel unit arcs are exact). An overlap group (:func:`overlap_groups`) is a node of
capacity 1 between a volunteer's requests whose windows share a moment and their
(volunteer, week) node: the flow says part of "no two overlapping tasks", and is a
relaxation of the rest. Each network is first solved with the unmatched penalties
divided by :data:`PENALTY_SHRINK` (a cost-scaling solver needs fewer rounds for smaller
costs) and kept only with a certificate (:mod:`.proof`) that it is optimal with the real
ones too; else it is solved again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from . import overlaps, proof

PENALTY_SHRINK = 256  # the first try of each flow: see Network.solve


class SolverFailed(Exception):
    """The flow solver did not report an optimal answer; nothing may be read from it."""


# -- a flow on plain integers ------------------------------------------------------------------


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
    network = Network(n_requests=n, n_middle=m)
    network.add(arc_pairs[:, 0], n + arc_pairs[:, 1],
                np.fromiter(problem.arcs.values(), dtype=np.int64, count=len(problem.arcs)))
    network.add(n + np.repeat(np.arange(m, dtype=np.int64), unit_counts), network.sink,
                np.fromiter((c for unit in problem.bucket_unit_costs for c in unit), dtype=np.int64))
    network.add_unmatched(np.asarray(problem.unmatched_costs, dtype=np.int64).reshape(-1))
    used, total = network.solve(first_arcs=len(arc_pairs))
    return dict(zip(arc_pairs[used, 0].tolist(), arc_pairs[used, 1].tolist(), strict=True)), total


class Network:
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

        Solved first with every unmatched penalty divided by :data:`PENALTY_SHRINK`, and
        kept if that flow matches every request or :func:`.proof.no_cheaper_match` holds
        (see :mod:`.proof` for why that makes it optimal with the real penalties);
        otherwise solved again with the real penalties. Afterwards ``arc_tails``,
        ``arc_heads``, ``arc_costs`` (real) and ``arc_flows`` hold every arc.
        """
        tails, heads, costs = (np.concatenate(x) for x in (self.tails, self.heads, self.costs))
        self.arc_tails = np.concatenate((tails, np.arange(self.n, dtype=np.int64)))
        self.arc_heads = np.concatenate((heads, np.full(self.n, self.sink, dtype=np.int64)))
        self.arc_costs = np.concatenate((costs, self.penalty))
        flows, _ = self._solve(np.concatenate((costs, np.maximum(1, self.penalty // PENALTY_SHRINK))))
        unmatched = np.flatnonzero(flows[len(costs):])
        if unmatched.size and not proof.no_cheaper_match(self, flows, unmatched):
            flows, _ = self._solve(self.arc_costs)
        self.arc_flows = flows
        return flows[:first_arcs] > 0, int(self.arc_costs @ flows)

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


# -- one region's network ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Region:
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


def region_network(region: Region, group: np.ndarray) -> Network:
    """One region's network: request -> [overlap group ->] (volunteer, week) -> sink."""
    req, bucket, cost = region.req, region.bucket, region.cost
    net_reqs, r_node = np.unique(req, return_inverse=True)
    grouped = group >= 0
    group_ids, first, group_node = np.unique(group[grouped], return_index=True, return_inverse=True)
    n, n_groups, n_buckets = len(net_reqs), len(group_ids), len(region.bucket_load)
    network = Network(n_requests=n, n_middle=n_groups + n_buckets)
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


def cost_of(chosen: np.ndarray, region: Region) -> int:
    """What the network charges for these arcs (and for leaving the region's other requests)."""
    net_reqs = np.unique(region.req)
    per_bucket = np.bincount(region.bucket[chosen], minlength=len(region.bucket_load))
    load_cost = overlaps.units_cost(per_bucket, region.bucket_load)
    return int(region.cost[chosen].sum() + load_cost.sum() + region.penalty[net_reqs].sum()
               - region.penalty[region.req[chosen]].sum())


def overlap_groups(bucket: np.ndarray, start: np.ndarray, end: np.ndarray, which: np.ndarray) -> np.ndarray:
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

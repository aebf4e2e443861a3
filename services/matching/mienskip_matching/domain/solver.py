"""Who helps whom: a min-cost flow over the pairs that pass every hard rule.

data -> candidates (hard rules prune pairs) -> flow network -> solve -> status check
-> proposals with an explanation, unmatched requests with reasons.

The network, for a batch of requests::

    request --1, metres--> (volunteer, ISO week) --1 each, load tie-break--> sink
    request --1, penalty by urgency-------------------------------------> sink

A (volunteer, week) node has as many unit arcs to the sink as the volunteer has tasks
left that week, so weekly capacity holds across the batch. Costs are whole metres
(great-circle km x road factor x 1000) scaled by :data:`TIE_SCALE`, so distance always
wins and the current weekly load only breaks ties (DOMAIN.md: distance first, then
spread load). Not matching a request costs far more than any trip, more for urgent
ones, so the solver only leaves a request unmatched when it must.

Two batch requests with overlapping windows could land on one volunteer, which a flow
cannot forbid; :func:`assign` re-solves without the dearer of each clashing pair until
no clash is left (the single-request case never needs it).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from .model import (
    EARTH_RADIUS_KM,
    Assignment,
    Booking,
    OpenRequest,
    Proposal,
    Unmatched,
    Volunteer,
    great_circle_km,
)
from .rules import (
    HARD_RULES,
    REASON_ORDER,
    REASON_TEXT,
    RuleContext,
    covering_slot,
    first_failing_rule,
    load_in_week,
)

TIE_SCALE = 64  # > max_tasks_per_week (50): load can never outweigh one metre
UNMATCHED_PENALTY_M = {"low": 10_000_000, "normal": 20_000_000, "high": 40_000_000, "urgent": 80_000_000}
SPATIAL_INDEX_FROM_PAIRS = 200_000  # below this, checking every pair is cheaper than a k-d tree


class SolverFailed(Exception):
    """The flow solver did not report an optimal answer; nothing may be read from it."""


@dataclass(frozen=True)
class SolverConfig:
    road_factor: float = 1.3
    time_limit_s: float = 5.0  # bounds the clash-repair rounds; one flow solve is polynomial
    spatial_index_from_pairs: int = SPATIAL_INDEX_FROM_PAIRS


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
    sink = n + m
    arc_pairs = np.array(list(problem.arcs), dtype=np.int64).reshape(-1, 2)  # insertion order: repeatable
    unit_counts = np.array([len(c) for c in problem.bucket_unit_costs], dtype=np.int64)
    tails = np.concatenate((arc_pairs[:, 0], n + np.repeat(np.arange(m, dtype=np.int64), unit_counts),
                            np.arange(n, dtype=np.int64)))
    heads = np.concatenate((n + arc_pairs[:, 1], np.full(int(unit_counts.sum()) + n, sink, dtype=np.int64)))
    costs = np.concatenate((np.fromiter(problem.arcs.values(), dtype=np.int64, count=len(problem.arcs)),
                            np.fromiter((c for unit in problem.bucket_unit_costs for c in unit), dtype=np.int64),
                            np.asarray(problem.unmatched_costs, dtype=np.int64).reshape(-1)))
    first_bucket_arc = len(arc_pairs)

    mcf = min_cost_flow.SimpleMinCostFlow()
    if tails.size:
        mcf.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32),
                                                 np.ones(tails.size, dtype=np.int64), costs)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    mcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        raise SolverFailed(f"min-cost flow ended with status {status!r}")
    chosen: dict[int, int] = {}
    if first_bucket_arc:
        flows = mcf.flows(np.arange(first_bucket_arc, dtype=np.int32))
        for r, b in arc_pairs[np.asarray(flows) > 0].tolist():
            chosen[r] = b
    return chosen, int(mcf.optimal_cost())


# -- from domain objects to the flow and back -------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    volunteer: int  # index into the sorted volunteers
    metres: int
    load: int  # active bookings in the request's week, before this batch


def travel_km(request: OpenRequest, volunteer: Volunteer, road_factor: float) -> float:
    """Estimated travel distance: great-circle distance times a road factor."""
    return great_circle_km(volunteer.home, request.location) * road_factor


def assign(
    requests: Sequence[OpenRequest],
    volunteers: Sequence[Volunteer],
    bookings: Sequence[Booking] = (),
    config: SolverConfig = SolverConfig(),
) -> Assignment:
    """Propose at most one volunteer per request, minimising total travel, never breaking a hard rule."""
    requests = sorted(requests, key=lambda r: r.id)
    volunteers = sorted(volunteers, key=lambda v: v.id)  # same input, same answer
    booked: dict[str, list[Booking]] = defaultdict(list)
    for booking in bookings:
        booked[booking.volunteer_id].append(booking)

    candidates = _candidates(requests, volunteers, booked, config)
    deadline = time.monotonic() + config.time_limit_s  # for the solving, not for reading the input

    buckets: dict[tuple[int, tuple[int, int]], int] = {}
    bucket_load: list[int] = []
    bucket_room: list[int] = []
    arcs: dict[tuple[int, int], int] = {}
    for r, options in enumerate(candidates):
        week = requests[r].window.iso_week
        for c in options:
            key = (c.volunteer, week)
            if key not in buckets:
                buckets[key] = len(bucket_load)
                bucket_load.append(c.load)
                bucket_room.append(volunteers[c.volunteer].max_tasks_per_week - c.load)
            arcs[r, buckets[key]] = c.metres * TIE_SCALE
    demand = defaultdict(int)
    for _, b in arcs:
        demand[b] += 1
    bucket_unit_costs = [
        [bucket_load[b] + k for k in range(min(bucket_room[b], demand[b]))] for b in range(len(bucket_load))
    ]
    unmatched_costs = [UNMATCHED_PENALTY_M.get(r.urgency, UNMATCHED_PENALTY_M["normal"]) * TIE_SCALE
                       for r in requests]
    bucket_volunteer = {b: v for (v, _), b in buckets.items()}

    while True:
        chosen, total = solve_flow(FlowProblem(unmatched_costs, arcs, bucket_unit_costs))
        clashes = _clashing_arcs(chosen, requests, bucket_volunteer, arcs, unmatched_costs)
        if not clashes:
            break
        if time.monotonic() > deadline:
            raise SolverFailed(f"time limit of {config.time_limit_s}s reached while repairing clashes")
        for arc in clashes:
            del arcs[arc]

    return _answer(requests, volunteers, booked, candidates, chosen, bucket_volunteer, total, config)


def _candidates(requests: Sequence[OpenRequest], volunteers: Sequence[Volunteer],
                booked: Mapping[str, list[Booking]], config: SolverConfig) -> list[list[_Candidate]]:
    """Per request, the volunteers passing every hard rule, nearest first.

    Vectorised screens come first (region, skills, car, VOG, distance with a hair of
    tolerance: necessary conditions only); the rules themselves, on exact distances, decide.
    """
    if not volunteers:
        return [[] for _ in requests]
    lat = np.radians([v.home.lat for v in volunteers])
    lon = np.radians([v.home.lon for v in volunteers])
    reach = np.array([v.max_distance_km for v in volunteers]) * (1 + 1e-9) + 1e-9
    region_of = np.array([v.region for v in volunteers], dtype=object)
    bit = {skill: 1 << i for i, skill in enumerate(sorted({s for v in volunteers for s in v.skills}
                                                          | {s for r in requests for s in r.required_skills}))}
    skills_of = np.array([sum(bit[s] for s in v.skills) for v in volunteers], dtype=object)
    has_car = np.array([v.has_car for v in volunteers], dtype=bool)
    has_vog = np.array([v.vog_checked_on is not None for v in volunteers], dtype=bool)
    nearby = _nearby_volunteers(requests, volunteers, config)
    result = []
    for r, request in enumerate(requests):
        idx = np.asarray(nearby[r], dtype=np.int64)
        if idx.size:
            needed = sum(bit[s] for s in request.required_skills)
            keep = (region_of[idx] == request.region) & ((skills_of[idx] & needed) == needed)
            if "transport" in request.required_skills:
                keep &= has_car[idx]
            if request.needs_vog:
                keep &= has_vog[idx]
            idx = idx[keep]
        if idx.size:
            km = _haversine_km(math.radians(request.location.lat), math.radians(request.location.lon),
                               lat[idx], lon[idx]) * config.road_factor
            idx = idx[km <= reach[idx]]
        options = []
        for v in idx.tolist():
            volunteer = volunteers[v]
            km = travel_km(request, volunteer, config.road_factor)
            bookings = booked[volunteer.id]
            if first_failing_rule(request, volunteer, RuleContext(distance_km=km, bookings=bookings)) is None:
                options.append(_Candidate(v, round(km * 1000), load_in_week(bookings, request) if bookings else 0))
        options.sort(key=lambda c: (c.metres, c.load, volunteers[c.volunteer].id))
        result.append(options)
    return result


def _haversine_km(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    h = np.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def _nearby_volunteers(requests: Sequence[OpenRequest], volunteers: Sequence[Volunteer],
                       config: SolverConfig) -> list[list[int]]:
    """Per request, the volunteers that might be within reach; everyone for small inputs.

    For large batches a k-d tree on the unit sphere drops pairs farther apart than the
    longest distance any volunteer travels; those would fail a hard rule anyway.
    """
    everyone = list(range(len(volunteers)))
    if not volunteers or len(requests) * len(volunteers) < config.spatial_index_from_pairs:
        return [everyone for _ in requests]
    from scipy.spatial import cKDTree  # only needed for large batches

    def unit_vectors(points):
        lat = np.radians([p.lat for p in points])
        lon = np.radians([p.lon for p in points])
        return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))

    reach_km = max(v.max_distance_km for v in volunteers) / config.road_factor
    chord = 2 * math.sin(min(math.pi / 2, reach_km / (2 * EARTH_RADIUS_KM))) * (1 + 1e-9) + 1e-12
    tree = cKDTree(unit_vectors([v.home for v in volunteers]))
    found = tree.query_ball_point(unit_vectors([r.location for r in requests]), r=chord)
    return [sorted(indices) for indices in found]


def _clashing_arcs(chosen: dict[int, int], requests: Sequence[OpenRequest], bucket_volunteer: dict[int, int],
                   arcs: dict[tuple[int, int], int], unmatched_costs: Sequence[int]) -> set[tuple[int, int]]:
    """Of each pair of same-volunteer requests with overlapping windows, the arc to drop:
    the less urgent request's, or the longer trip's when equally urgent."""
    by_volunteer: dict[int, list[int]] = defaultdict(list)
    for r, b in chosen.items():
        by_volunteer[bucket_volunteer[b]].append(r)
    drop = set()
    for assigned in by_volunteer.values():
        for i, r1 in enumerate(assigned):
            for r2 in assigned[i + 1:]:
                if requests[r1].window.overlaps(requests[r2].window):
                    a1, a2 = (r1, chosen[r1]), (r2, chosen[r2])
                    drop.add(max(a1, a2, key=lambda a: (-unmatched_costs[a[0]], arcs[a], a[0])))
    return drop


# -- explanations ----------------------------------------------------------------------------


def _answer(requests, volunteers, booked, candidates, chosen, bucket_volunteer, total, config) -> Assignment:
    proposals, unmatched = [], []
    batch_load: dict[tuple[int, tuple[int, int]], int] = defaultdict(int)
    for r, b in chosen.items():
        batch_load[bucket_volunteer[b], requests[r].window.iso_week] += 1
    assigned_volunteer = {r: bucket_volunteer[b] for r, b in chosen.items()}
    for r, request in enumerate(requests):
        if r in assigned_volunteer:
            v = assigned_volunteer[r]
            mine = next(c for c in candidates[r] if c.volunteer == v)
            volunteer = volunteers[v]
            slot = covering_slot(volunteer, request.window)
            distance_km = round(mine.metres / 1000, 1)
            explanation = {
                "distance_km": distance_km,
                "skills_matched": sorted(request.required_skills),
                "availability": slot.label() if slot else None,
                "load_this_week": mine.load + batch_load[v, request.window.iso_week] - 1,
                "max_tasks_per_week": volunteer.max_tasks_per_week,
                "runner_up": _runner_up(request, r, mine, volunteers, booked, candidates, config),
            }
            proposals.append(Proposal(request.id, volunteer.id, distance_km, explanation))
        else:
            reasons = exclusion_counts(request, volunteers, booked, config)
            taken = len(candidates[r])  # passed every rule, but went to other requests of this batch
            if taken:
                reasons["taken"] = taken
            unmatched.append(Unmatched(request.id, reasons, summarise(reasons, len(volunteers))))
    return Assignment(proposals=proposals, unmatched=unmatched, total_cost=total)


def _runner_up(request, r, mine: _Candidate, volunteers, booked, candidates, config) -> dict | None:
    others = [c for c in candidates[r] if c.volunteer != mine.volunteer]
    if others:
        best = others[0]
        extra_km = round((best.metres - mine.metres) / 1000, 1)
        if best.metres > mine.metres:
            why = f"{extra_km:.1f} km verder / {extra_km:.1f} km further"
        elif best.metres == mine.metres and best.load > mine.load:
            why = "even ver, maar drukker deze week / as near, but busier this week"
        elif best.metres == mine.metres and best.load == mine.load:
            why = "even ver en even druk; gekozen op volgorde / as near and as busy; picked by order"
        else:
            why = " / ".join(REASON_TEXT["taken"])
        return {"volunteer_id": volunteers[best.volunteer].id, "distance_km": round(best.metres / 1000, 1),
                "why": why, "rule": None}
    # Nobody else qualified: name the nearest volunteer of the region and the rule that stopped them.
    nearest = None
    for v, volunteer in enumerate(volunteers):
        if v == mine.volunteer or volunteer.region != request.region:
            continue
        km = travel_km(request, volunteer, config.road_factor)
        reason = first_failing_rule(request, volunteer, RuleContext(km, booked[volunteer.id]))
        if reason is not None and (nearest is None or km < nearest[0]):
            nearest = (km, volunteer.id, reason)
    if nearest is None:
        return None
    km, volunteer_id, reason = nearest
    return {"volunteer_id": volunteer_id, "distance_km": round(km, 1),
            "why": " / ".join(REASON_TEXT[reason]), "rule": reason}


def exclusion_counts(request: OpenRequest, volunteers: Sequence[Volunteer], booked: Mapping[str, list[Booking]],
                     config: SolverConfig) -> dict[str, int]:
    """{rule: number of volunteers whose *first* failing rule it is}."""
    counts: dict[str, int] = defaultdict(int)
    for volunteer in volunteers:
        ctx = RuleContext(travel_km(request, volunteer, config.road_factor), booked.get(volunteer.id, ()))
        reason = first_failing_rule(request, volunteer, ctx, HARD_RULES)
        if reason is not None:
            counts[reason] += 1
    return {key: counts[key] for key in REASON_ORDER if counts.get(key)}


def summarise(reasons: Mapping[str, int], pool_size: int) -> str:
    """"3 vrijwilligers hebben de vaardigheid; 2 te ver weg, 1 geen tijd / 3 volunteers have the skill; ..."."""
    in_region = pool_size - reasons.get("region", 0)
    if in_region == 0:
        return "geen vrijwilligers in de regio / no volunteers in the region"
    skilled = in_region - reasons.get("skills", 0)
    if skilled == 0:
        nl, en = "geen vrijwilliger heeft de vaardigheid", "no volunteer has the skill"
    elif skilled == 1:
        nl, en = "1 vrijwilliger heeft de vaardigheid", "1 volunteer has the skill"
    else:
        nl, en = f"{skilled} vrijwilligers hebben de vaardigheid", f"{skilled} volunteers have the skill"
    rest = [(key, count) for key, count in reasons.items() if key not in ("region", "skills")]
    if rest:
        nl += "; " + ", ".join(f"{count} {REASON_TEXT[key][0]}" for key, count in rest)
        en += "; " + ", ".join(f"{count} {REASON_TEXT[key][1]}" for key, count in rest)
    return f"{nl} / {en}"

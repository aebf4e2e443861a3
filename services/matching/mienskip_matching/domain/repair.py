"""Clash repair: where the flow gave one volunteer overlapping tasks, solve around the clash exactly.

The flow keeps the requests it matched without a clash; the requests of the volunteers
in a clash, and those it left unmatched, are solved again as a MIP
(:func:`.overlaps.best_without_overlaps`) together with the requests they could displace
cheaply -- judged by the flow's reduced costs (:func:`.proof.reduced_costs`). Requests
that lose their volunteer that way get wider rounds around them. If the time limit comes
first, the loser of each clash (the less urgent request, or the longer trip) stays
unmatched. :class:`Repairs` counts what was done, for the answer's note.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import overlaps
from .flow import Region

WIDER, WIDER_ROUNDS = 8, 2  # rounds around requests left unmatched: each reaches this much further


@dataclass
class Repairs:
    repaired: int = 0  # exact solves of the requests around clashes
    around: int = 0  # requests in them
    cut_short: int = 0  # regions where the time limit came before any repair
    left_unmatched: int = 0  # requests dropped then to keep volunteers free of clashes


def clashes(chosen, vol, start, end) -> list[tuple[int, int]]:
    """Pairs of chosen arcs that give one volunteer overlapping windows."""
    pos, other = overlaps.overlapping_pairs(chosen, chosen, vol, start, end)
    first = chosen[pos] < other  # each pair once
    return list(zip(chosen[pos][first].tolist(), other[first].tolist(), strict=True))


def around_clashes(region: Region, reduced: np.ndarray, chosen: np.ndarray, clashing: list[tuple[int, int]],
                   reach: int, deadline: float, repairs: Repairs) -> np.ndarray:
    """The arcs chosen, with no volunteer's windows overlapping.

    Keeps the flow's choice except around the clashes (:func:`reoptimise`, seeded with
    the requests of the volunteers in a clash and those left unmatched, reaching
    ``reach`` beyond the flow's optimum by the ``reduced`` costs); if that leaves requests
    unmatched the flow had matched, wider rounds around them (each :data:`WIDER` times
    the reach before, up to :data:`WIDER_ROUNDS`) try again. If the solver finds nothing
    within the time limit, the loser of each clash stays unmatched.
    """
    req, vol = region.req, region.vol
    matched_by_flow = np.unique(req[chosen])
    in_clash = np.unique(vol[np.array(clashing, dtype=np.int64).reshape(-1)])
    seeds = np.union1d(req[chosen][np.isin(vol[chosen], in_clash)], np.setdiff1d(req, matched_by_flow))
    better = reoptimise(region, chosen, _around(region, reduced, chosen, seeds, reach), deadline, repairs)
    for _ in range(WIDER_ROUNDS if better is not None else 0):
        lost = np.setdiff1d(matched_by_flow, req[better[0]])
        reach *= WIDER
        wider = (reoptimise(region, better[0], _around(region, reduced, better[0], lost, reach), deadline, repairs)
                 if lost.size else None)
        if wider is None:
            break
        better = wider
    if better is not None:
        return better[0]
    losers = np.fromiter(_dearer(clashing, req, region.cost, region.penalty), dtype=np.int64)
    repairs.cut_short += 1
    repairs.left_unmatched += len(losers)
    return np.setdiff1d(chosen, losers)


def reoptimise(region: Region, chosen: np.ndarray, free: np.ndarray, deadline: float,
               repairs: Repairs) -> tuple[np.ndarray, int] | None:
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
    repairs.repaired += 1
    repairs.around += len(np.unique(req[free]))
    return np.sort(np.concatenate((fixed, free[answer.chosen]))), answer.bound


def _around(region: Region, reduced: np.ndarray, chosen: np.ndarray, seeds: np.ndarray, reach: int) -> np.ndarray:
    """Arcs to solve again around the requests ``seeds``: theirs, and those of the requests
    held by the volunteers they could move to for at most ``reach`` more than the flow's
    optimum (by the flow's reduced costs); of all those, the arcs in reach and those chosen."""
    req, vol = region.req, region.vol
    cheap = reduced <= reach
    reachable = np.unique(vol[np.isin(req, seeds) & cheap])
    movable = np.union1d(seeds, req[chosen][np.isin(vol[chosen], reachable)])
    return np.union1d(np.flatnonzero(np.isin(req, movable) & cheap), chosen[np.isin(req[chosen], movable)])


def _dearer(clashing, req, cost, penalty) -> set[int]:
    """Of each clashing pair, the arc to drop: the less urgent request's, or the longer
    trip's when equally urgent."""
    return {max(a1, a2, key=lambda a: (-penalty[req[a]], cost[a], req[a])) for a1, a2 in clashing}

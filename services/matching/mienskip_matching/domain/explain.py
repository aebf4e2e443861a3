"""Why: every proposal's explanation and every unmatched request's reasons.

For a proposal: distance, skills, the weekly slot that holds the window, the volunteer's
load this week (this batch included), continuity for a recurring request, and the
runner-up with why it lost (``{"code": "further", "km": 1.3}``) -- or, when nobody else
qualified, the nearest other volunteer and the rule that stopped them. For an unmatched
request: how many volunteers each rule excluded (the first rule each one breaks, as
:func:`.rules.first_failing_rule` says) out of how many were considered.

Reasons are codes with parameters (the contract's ``Reason``); intake and notify put them
into words, in their reader's language.

What every proposal needs is read off arrays at once; only the dicts are built one by one.
:func:`exclusion_counts` is the pair-by-pair reference the array version is tested against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from .candidates import PAIRS_PER_CHUNK, RULE_KEYS, BatchFacts, CandidateArcs, travel_km
from .model import DAYS, Booking, OpenRequest, Proposal, Unmatched, Volunteer, WeeklySlot
from .rules import HARD_RULES, REASON_ORDER, RuleContext, first_failing_rule

__all__ = ["exclusion_counts", "explain", "runner_up_cause"]


def explain(facts: BatchFacts, arcs: CandidateArcs, chosen: np.ndarray, continuity_m: int,
            continuity_first: bool = False) -> tuple[list[Proposal], list[Unmatched]]:
    """Proposals for the ``chosen`` arcs with their explanations, and every other request
    unmatched with its reasons, both in request order.

    What every proposal needs is read off arrays at once (its week's load with this
    batch, its runner-up arc, its weekly slot); only the dicts are built one by one.
    """
    requests, volunteers = facts.requests, facts.volunteers
    starts = arcs.starts()
    region_volunteers = {int(facts.req_region[reqs[0]]): vols for reqs, vols in facts.regions()}
    booked: dict[str, list[Booking]] = defaultdict(list)

    r_of, v_of = arcs.request[chosen], arcs.volunteer[chosen]  # chosen is in request order
    _, in_bucket, per_bucket = np.unique(v_of * 10**7 + facts.req_week[r_of], return_inverse=True,
                                         return_counts=True)
    load_now = arcs.load[chosen] + per_bucket[in_bucket.reshape(-1)] - 1  # this batch's tasks included
    first, past = starts[r_of], starts[r_of + 1]
    runner = np.where(first != chosen, first, first + 1)  # the best other candidate: arcs are sorted
    runner = np.where(runner < past, runner, -1)
    slots = _slot_labels(facts, r_of, v_of)
    rows = zip(r_of.tolist(), v_of.tolist(), chosen.tolist(), runner.tolist(), load_now.tolist(), slots,
               strict=True)

    proposals = []
    for r, v, a, b, load, slot in rows:
        request, volunteer = requests[r], volunteers[v]
        distance_km = round(int(arcs.metres[a]) / 1000, 1)
        explanation = {
            "distance_km": distance_km,
            "skills_matched": sorted(request.required_skills),
            "availability": slot,
            "load_this_week": load,
            "max_tasks_per_week": volunteer.max_tasks_per_week,
            "runner_up": (_next_best(arcs, a, b, continuity_m, continuity_first) if b >= 0
                          else _nearest_excluded(facts, r, v, region_volunteers, booked)),
        }
        if request.previous_volunteer:
            explanation["continuity"] = bool(arcs.again[a])  # the same volunteer as last time
        proposals.append(Proposal(request.id, volunteer.id, distance_km, explanation))

    unmatched_idx = np.setdiff1d(np.arange(len(requests)), r_of)
    reasons = _exclusion_counts(facts, unmatched_idx, region_volunteers)
    unmatched = []
    for r in unmatched_idx.tolist():
        counts = reasons[r]
        taken = int(starts[r + 1] - starts[r])  # passed every rule, but went to other requests of this batch
        if taken:
            counts["taken"] = taken
        unmatched.append(Unmatched(requests[r].id, counts, considered=len(volunteers)))
    return proposals, unmatched


def _slot_labels(facts: BatchFacts, r: np.ndarray, v: np.ndarray) -> list[str | None]:
    """Per pair, the merged weekly slot holding the window, as :func:`.rules.covering_slot`
    labels it ("tue 09:00-12:00"); None for a window past midnight."""
    day = np.maximum(facts.req_day[r], 0)
    slot_from, slot_to = facts.slot_from[v, day], facts.slot_to[v, day]
    holds = (slot_from <= facts.req_from[r, None]) & (facts.req_to[r, None] <= slot_to)
    k = holds.argmax(axis=1)
    found = holds.any(axis=1) & (facts.req_day[r] >= 0)
    rows = np.arange(len(r))
    return [WeeklySlot(DAYS[d], lo, hi).label() if ok else None
            for d, lo, hi, ok in zip(day.tolist(), slot_from[rows, k].tolist(), slot_to[rows, k].tolist(),
                                     found.tolist(), strict=True)]


def _next_best(arcs: CandidateArcs, mine: int, best: int, continuity_m: int, continuity_first: bool) -> dict:
    reason = runner_up_cause(
        chosen_m=int(arcs.metres[mine]), chosen_again=bool(arcs.again[mine]), chosen_load=int(arcs.load[mine]),
        other_m=int(arcs.metres[best]), other_again=bool(arcs.again[best]), other_load=int(arcs.load[best]),
        continuity_m=continuity_m, continuity_first=continuity_first)
    return {"volunteer_id": arcs.volunteers[int(arcs.volunteer[best])].id,
            "distance_km": round(int(arcs.metres[best]) / 1000, 1), "reason": reason, "rule": None}


def runner_up_cause(*, chosen_m: int, chosen_again: bool, chosen_load: int, other_m: int, other_again: bool,
                    other_load: int, continuity_m: int, continuity_first: bool = False) -> dict:
    """Why a volunteer who passed every rule lost to the chosen one, one code per cause.

    With ``continuity_first`` the solver puts whoever helped the series last time first,
    whatever the distance, then compares trips; else it compares trips with the
    continuity allowance taken off (last time's volunteer counts as ``continuity_m``
    nearer). Then the week's load. A runner-up that was no worse on those terms was not
    beaten at all: another request of the same batch needed them ("taken"), whatever the
    raw distances say.
    """
    extra_km = round((other_m - chosen_m) / 1000, 1)
    if continuity_first and chosen_again != other_again:
        if other_again:
            return {"code": "taken"}  # last time's volunteer comes first unless another request needed them
        return {"code": "continuity"} if other_m <= chosen_m else {"code": "further", "km": extra_km}
    if continuity_first:
        chosen_cost, other_cost = chosen_m, other_m
    else:
        chosen_cost = max(0, chosen_m - continuity_m * chosen_again)
        other_cost = max(0, other_m - continuity_m * other_again)
    if other_cost > chosen_cost:
        if other_m <= chosen_m:  # nearer in metres: the allowance for last time's volunteer decided
            return {"code": "continuity"}
        if other_again:
            return {"code": "further_than_continuity", "km": extra_km}
        return {"code": "further", "km": extra_km}
    if other_cost == chosen_cost and other_load > chosen_load:
        return {"code": "busier"}
    if other_cost == chosen_cost and other_load == chosen_load:
        return {"code": "order"}
    return {"code": "taken"}  # they would have cost less: another request needed them


def _nearest_excluded(facts: BatchFacts, r: int, mine: int, region_volunteers: Mapping[int, np.ndarray],
                      booked: dict[str, list[Booking]]) -> dict | None:
    """Nobody else qualified: the nearest other volunteer of the region and the rule that stopped them."""
    vols = region_volunteers.get(int(facts.req_region[r]), np.zeros(0, np.int64))
    vols = vols[vols != mine]
    if not vols.size:
        return None
    km = facts.travel_km(np.full(len(vols), r), vols)
    near = vols[km <= np.nanmin(km) * (1 + 1e-9) + 1e-12] if not np.isnan(km).all() else vols
    request = facts.requests[r]
    exact = [(travel_km(request, facts.volunteers[v], facts.road_factor), v) for v in near.tolist()]
    km_best, v_best = min(exact)  # nearest; the first by id when equally near
    volunteer = facts.volunteers[v_best]
    if not booked:
        for b in facts.bookings:
            booked[b.volunteer_id].append(b)
    reason = first_failing_rule(request, volunteer, RuleContext(km_best, booked.get(volunteer.id, [])))
    if reason is None:  # cannot happen: only one volunteer qualified
        return None
    return {"volunteer_id": volunteer.id, "distance_km": round(km_best, 1), "reason": {"code": reason},
            "rule": reason}


def _exclusion_counts(facts: BatchFacts, reqs: np.ndarray,
                      region_volunteers: Mapping[int, np.ndarray]) -> dict[int, dict[str, int]]:
    """:func:`exclusion_counts` for many requests at once, on arrays."""
    out: dict[int, dict[str, int]] = {}
    n_rules = len(RULE_KEYS) + 1
    total = len(facts.volunteers)
    for code in np.unique(facts.req_region[reqs]):
        rows = reqs[facts.req_region[reqs] == code]
        vols = region_volunteers.get(int(code), np.zeros(0, np.int64))
        counts = np.zeros((len(rows), n_rules), dtype=np.int64)
        counts[:, 1] = total - len(vols)  # every volunteer of another region
        per_chunk = max(1, PAIRS_PER_CHUNK // max(1, len(vols)))
        for lo in range(0, len(rows) if len(vols) else 0, per_chunk):
            chunk = rows[lo:lo + per_chunk]
            codes = facts.first_failing_rules(np.repeat(chunk, len(vols)), np.tile(vols, len(chunk))).codes
            local = np.repeat(np.arange(len(chunk)), len(vols))
            counts[lo:lo + len(chunk)] += np.bincount(local * n_rules + codes,
                                                      minlength=len(chunk) * n_rules).reshape(-1, n_rules)
        for row, r in enumerate(rows.tolist()):
            found = dict(zip(RULE_KEYS, counts[row, 1:].tolist(), strict=True))
            out[r] = {key: found[key] for key in REASON_ORDER if found.get(key)}
    return out


def exclusion_counts(request: OpenRequest, volunteers: Sequence[Volunteer], booked: Mapping[str, list[Booking]],
                     road_factor: float) -> dict[str, int]:
    """{rule: number of volunteers whose *first* failing rule it is}, pair by pair (the reference)."""
    counts: dict[str, int] = defaultdict(int)
    for volunteer in volunteers:
        ctx = RuleContext(travel_km(request, volunteer, road_factor), booked.get(volunteer.id, ()))
        reason = first_failing_rule(request, volunteer, ctx, HARD_RULES)
        if reason is not None:
            counts[reason] += 1
    return {key: counts[key] for key in REASON_ORDER if counts.get(key)}

"""Which (request, volunteer) pairs may go together: the hard rules of :mod:`.rules` on whole batches.

:mod:`.rules` says what each rule means, one pair at a time; that stays the reference and
explains single answers. Checking 2,000 requests against 1,600 volunteers that way takes
seconds, so here the same rules run on numpy arrays, in the same order:

* :class:`.facts.BatchFacts` holds one run's requests and volunteers as arrays, built once;
* :func:`pairs_to_check` lists, per region, the pairs in which the volunteer has the
  request's category as a skill and one of their merged weekly slots holds the window's
  local start and end -- an index on (category, weekday, start minute), so it never
  drops a pair the availability rule allows; small inputs simply list every pair with
  the skill. Availability, not distance, is what rules most pairs out (a volunteer is
  free a few hours on a few days; most live within reach of most of a region);
* :meth:`.facts.BatchFacts.first_failing_rules` gives each pair the number of the first
  rule it breaks (0: none), exactly as :func:`.rules.first_failing_rule` would, plus the
  travel distance and the week's load where the rules (:mod:`.array_rules`) computed them;
* :func:`arcs_passing_every_rule` turns the pairs that pass into :class:`CandidateArcs`,
  what the solver chooses from.

numpy's sin and cos may differ from the math module's in the last bit. Where that could
change an answer -- a distance within 1e-9 of a volunteer's limit, metres within 1e-6 of
a rounding tie -- the pair is measured again with :func:`travel_km`, so the answers are
the pair-by-pair ones exactly. Tests hold the two in step on random instances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .array_rules import ARRAY_RULES, CHEAPEST_FIRST, RECHECK_KM, RULE_KEYS, Checked
from .facts import NO_SLOT, RECHECK_METRES, BatchFacts, travel_km, week_key
from .model import EPOCH, MICROSECOND, MINUTES_PER_DAY, OpenRequest, Volunteer, micros

__all__ = [  # the names callers import from here, wherever they live
    "ARRAY_RULES", "CHEAPEST_FIRST", "EPOCH", "MICROSECOND", "NO_SLOT", "PAIRS_PER_CHUNK", "RECHECK_KM",
    "RECHECK_METRES", "RULE_KEYS", "BatchFacts", "CandidateArcs", "Checked", "arcs_passing_every_rule",
    "micros", "pairs_to_check", "travel_km", "week_key",
]

PAIRS_PER_CHUNK = 1_000_000  # bounds the memory of dense checks


@dataclass(frozen=True, eq=False)
class CandidateArcs:
    """Every (request, volunteer) pair that passes every hard rule, as arrays sorted by
    (request, metres, load, volunteer); indices point into ``requests``/``volunteers``
    (both sorted by id)."""

    requests: list[OpenRequest]
    volunteers: list[Volunteer]
    request: np.ndarray
    volunteer: np.ndarray
    metres: np.ndarray
    load: np.ndarray  # active bookings in the request's week, before this batch
    again: np.ndarray  # the volunteer helped this request's series last time (continuity)

    def __len__(self) -> int:
        return len(self.request)

    def starts(self) -> np.ndarray:
        """``starts()[r]:starts()[r + 1]`` are the arcs of request ``r``."""
        return np.searchsorted(self.request, np.arange(len(self.requests) + 1))


def arcs_passing_every_rule(facts: BatchFacts, index_from_pairs: int) -> CandidateArcs:
    """The pairs passing every rule of :data:`.rules.HARD_RULES`, as :class:`CandidateArcs`."""
    parts = []
    for reqs, vols in facts.regions():  # one region at a time: bounded memory
        r, v = pairs_to_check(facts, reqs, vols, index_from_pairs)
        ok, km, load = facts.passing(r, v)
        parts.append((r[ok], v[ok], facts.metres(r[ok], v[ok], km), load))
    r, v, metres, load = (np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, np.int64)
                          for i in range(4))
    order = np.lexsort((v, load, metres, r))
    r, v = r[order], v[order]
    again = facts.vol_code[v] == facts.req_previous[r]
    return CandidateArcs(list(facts.requests), list(facts.volunteers), r, v, metres[order], load[order], again)


def pairs_to_check(facts: BatchFacts, reqs: np.ndarray, vols: np.ndarray,
                   index_from_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Of these requests and volunteers, the pairs where the volunteer has the request's
    category and a merged weekly slot that might hold the window.

    Every pair that passes all hard rules is among them: category is a required skill,
    and the availability rule asks for a merged slot ``a-b`` on the window's local
    weekday with ``a <= from`` and ``to <= b``; for a window that ends after it
    starts in local minutes too, ``a <= from < b``, which the index looks up. A
    window that does not (the night summer time ends) is paired with every volunteer
    with the skill. Blocks smaller than ``index_from_pairs`` pairs are listed in full.
    """
    if reqs.size * vols.size < index_from_pairs:
        return _skilled_pairs(facts, reqs, vols)
    day, start, end = facts.req_day[reqs], facts.req_from[reqs], facts.req_to[reqs]
    odd = (day >= 0) & (end <= start)
    r_odd, v_odd = _skilled_pairs(facts, reqs[odd], vols)
    reqs = reqs[(day >= 0) & ~odd]
    cats = np.unique(facts.req_category[reqs])
    span = MINUTES_PER_DAY + 1
    key = (facts.req_category[reqs] * 7 + facts.req_day[reqs]) * span + facts.req_from[reqs]
    order = np.argsort(key, kind="stable")
    reqs, key = reqs[order], key[order]
    # (volunteer, day, slot) rows of the merged slots, then one row per category they have.
    v_idx, d_idx, k_idx = np.nonzero(facts.slot_from[vols] <= facts.slot_to[vols])
    slot_vol = vols[v_idx]
    slot_from, slot_to = facts.slot_from[slot_vol, d_idx, k_idx], facts.slot_to[slot_vol, d_idx, k_idx]
    rs, vs = [r_odd], [v_odd]
    for category in cats.tolist():
        word, bit = divmod(category, 64)
        has = ((facts.vol_skills[slot_vol, word] >> np.uint64(bit)) & np.uint64(1)) == 1
        base = (category * 7 + d_idx[has]) * span
        lo = np.searchsorted(key, base + slot_from[has], side="left")
        hi = np.searchsorted(key, base + slot_to[has], side="left")
        count = hi - lo
        row = np.repeat(np.arange(count.size), count)
        r = reqs[np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))]
        fits = facts.req_to[r] <= slot_to[has][row]
        rs.append(r[fits])
        vs.append(slot_vol[has][row[fits]])
    return np.concatenate(rs), np.concatenate(vs)


def _skilled_pairs(facts: BatchFacts, reqs: np.ndarray, vols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of these in which the volunteer has the request's category."""
    rs, vs = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for category in np.unique(facts.req_category[reqs]).tolist():
        cat_reqs = reqs[facts.req_category[reqs] == category]
        word, bit = divmod(category, 64)
        cat_vols = vols[((facts.vol_skills[vols, word] >> np.uint64(bit)) & np.uint64(1)) == 1]
        rs.append(np.repeat(cat_reqs, cat_vols.size))
        vs.append(np.tile(cat_vols, cat_reqs.size))
    return np.concatenate(rs), np.concatenate(vs)

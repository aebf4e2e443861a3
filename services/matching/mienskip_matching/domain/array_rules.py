"""The hard rules on arrays: each rule of :data:`.rules.HARD_RULES` has its twin here.

A twin takes the batch's facts and arrays of pairs ``r``, ``v`` (request and volunteer
indices) and says, per pair, whether the rule fails -- exactly when the rule itself
would. Twins that compute a pair's travel km or its week's load write them into the
:class:`Checked` they are given (at positions ``at``). :meth:`.facts.BatchFacts.first_failing_rules`
runs them in :data:`ARRAY_RULES` order (the first rule broken: explanations);
:meth:`.facts.BatchFacts.passing` in :data:`CHEAPEST_FIRST` order (only whether all pass: the solver).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import rules

if TYPE_CHECKING:
    from .facts import BatchFacts

RECHECK_KM = 1e-9  # relative: numpy vs math differ by ~1e-15


@dataclass
class Checked:
    """Per pair: first failing rule (0 = passes all), travel km and week load where computed."""

    codes: np.ndarray
    km: np.ndarray
    load: np.ndarray


def _fails_region(f: BatchFacts, r, v, checked, at):
    return f.req_region[r] != f.vol_region[v]


def _fails_active(f: BatchFacts, r, v, checked, at):
    return ~f.vol_active[v]


def _fails_skills(f: BatchFacts, r, v, checked, at):
    need = f.req_skills[r]
    return ((f.vol_skills[v] & need) != need).any(axis=1)


def _fails_transport(f: BatchFacts, r, v, checked, at):
    return f.req_needs_car[r] & ~f.vol_has_car[v]


def _fails_vog(f: BatchFacts, r, v, checked, at):
    return f.req_needs_vog[r] & ~(f.req_first_day[r] <= f.vol_vog_until[v])


def _fails_language(f: BatchFacts, r, v, checked, at):
    return f.req_needs_language[r] & ((f.vol_languages[v] & f.req_language[r]) == 0).all(axis=1)


def _fails_distance(f: BatchFacts, r, v, checked, at):
    km = f.travel_km(r, v)
    limit = f.vol_max_km[v]
    close = np.flatnonzero(np.abs(km - limit) <= RECHECK_KM * np.maximum(1.0, np.abs(limit)))
    if close.size:
        km[close] = f.exact_km(r[close], v[close])
    checked.km[at] = km
    return ~(km <= limit)


def _fails_availability(f: BatchFacts, r, v, checked, at):
    day = f.req_day[r]
    slots_from = f.slot_from[v, np.maximum(day, 0)]
    slots_to = f.slot_to[v, np.maximum(day, 0)]
    covered = ((slots_from <= f.req_from[r, None]) & (f.req_to[r, None] <= slots_to)).any(axis=1)
    return ~(covered & (day >= 0))


def _fails_away(f: BatchFacts, r, v, checked, at):
    pos, k = f.away_of(v)
    rp = r[pos]
    covered = (f.away_from[k] <= f.req_last_day[rp]) & (f.req_first_day[rp] <= f.away_to[k])
    return np.bincount(pos, weights=covered, minlength=len(v)) > 0


def _fails_capacity(f: BatchFacts, r, v, checked, at):
    load = _load(f, r, v, reserved_too=False)
    checked.load[at] = load
    return ~(load < f.vol_max_tasks[v])


def _fails_overlap(f: BatchFacts, r, v, checked, at):
    pos, b = f.bookings_of(v)
    return np.bincount(pos, weights=_clashes(f, r[pos], b) & ~f.book_reserved[b], minlength=len(v)) > 0


def _fails_reserved(f: BatchFacts, r, v, checked, at):
    """Reservations count in the week's load (written to ``checked`` over the capacity
    rule's: what the solver plans with) and hold their time."""
    if not f.book_reserved.any():
        return np.zeros(len(r), dtype=bool)
    load = _load(f, r, v, reserved_too=True)
    checked.load[at] = load
    pos, b = f.bookings_of(v)
    clash = np.bincount(pos, weights=_clashes(f, r[pos], b) & f.book_reserved[b], minlength=len(v)) > 0
    return ~(load < f.vol_max_tasks[v]) | clash


def _load(f: BatchFacts, r, v, *, reserved_too: bool) -> np.ndarray:
    """Per pair, the volunteer's bookings in the request's week (the request's own aside)."""
    pos, b = f.bookings_of(v)
    counts = (f.book_request[b] != f.req_code[r[pos]]) & (f.book_week[b] == f.req_week[r[pos]])
    if not reserved_too:
        counts &= ~f.book_reserved[b]
    return np.bincount(pos, weights=counts, minlength=len(v)).astype(np.int64)


def _clashes(f: BatchFacts, rp, b) -> np.ndarray:
    """Per (request, booking) row: the booking overlaps the request's window."""
    return (f.book_request[b] != f.req_code[rp]) & (f.book_start[b] < f.req_end[rp]) & (f.req_start[rp] < f.book_end[b])


def _fails_excluded(f: BatchFacts, r, v, checked, at):
    if not f.excluded.size:
        return np.zeros(len(r), dtype=bool)
    return np.isin(r * f.n_vol_codes + f.vol_code[v], f.excluded)


# (reason key, the rule, its array twin), in the order of rules.HARD_RULES.
ARRAY_RULES = (
    ("region", rules.in_region, _fails_region),
    ("skills", rules.has_required_skills, _fails_skills),
    ("inactive", rules.is_active, _fails_active),
    ("transport", rules.has_car_for_transport, _fails_transport),
    ("vog", rules.has_vog_when_needed, _fails_vog),
    ("language", rules.speaks_language_when_needed, _fails_language),
    ("distance", rules.within_max_distance, _fails_distance),
    ("availability", rules.available_for_window, _fails_availability),
    ("away", rules.not_away, _fails_away),
    ("capacity", rules.has_capacity_left, _fails_capacity),
    ("overlap", rules.has_no_overlapping_task, _fails_overlap),
    ("reserved_for_series", rules.not_reserved_for_series, _fails_reserved),
    ("excluded", rules.not_excluded_before, _fails_excluded),
)
if tuple(rule for _, rule, _ in ARRAY_RULES) != rules.HARD_RULES:  # a new rule needs its twin here
    raise ImportError("array_rules.ARRAY_RULES is out of step with rules.HARD_RULES")
RULE_KEYS = tuple(key for key, _, _ in ARRAY_RULES)  # code c -> RULE_KEYS[c - 1]
CHEAPEST_FIRST = (_fails_skills, _fails_active, _fails_transport, _fails_vog, _fails_language, _fails_region,
                  _fails_availability, _fails_away, _fails_distance, _fails_excluded, _fails_capacity, _fails_overlap,
                  _fails_reserved)
if set(CHEAPEST_FIRST) != {fails for _, _, fails in ARRAY_RULES}:
    raise ImportError("array_rules.CHEAPEST_FIRST must hold every rule")

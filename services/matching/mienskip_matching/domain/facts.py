"""One solver run's requests and volunteers as numpy arrays, and the questions asked of them.

:class:`BatchFacts` reads the objects once (Python per object is the cost at these
sizes; equal sets and windows are coded once each) into arrays indexed like the sorted
requests and volunteers: region, skill and language bit masks, places on the unit
sphere, windows as local weekday and minutes and as exact instants, merged weekly slots,
bookings grouped by volunteer, exclusions. It answers which requests and volunteers
each region holds, how far apart a pair is (:meth:`BatchFacts.travel_km`, re-measured
exactly near a limit or a rounding tie), and which hard rule a pair breaks first (the
rules' array twins are in :mod:`.array_rules`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np

from mienskip_shared import geo

from .array_rules import ARRAY_RULES, CHEAPEST_FIRST, Checked
from .model import (
    DAYS,
    MINUTES_PER_DAY,
    Booking,
    OpenRequest,
    Volunteer,
    Window,
    great_circle_km,
)

NO_SLOT = (32767, -1)  # (start, end) of a padding slot: covers nothing
RECHECK_METRES = 1e-6  # distance to a .5 rounding tie, in metres


def travel_km(request: OpenRequest, volunteer: Volunteer, road_factor: float) -> float:
    """Estimated travel distance: great-circle distance times a road factor."""
    return great_circle_km(volunteer.home, request.location) * road_factor


def week_key(window: Window) -> int:
    return window.week_and_instants[0]


class BatchFacts:
    """One solver run's requests and volunteers as arrays; index ``i`` is ``requests[i]``
    (``volunteers[j]``), both sorted by id. Built once, read by every check."""

    def __init__(self, requests: Sequence[OpenRequest], volunteers: Sequence[Volunteer],
                 bookings: Iterable[Booking], road_factor: float):
        self.requests, self.volunteers, self.road_factor = requests, volunteers, road_factor
        self.bookings = list(bookings)
        n, m = len(requests), len(volunteers)
        # One pass over the objects each (they are many: Python per object is the cost here);
        # equal sets and windows are common, so their codes are worked out once each.

        # Codes for strings that rules compare: region, volunteer id, request id.
        region_code: dict[str, int] = {}
        self.vol_region = _ints([region_code.setdefault(v.region, len(region_code)) for v in volunteers], m)
        self.req_region = _ints([region_code.setdefault(r.region, len(region_code)) for r in requests], n)
        vol_code: dict[str, int] = {}
        self.vol_code = _ints([vol_code.setdefault(v.id, len(vol_code)) for v in volunteers], m)
        self.n_vol_codes = len(vol_code)
        req_code: dict[str, int] = {}
        self.req_code = _ints([req_code.setdefault(r.id, len(req_code)) for r in requests], n)

        # Skills (category included) and the languages requests ask for, as bit masks.
        required = [r.skills | {r.category} if r.category not in r.skills else r.skills for r in requests]
        skill_bit = {s: i for i, s in enumerate(sorted(set().union(*(v.skills for v in volunteers), *required)))}
        self.req_skills = _bitmasks(required, skill_bit, n)
        self.vol_skills = _bitmasks([v.skills for v in volunteers], skill_bit, m)
        self.req_category = _ints([skill_bit[r.category] for r in requests], n)
        self.req_needs_car = np.array(["transport" in s for s in required], dtype=bool).reshape(n)
        self.vol_has_car = np.array([v.has_car for v in volunteers], dtype=bool).reshape(m)
        self.req_needs_vog = np.array([r.needs_vog for r in requests], dtype=bool).reshape(n)
        # The last day each VOG counts, as a day number (-1: none), against the window's first local day.
        self.vol_vog_until = _ints([v.vog_valid_until.toordinal() if v.vog_valid_until else -1 for v in volunteers], m)
        self.vol_active = np.array([v.active for v in volunteers], dtype=bool).reshape(m)
        lang_bit = {code: i for i, code in enumerate(sorted({r.needs_language for r in requests
                                                              if r.needs_language is not None}))}
        self.req_needs_language = np.array([r.needs_language is not None for r in requests], dtype=bool).reshape(n)
        self.req_language = _bitmasks([(r.needs_language,) if r.needs_language is not None else ()
                                       for r in requests], lang_bit, n)
        self.vol_languages = _bitmasks([v.languages for v in volunteers], lang_bit, m)

        # Places and reach.
        self.req_lat, self.req_lon = _radians([r.location for r in requests])
        self.vol_lat, self.vol_lon = _radians([v.home for v in volunteers])
        self.req_xyz = _unit_vectors(self.req_lat, self.req_lon)
        self.vol_xyz = _unit_vectors(self.vol_lat, self.vol_lon)
        self.vol_max_km = np.array([v.max_distance_km for v in volunteers], dtype=np.float64).reshape(m)

        # Time: the local day and minutes of each window, its ISO week, its exact instants.
        seen: dict[tuple[datetime, datetime], tuple[int, int, int, int, int, int]] = {}
        times = np.array([seen[key] if key in seen else seen.setdefault(key, _window_facts(w))
                          for w in (r.window for r in requests) for key in ((w.start, w.end),)],
                         dtype=np.int64).reshape(n, 8)
        (self.req_day, self.req_from, self.req_to, self.req_week, self.req_start, self.req_end,
         self.req_first_day, self.req_last_day) = times.T.copy()
        self.vol_max_tasks = _ints([v.max_tasks_per_week for v in volunteers], m)
        self.slot_from, self.slot_to = _weekly_slots(volunteers)

        # Bookings, grouped by volunteer id code (CSR): week, instants, request id code.
        codes = np.array([vol_code.get(b.volunteer_id, -1) for b in self.bookings], dtype=np.int64).reshape(-1)
        order = np.flatnonzero(codes >= 0)  # bookings of volunteers in this run, by code, else as given
        order = order[np.argsort(codes[order], kind="stable")]
        mine = [self.bookings[i] for i in order]
        self.book_ptr = np.searchsorted(codes[order], np.arange(self.n_vol_codes + 1))
        self.book_week, self.book_start, self.book_end = np.array(
            [b.window.week_and_instants for b in mine], dtype=np.int64).reshape(len(mine), 3).T.copy()
        self.book_request = np.array([req_code.get(b.request_id, -1) for b in mine], dtype=np.int64)
        self.book_reserved = np.array([b.reserved for b in mine], dtype=bool)

        # Away periods, grouped by volunteer (CSR over volunteer index): first and last day numbers.
        self.away_ptr = np.cumsum([0, *(len(v.away) for v in volunteers)], dtype=np.int64)
        self.away_from = np.array([p.start.toordinal() for v in volunteers for p in v.away], dtype=np.int64)
        self.away_to = np.array([p.end.toordinal() for v in volunteers for p in v.away], dtype=np.int64)

        # The volunteer who helped last time (continuity), or -1.
        self.req_previous = _ints([vol_code.get(r.previous_volunteer, -1) if r.previous_volunteer else -1
                                   for r in requests], n)

        # Volunteers each request excluded before, as sorted pair keys.
        self.excluded = np.unique(np.array(
            [i * self.n_vol_codes + vol_code[vid] for i, r in enumerate(requests)
             for vid in r.excluded_volunteers if vid in vol_code], dtype=np.int64))

    # -- regions ---------------------------------------------------------------------------------

    def regions(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(requests, volunteers) per region that has requests: nothing crosses regions."""
        order = np.argsort(self.vol_region, kind="stable")
        codes = self.vol_region[order]
        out = []
        for code in np.unique(self.req_region):
            lo, hi = np.searchsorted(codes, [code, code + 1])
            out.append((np.flatnonzero(self.req_region == code), np.sort(order[lo:hi])))
        return out

    # -- the rules and distances -----------------------------------------------------------------

    def first_failing_rules(self, r: np.ndarray, v: np.ndarray) -> Checked:
        """Per pair, 1 + the index in :data:`.rules.HARD_RULES` of the first rule it breaks; 0 if none.

        Each rule only looks at the pairs every earlier rule let through.
        """
        size = len(r)
        checked = Checked(np.zeros(size, np.uint8), np.full(size, np.nan), np.zeros(size, np.int64))
        alive = np.arange(size)
        for code, (_, _, fails) in enumerate(ARRAY_RULES, start=1):
            if not alive.size:
                break
            failed = fails(self, r[alive], v[alive], checked, alive)
            checked.codes[alive[failed]] = code
            alive = alive[~failed]
        return checked

    def passing(self, r: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(positions of the pairs passing every rule, their travel km, their week's load).

        The same rules as :meth:`first_failing_rules`, cheapest first: which rule fails
        first does not matter here, and most pairs fail on skills or availability.
        """
        checked = Checked(np.zeros(0, np.uint8), np.full(len(r), np.nan), np.zeros(len(r), np.int64))
        alive = np.arange(len(r))
        for fails in CHEAPEST_FIRST:
            if not alive.size:
                break
            alive = alive[~fails(self, r[alive], v[alive], checked, alive)]
        return alive, checked.km[alive], checked.load[alive]

    def travel_km(self, r: np.ndarray, v: np.ndarray) -> np.ndarray:
        """:func:`travel_km` for many pairs, to within ~1e-12 relative (from the chord
        between points on the unit sphere; the callers re-measure near-ties exactly)."""
        chord = np.sqrt(((self.vol_xyz[v] - self.req_xyz[r]) ** 2).sum(axis=1))
        return 2 * geo.EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, chord / 2)) * self.road_factor

    def exact_km(self, r: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.array([travel_km(self.requests[i], self.volunteers[j], self.road_factor)
                         for i, j in zip(r.tolist(), v.tolist(), strict=True)], dtype=np.float64)

    def metres(self, r: np.ndarray, v: np.ndarray, km: np.ndarray) -> np.ndarray:
        """``round(km * 1000)`` as the pair-by-pair code rounds it."""
        x = km * 1000
        result = np.rint(x).astype(np.int64)
        near_tie = np.flatnonzero(np.abs(x - np.floor(x) - 0.5) < RECHECK_METRES)
        if near_tie.size:
            result[near_tie] = [round(k * 1000) for k in self.exact_km(r[near_tie], v[near_tie])]
        return result

    def bookings_of(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pair position, booking index): one row per booking of each pair's volunteer."""
        lo = self.book_ptr[self.vol_code[v]]
        count = self.book_ptr[self.vol_code[v] + 1] - lo
        pos = np.repeat(np.arange(len(v)), count)
        first = np.cumsum(count) - count
        return pos, np.repeat(lo - first, count) + np.arange(int(count.sum()))

    def away_of(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pair position, away period index): one row per away period of each pair's volunteer."""
        lo = self.away_ptr[v]
        count = self.away_ptr[v + 1] - lo
        pos = np.repeat(np.arange(len(v)), count)
        first = np.cumsum(count) - count
        return pos, np.repeat(lo - first, count) + np.arange(int(count.sum()))


def _ints(values: list[int], count: int) -> np.ndarray:
    return np.array(values, dtype=np.int64).reshape(count)


def _window_facts(window: Window) -> tuple[int, int, int, int, int, int, int, int]:
    """(local weekday or -1 past midnight, start and end minute, ISO week key, start and end instant,
    first and last local day number)."""
    span = window.local_span
    day, start_min, end_min = (DAYS.index(span[0]), span[1], span[2]) if span else (-1, 0, 0)
    first, last = window.local_dates
    return (day, start_min, end_min, *window.week_and_instants, first.toordinal(), last.toordinal())


def _bitmasks(sets: Sequence[Iterable[str]], bit: dict[str, int], count: int) -> np.ndarray:
    """(count, words) uint64: bit ``bit[s]`` set for each member ``s`` known to ``bit``."""
    words = max(1, -(-len(bit) // 64))
    known: dict = {}
    masks = [known[members] if members in known else known.setdefault(
        members, sum(1 << bit[s] for s in members if s in bit)) for members in sets]
    out = np.zeros((count, words), dtype=np.uint64)
    for w in range(words):
        out[:, w] = np.fromiter(((mask >> (64 * w)) & 0xFFFF_FFFF_FFFF_FFFF for mask in masks),
                                dtype=np.uint64, count=count)
    return out


def _radians(points) -> tuple[np.ndarray, np.ndarray]:
    lat = np.radians(np.array([p.lat for p in points], dtype=np.float64))
    lon = np.radians(np.array([p.lon for p in points], dtype=np.float64))
    return lat, lon


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """On the unit sphere, straight-line (chord) distance grows with great-circle distance."""
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def _weekly_slots(volunteers: Sequence[Volunteer]) -> tuple[np.ndarray, np.ndarray]:
    """(volunteers, 7 days, k) start and end minutes of the merged weekly slots, padded.

    The merge is :func:`.model.merge_slots` on arrays: slots of one day sorted by start,
    a slot that starts before (or as) the ones before it end joins them.
    """
    day_index = {day: d for d, day in enumerate(DAYS)}
    raw = np.array([(i, day_index[s.day], s.start, s.end) for i, v in enumerate(volunteers) for s in v.availability],
                   dtype=np.int64).reshape(-1, 4)
    if not raw.size:
        return (np.full((len(volunteers), 7, 1), NO_SLOT[0], dtype=np.int64),
                np.full((len(volunteers), 7, 1), NO_SLOT[1], dtype=np.int64))
    raw = raw[np.lexsort((raw[:, 3], raw[:, 2], raw[:, 1], raw[:, 0]))]
    group = raw[:, 0] * 7 + raw[:, 1]
    span = 2 * MINUTES_PER_DAY + 2  # > any minute: keeps running maxima inside their (volunteer, day)
    latest_end = np.maximum.accumulate(group * span + raw[:, 3]) - group * span
    joins = np.zeros(len(raw), dtype=bool)
    joins[1:] = (group[1:] == group[:-1]) & (raw[1:, 2] <= latest_end[:-1])
    first = np.flatnonzero(~joins)
    merged_group, merged_start = group[first], raw[first, 2]
    merged_end = np.maximum.reduceat(raw[:, 3], first)
    new_group = np.ones(len(first), dtype=bool)
    new_group[1:] = merged_group[1:] != merged_group[:-1]
    group_first = np.flatnonzero(new_group)
    rank = np.arange(len(first)) - np.repeat(group_first, np.diff(np.append(group_first, len(first))))
    k = int(rank.max()) + 1
    start = np.full((len(volunteers) * 7, k), NO_SLOT[0], dtype=np.int64)
    end = np.full((len(volunteers) * 7, k), NO_SLOT[1], dtype=np.int64)
    start[merged_group, rank], end[merged_group, rank] = merged_start, merged_end
    return start.reshape(len(volunteers), 7, k), end.reshape(len(volunteers), 7, k)

"""Matching: the optimiser against a greedy nearest-first baseline, on the same instance, in one run.

    .venv/bin/python -m benchmarks.matching --scenario leeuwarden|fryslan|stress [--json]
    .venv/bin/python -m benchmarks.matching --all [--json]

Each scenario is a seeded, reproducible instance at a scale of DOMAIN.md's table, built
from ``data/leeuwarden_places.csv``: people live around the places, more around the
bigger ones. Fryslân and stress add regions of synthetic villages and wijken (the
Leeuwarden map turned, stretched and shifted, seeded) next to the real one. Requests
follow the category mix of DOMAIN.md, within one week; volunteers have 2-5 skills,
weekly slots, 1-3 tasks a week and a maximum distance of 5-15 km; some already have a
booking that week, and some requests excluded a volunteer before.

Against the same instance, in the same process:

* **optimal** -- ``solver.assign``, as the service calls it: candidate edges, one min-cost
  flow per region, explanations and unmatched reasons;
* **greedy** -- requests in order, each takes the nearest volunteer still free (same
  hard rules, same weekly capacity, no overlapping tasks), from the same candidate edges.

Both times include building the edges (median of ``--repeat`` runs). The solver's
candidate edges come from an index on (category, weekday, start minute) against each
volunteer's merged weekly slots, then the hard rules on arrays: exact, not a k-nearest cut. To show it, Leeuwarden and Fryslân are solved a second time from every
pair of each region (``unpruned_total_km`` must equal ``optimal.total_km``). The exit
status is 1 when a check fails: optimal matches fewer than greedy, or as many but
travels more, or the unpruned total differs. Timing targets are reported, not enforced
(figures move 20-40 % between runs on this machine). ``--all`` runs each scenario in its
own process, so ``peak_rss_mb`` is that scenario's alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from mienskip_cli.leeuwarden import CATEGORY_MIX, Place, load_places
from mienskip_matching.domain.model import (
    LOCAL_TZ,
    Booking,
    OpenRequest,
    Point,
    Volunteer,
    WeeklySlot,
    Window,
)
from mienskip_matching.domain.solver import SolverConfig, assign, candidate_arcs, travel_km

KM_PER_DEGREE = 111.195
MONDAY = date(2025, 9, 8)  # the week every window falls in
SEED = 20250908

# Shares of requests and volunteers (the category mix is DOMAIN.md's, from mienskip_cli.leeuwarden).
NEEDS_VOG = {"buddy": 0.15, "respite": 0.6, "pets": 0.2, "meals": 0.1}  # share of requests, else 0.03
LANGUAGE_NEED = {"fy": 0.05, "en": 0.015, "ar": 0.01, "tr": 0.008, "pl": 0.008, "uk": 0.008, "de": 0.005}
SPEAKS = {"fy": 0.45, "en": 0.4, "de": 0.1, "ar": 0.03, "tr": 0.03, "pl": 0.02, "uk": 0.02}
URGENCY = {"low": 0.2, "normal": 0.6, "high": 0.15, "urgent": 0.05}


@dataclass(frozen=True)
class Scenario:
    regions: int
    kamers: int
    volunteers: int
    requests: int
    target_s: float
    check_unpruned: bool


SCENARIOS = {  # DOMAIN.md scale table; region counts as in BENCHMARKS.md
    "leeuwarden": Scenario(regions=1, kamers=10, volunteers=1_600, requests=2_000, target_s=0.2,
                           check_unpruned=True),
    "fryslan": Scenario(regions=8, kamers=80, volunteers=10_000, requests=11_000, target_s=1.0,
                        check_unpruned=True),
    "stress": Scenario(regions=12, kamers=100, volunteers=16_000, requests=20_000, target_s=2.5,
                       check_unpruned=False),
}
STRESS_RSS_TARGET_MB = 1024


# -- the instance ------------------------------------------------------------------------------


def real_places() -> list[Place]:
    """Leeuwarden's places as the demo reads them; a missing population is the smallest
    village's or the median wijk's."""
    places = load_places()
    known = {kind: [p.population for p in places if p.kind == kind and p.population is not None]
             for kind in ("village", "wijk")}
    unknown = {"village": min(known["village"]), "wijk": statistics.median(known["wijk"])}
    return [p if p.population is not None else dataclasses.replace(p, population=unknown[p.kind]) for p in places]


def region_places(n_regions: int, rng: np.random.Generator) -> list[list[Place]]:
    """Region 0 is Leeuwarden as it is; the others are its places turned by a random angle,
    stretched 0.8-1.25x, each moved up to ~1 km, with other populations: villages and
    wijken spread over a 4-wide grid of 28 km cells, as Fryslân's are."""
    base = real_places()
    lat0 = float(np.mean([p.lat for p in base]))
    lon0 = float(np.mean([p.lon for p in base]))
    kx = KM_PER_DEGREE * math.cos(math.radians(lat0))
    regions = [base]
    for i in range(1, n_regions):
        gx, gy = i % 4, -(i // 4)
        angle, stretch = rng.uniform(0, 2 * math.pi), rng.uniform(0.8, 1.25)
        places = []
        for p in base:
            x, y = (p.lon - lon0) * kx * stretch, (p.lat - lat0) * KM_PER_DEGREE * stretch
            x, y = x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle)
            x, y = x + gx * 28 + rng.normal(0, 0.7), y + gy * 28 + rng.normal(0, 0.7)
            places.append(Place(f"{p.name} ({i})", p.kind, lat0 + y / KM_PER_DEGREE, lon0 + x / kx,
                                p.population * rng.lognormal(0, 0.5)))
        regions.append(places)
    return regions


def around(place: Place, rng: np.random.Generator) -> Point:
    sigma_km = 0.35 if place.kind == "wijk" else 0.6
    dy, dx = rng.normal(0, sigma_km, 2)
    return Point(round(place.lat + dy / KM_PER_DEGREE, 5),
                 round(place.lon + dx / (KM_PER_DEGREE * math.cos(math.radians(place.lat))), 5))


def local_window(day: int, start_min: int, length_min: int) -> Window:
    start = datetime.combine(MONDAY + timedelta(days=day), datetime.min.time(), LOCAL_TZ) + timedelta(
        minutes=start_min)
    return Window(start, start + timedelta(minutes=length_min))


def pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[rng.choice(len(keys), p=p / p.sum())]


def build_instance(name: str) -> tuple[list[OpenRequest], list[Volunteer], list[Booking]]:
    scenario = SCENARIOS[name]
    rng = np.random.default_rng(SEED + scenario.volunteers)
    regions = region_places(scenario.regions, rng)
    region_names = ["leeuwarden"] + [f"fryslan-{i}" for i in range(1, scenario.regions)]
    weight = np.array([sum(p.population for p in places) for places in regions])
    share = weight / weight.sum()
    kamers_per_region = np.maximum(1, np.round(share * scenario.kamers)).astype(int)

    def spread(total: int) -> list[int]:
        counts = np.floor(share * total).astype(int)
        counts[: total - counts.sum()] += 1
        return counts.tolist()

    categories = list(CATEGORY_MIX)
    skill_weight = np.sqrt(np.array([CATEGORY_MIX[c] for c in categories], dtype=float))
    volunteers: list[Volunteer] = []
    requests: list[OpenRequest] = []
    bookings: list[Booking] = []
    for g, (places, region) in enumerate(zip(regions, region_names, strict=True)):
        pop = np.array([p.population for p in places])
        kamer_places = np.argsort(-pop, kind="stable")[: kamers_per_region[g]]

        def kamer_of(point: Point, places=places, kamer_places=kamer_places, region=region) -> str:
            d = [(places[k].lat - point.lat) ** 2 + (places[k].lon - point.lon) ** 2 for k in kamer_places]
            return f"kamer-{region}-{int(np.argmin(d))}"

        for _ in range(spread(scenario.volunteers)[g]):
            vid = f"v{len(volunteers):05d}"
            home = around(places[rng.choice(len(places), p=pop / pop.sum())], rng)
            skills = set(rng.choice(categories, size=rng.integers(2, 6), replace=False,
                                    p=skill_weight / skill_weight.sum()).tolist())
            has_car = bool(rng.random() < (0.92 if "transport" in skills else 0.6))
            languages = {"nl"} | {code for code, p in SPEAKS.items() if rng.random() < p}
            slots = []
            for day in rng.choice(7, size=rng.integers(2, 6), replace=False).tolist():
                start = int(rng.integers(16, 38)) * 30  # 08:00-18:30
                end = min(22 * 60, start + int(rng.integers(4, 11)) * 30)  # 2-5 h
                slots.append(WeeklySlot(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day], start, end))
            capacity = int(rng.choice([1, 2, 3], p=[0.35, 0.45, 0.2]))
            volunteers.append(Volunteer(
                id=vid, kamer_id=kamer_of(home), region=region, home=home, skills=frozenset(skills),
                languages=frozenset(languages), has_car=has_car,
                vog_checked_on=date(2024, 3, 1) if rng.random() < 0.45 else None,
                availability=tuple(slots), max_tasks_per_week=capacity,
                max_distance_km=float(rng.integers(10, 31)) / 2))  # 5-15 km
            if rng.random() < 0.15:  # already booked once this week, inside one of their slots
                slot = slots[0]
                day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(slot.day)
                bookings.append(Booking(vid, f"old-{vid}", local_window(day, slot.start, 60)))

        region_volunteers = [v.id for v in volunteers if v.region == region]
        for _ in range(spread(scenario.requests)[g]):
            rid = f"r{len(requests):05d}"
            category = pick(rng, CATEGORY_MIX)
            extra = {pick(rng, CATEGORY_MIX)} - {category} if rng.random() < 0.1 else set()
            language = next((code for code, p in LANGUAGE_NEED.items() if rng.random() < p), None)
            length = int(rng.integers(2, 7 if category == "transport" else 5)) * 30  # 1-3 h / 1-2 h
            start = int(rng.integers(32, 80)) * 15  # 08:00-19:45
            location = around(places[rng.choice(len(places), p=pop / pop.sum())], rng)
            excluded = (frozenset({region_volunteers[rng.integers(len(region_volunteers))]})
                        if rng.random() < 0.03 else frozenset())
            requests.append(OpenRequest(
                id=rid, kamer_id=kamer_of(location), region=region, category=category, skills=frozenset(extra),
                needs_vog=bool(rng.random() < NEEDS_VOG.get(category, 0.03)), needs_language=language,
                window=local_window(int(rng.integers(0, 7)), start, min(length, 24 * 60 - start)),
                location=location, urgency=pick(rng, URGENCY), excluded_volunteers=excluded))
    return requests, volunteers, bookings


# -- the baseline ------------------------------------------------------------------------------


def greedy(requests, volunteers, bookings, config: SolverConfig) -> tuple[int, int, int]:
    """Requests in order; each takes the nearest candidate with room that week and no
    overlapping task. (matched, total metres, edges)."""
    arcs = candidate_arcs(requests, volunteers, bookings, config)
    starts = arcs.starts().tolist()
    vol = arcs.volunteer.tolist()
    capacity = [v.max_tasks_per_week for v in arcs.volunteers]
    metres, load = arcs.metres.tolist(), arcs.load.tolist()
    taken: dict[tuple[int, tuple[int, int]], int] = {}
    busy: dict[int, list[Window]] = {}
    matched = total = 0
    for r in range(len(arcs.requests)):
        window = arcs.requests[r].window
        week = window.iso_week
        for a in range(starts[r], starts[r + 1]):
            v = vol[a]
            if load[a] + taken.get((v, week), 0) >= capacity[v]:
                continue
            if any(window.overlaps(w) for w in busy.get(v, ())):
                continue
            taken[v, week] = taken.get((v, week), 0) + 1
            busy.setdefault(v, []).append(window)
            matched, total = matched + 1, total + metres[a]
            break
    return matched, total, len(arcs)


# -- one scenario ------------------------------------------------------------------------------


def timed(fn, repeat: int):
    """(median seconds, last result) of ``repeat`` calls."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def proposal_metres(answer, requests, volunteers, config: SolverConfig) -> int:
    req = {r.id: r for r in requests}
    vol = {v.id: v for v in volunteers}
    return sum(round(travel_km(req[p.request_id], vol[p.volunteer_id], config.road_factor) * 1000)
               for p in answer.proposals)


def run(name: str, repeat: int, prove_s: float = 0) -> dict:
    scenario = SCENARIOS[name]
    config = SolverConfig()
    requests, volunteers, bookings = build_instance(name)
    assign(requests[:50], volunteers[:200], bookings, config)  # imports and first-call costs out of the timing

    optimal_s, answer = timed(lambda: assign(requests, volunteers, bookings, config), repeat)
    greedy_s, (greedy_matched, greedy_m, edges) = timed(lambda: greedy(requests, volunteers, bookings, config),
                                                         repeat)
    edges_s, _ = timed(lambda: candidate_arcs(requests, volunteers, bookings, config), repeat)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the unpruned check
    optimal_m = proposal_metres(answer, requests, volunteers, config)
    matched = len(answer.proposals)
    report = {
        "scenario": name,
        "regions": scenario.regions,
        "requests": len(requests),
        "volunteers": len(volunteers),
        "bookings": len(bookings),
        "edges": edges,
        "optimal": {"matched": matched, "total_km": round(optimal_m / 1000, 3), "seconds": round(optimal_s, 3),
                    "proven_optimal": answer.optimal, "note": answer.note},
        "greedy": {"matched": greedy_matched, "total_km": round(greedy_m / 1000, 3), "seconds": round(greedy_s, 3)},
        "edges_seconds": round(edges_s, 3),
        "km_saved": round((greedy_m - optimal_m) / 1000, 3),
        "km_saved_pct": round(100 * (greedy_m - optimal_m) / greedy_m, 2) if greedy_m else None,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "target_s": scenario.target_s,
        "within_target": optimal_s < scenario.target_s and (
            name != "stress" or peak_rss_mb < STRESS_RSS_TARGET_MB),
        "repeat": repeat,
    }
    checks = {
        "optimal_matches_at_least_greedy": matched >= greedy_matched,
        "optimal_travels_no_more_at_equal_matches": matched > greedy_matched or optimal_m <= greedy_m,
    }
    if scenario.check_unpruned:
        every_pair = dataclasses.replace(config, index_from_pairs=2**62)
        unpruned_s, unpruned = timed(lambda: assign(requests, volunteers, bookings, every_pair), 1)
        unpruned_m = proposal_metres(unpruned, requests, volunteers, config)
        report["unpruned_edges"] = len(candidate_arcs(requests, volunteers, bookings, every_pair))
        report["unpruned_total_km"] = round(unpruned_m / 1000, 3)
        report["unpruned_seconds"] = round(unpruned_s, 3)
        checks["unpruned_total_equal"] = (unpruned_m == optimal_m and unpruned.total_cost == answer.total_cost
                                          and report["unpruned_edges"] == edges)
    if prove_s > 0:  # the whole problem as one exact MIP per region: slow, for the record
        whole = dataclasses.replace(config, exact_arcs=2**62, time_limit_s=prove_s)
        prove_time, exact = timed(lambda: assign(requests, volunteers, bookings, whole), 1)
        exact_m = proposal_metres(exact, requests, volunteers, config)
        report["proof"] = {
            "seconds": round(prove_time, 1), "proven_optimal": exact.optimal, "matched": len(exact.proposals),
            "total_km": round(exact_m / 1000, 3), "cost": exact.total_cost, "lower_bound": exact.lower_bound,
            "fast_matched_fewer": len(exact.proposals) - matched,
            "fast_km_more": round((optimal_m - exact_m) / 1000, 3),
            "fast_km_more_pct": round(100 * (optimal_m - exact_m) / exact_m, 2) if exact_m else None,
        }
        checks["fast_not_below_the_proven_bound"] = answer.total_cost >= exact.lower_bound
    report["checks"] = checks
    return report


# -- output ------------------------------------------------------------------------------------


def table(reports: list[dict]) -> str:
    head = (f"{'scenario':<11}{'requests':>9}{'volunt.':>8}{'edges':>9}  {'optimal matched/km/s':>24}  "
            f"{'greedy matched/km/s':>24}{'saved':>8}{'RSS MB':>8}  target")
    rows = [head]
    for r in reports:
        o, g = r["optimal"], r["greedy"]
        rows.append(f"{r['scenario']:<11}{r['requests']:>9}{r['volunteers']:>8}{r['edges']:>9}  "
                    f"{o['matched']:>7} {o['total_km']:>9.1f} {o['seconds']:>6.3f}  "
                    f"{g['matched']:>7} {g['total_km']:>9.1f} {g['seconds']:>6.3f}"
                    f"{r['km_saved_pct']:>7.2f}%{r['peak_rss_mb']:>8.0f}  "
                    f"< {r['target_s']} s {'ok' if r['within_target'] else 'MISSED'}")
    for r in reports:
        extra = []
        if "unpruned_total_km" in r:
            extra.append(f"every pair: {r['unpruned_edges']} edges, {r['unpruned_total_km']:.1f} km "
                         f"in {r['unpruned_seconds']:.2f} s")
        if not r["optimal"]["proven_optimal"]:
            extra.append(f"not proven optimal: {r['optimal']['note']}")
        if "proof" in r:
            p = r["proof"]
            extra.append(f"solved whole in {p['seconds']} s ({'proven optimal' if p['proven_optimal'] else 'not proven'}): "
                         f"{p['matched']} matched, {p['total_km']:.1f} km; the fast answer matches "
                         f"{p['fast_matched_fewer']} fewer and travels {p['fast_km_more']:.1f} km "
                         f"({p['fast_km_more_pct']} %) more")
        extra.append("checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}" for k, v in r["checks"].items()))
        rows.append(f"{r['scenario']}: " + "; ".join(extra))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.matching", description=__doc__.split("\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--scenario", choices=list(SCENARIOS))
    which.add_argument("--all", action="store_true", help="every scenario, each in its own process")
    parser.add_argument("--repeat", type=int, default=1, choices=range(1, 11), metavar="1-10",
                        help="timed runs per measurement; the median is reported (default 1)")
    parser.add_argument("--json", action="store_true", help="print JSON (one object per scenario, one per line)")
    parser.add_argument("--prove", type=float, default=0, metavar="SECONDS",
                        help="also solve each region whole as one exact MIP with this time limit, to show how far "
                             "the fast answer is from the proven optimum (Leeuwarden: ~30 s)")
    args = parser.parse_args(argv)
    if args.all:
        reports = []
        for name in SCENARIOS:
            out = subprocess.run([sys.executable, "-m", "benchmarks.matching", "--scenario", name, "--json",
                                  "--repeat", str(args.repeat), "--prove", str(args.prove)],
                                 capture_output=True, text=True, check=False, timeout=600 + 20 * args.prove)
            if not out.stdout.strip():
                sys.stderr.write(out.stderr)
                return 2
            reports.append(json.loads(out.stdout))
    else:
        reports = [run(args.scenario, args.repeat, args.prove)]
    if args.json:
        print("\n".join(json.dumps(r) for r in reports))
    else:
        print(table(reports))
    return 0 if all(all(r["checks"].values()) for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())

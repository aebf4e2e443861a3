"""Weekly series under batching: how many follow-ups keep their volunteer.

About 400 lines on purpose: one experiment read top to bottom (population, play, count,
report), as ``rematch.py``; what the benchmarks share is in ``common.py``.

    .venv/bin/python -m benchmarks.series [--rounds 5] [--seed 2026] [--volunteers 60] [--one-offs 40] [--json]

The issue's trial: "30 series over 4 weeks with ``follows``, 81-90 of 90 follow-ups kept
their volunteer; the losses came from batch timing (one week's requests solved in several
batches, the earlier batch taking the nearer volunteer), not from availability. A series
keeps its volunteer unless a hard rule forbids it (aim for >= 97 %), whatever the batching."

Each round draws one population (seeded) and plays the same four weeks through matching's
real service layer, once per variant, each on a fresh migrated SQLite database: volunteers
arrive through the consumer's ``volunteer.registered`` handler and each batch of
``request.submitted`` through its batch handler (``entrypoints.consumer.make_handle`` and
``make_batch_handle``, what ``mienskip matching`` runs), events encoded and parsed back as the
consumer gets them. The variants differ only in matching's settings:

* **baseline** -- before the trial's fix: last time's volunteer counts 1 km nearer, nothing is
  held (``MIENSKIP_CONTINUITY_FIRST=0 MIENSKIP_RESERVE_SERIES=0``);
* **tier** -- continuity as a tier between matching and distance, no reservations;
* **fix** -- the tier and the reservation of a held series' next occurrence (the defaults).

The population: volunteers around Leeuwarden's wijken (``data/leeuwarden_places.csv``), each
with three of six categories, free three weekdays (mornings, afternoons or all day), one to
three tasks a week, up to 8 km. 30 weekly series (a category, a weekday, a time, a place);
each week 40 one-off requests at the same kind of times compete for the same volunteers.
Every week's requests (the series' next ones, with ``follows``, and the one-offs) arrive in
3-6 batches, split and ordered at random. Before weeks 2-4 two volunteers each drop a day of
their availability, and before week 3 one is erased: hard rules that may take a series'
volunteer away, as they would in life.

Each follow-up is counted as **kept** (the volunteer holding the request it follows got it),
**blocked** (a hard rule forbids that volunteer: they left, or fail a rule for it with only
their weekly series' tasks booked), **yielded** (keeping that volunteer would have left
another request of its batch unmatched, or another series without its volunteer: matching
more requests comes first. Checked by playing the batch again through the same handler on
a copy of the database from just before it, the follow-up allowed only that volunteer),
**lost** (anything else: batch timing above all), or **no volunteer** (the request it
follows had none). The kept share is kept / (kept + yielded + lost): of the follow-ups no
hard rule kept from their volunteer. Also reported: one-off requests matched and the km
per matched request (what the fix costs others), and the seconds spent in the handlers as a
ratio against the baseline in the same round. Exit status 1 when a check fails: every
follow-up counted, and the fix keeps >= 97 % (``TARGET_SHARE``).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from benchmarks.common import bounded, ratio
from mienskip_cli.leeuwarden import load_places
from mienskip_matching import bootstrap
from mienskip_matching.adapters import tables
from mienskip_matching.adapters.repository import VolunteerRepository
from mienskip_matching.domain.model import Booking, StoredProposal, Volunteer
from mienskip_matching.domain.rules import RuleContext, first_failing_rule
from mienskip_matching.domain.solver import SolverConfig, travel_km
from mienskip_matching.entrypoints.consumer import make_batch_handle, make_handle
from mienskip_matching.service_layer.handlers import request_from_event
from mienskip_shared.contracts import Envelope, new_event, parse
from mienskip_shared.db import make_engine, upgrade
from mienskip_shared.logging import configure_logging

CATEGORIES = ("shopping", "buddy", "odd_jobs", "paperwork", "digital", "pets")  # no car, no VOG needed
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
BLOCKS = (("09:00", "13:00"), ("13:00", "17:00"), ("09:00", "17:00"))
STARTS = ((9, 0), (10, 0), (11, 0), (13, 0), (14, 0), (15, 0))  # local start of a window inside a block
EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
FIRST_MONDAY = datetime(2027, 1, 4, tzinfo=ZoneInfo("Europe/Amsterdam"))
REGION, KAMER = "leeuwarden", "kamer-bench"
TARGET_SHARE = 0.97
OUTCOMES = ("kept", "blocked", "yielded", "lost", "no_volunteer")
VARIANTS = {
    "baseline": SolverConfig(continuity_first=False, reserve_series=False),
    "tier": SolverConfig(continuity_first=True, reserve_series=False),
    "fix": SolverConfig(),
}


@dataclass(frozen=True)
class Scenario:
    series: int = 30
    weeks: int = 4
    one_offs: int = 40  # per week
    volunteers: int = 60
    batches: tuple[int, int] = (3, 6)  # per week, at random
    drops_per_week: int = 2  # volunteers dropping a day, before weeks 2..
    erase_in_week: int = 3


@dataclass
class Plan:
    """Everything that happens, in order, the same for every variant of a round."""

    steps: list[tuple[str, int, list[Envelope]]] = field(default_factory=list)  # (kind, week, events)
    follow_ups: dict[str, str] = field(default_factory=dict)  # follow-up id -> id it follows
    series_requests: set[str] = field(default_factory=set)
    one_offs: set[str] = field(default_factory=set)
    requests: dict[str, Envelope] = field(default_factory=dict)
    batch_of: dict[str, int] = field(default_factory=dict)  # request id -> its batch (step number)


def _deliver(event_type: str, data: dict, key: str) -> Envelope:
    """As the consumer hands it over: encoded, then parsed back."""
    return parse(new_event(event_type, data, correlation_id=f"corr-{key}", kamer_id=KAMER).to_json())


def _near(rng: random.Random, place, spread: float) -> dict[str, float]:
    return {"lat": round(place.lat + rng.uniform(-spread, spread), 4),
            "lon": round(place.lon + rng.uniform(-spread, spread) * 1.6, 4)}


def _volunteer(v: int, home: dict, availability: list[dict], max_tasks: int) -> dict:
    return {"volunteer_id": f"vol-{v:03d}", "kamer_id": KAMER, "region": REGION, "home": home,
            "languages": ["nl"], "skills": [CATEGORIES[(v + k) % len(CATEGORIES)] for k in range(3)],
            "has_car": False, "vog_checked_on": None, "availability": availability,
            "max_tasks_per_week": max_tasks, "max_distance_km": 8.0}


def _request(rid: str, category: str, location: dict, start: datetime, hours: float,
             follows: str | None, weekly: bool) -> dict:
    return {"request_id": rid, "kamer_id": KAMER, "region": REGION, "category": category, "skills": [],
            "needs_vog": False, "needs_language": None,
            "window": {"start": start, "end": start + timedelta(hours=hours)}, "location": location,
            "urgency": "normal", "recurrence": "weekly" if weekly else None, "follows": follows}


def plan(seed: int, scenario: Scenario) -> Plan:
    rng = random.Random(seed)
    wijken = [p for p in load_places() if p.kind == "wijk"]
    out = Plan()
    people = []
    for v in range(scenario.volunteers):
        availability = [{"day": day, "start": lo, "end": hi}
                        for day in sorted(rng.sample(WEEKDAYS, 3), key=WEEKDAYS.index)
                        for lo, hi in (rng.choice(BLOCKS),)]
        people.append(_volunteer(v, _near(rng, rng.choice(wijken), 0.006), availability, rng.choice((1, 2, 2, 3))))
    out.steps.append(("volunteers", 1, [_deliver("volunteer.registered", p, p["volunteer_id"]) for p in people]))
    series = [(rng.choice(CATEGORIES), rng.randrange(5), rng.choice(STARTS), rng.choice((1.0, 1.5)),
               _near(rng, rng.choice(wijken), 0.004)) for _ in range(scenario.series)]
    previous: dict[int, str] = {}
    for week in range(1, scenario.weeks + 1):
        monday = FIRST_MONDAY + timedelta(weeks=week - 1)
        if week > 1:
            changed = []
            for v in rng.sample(range(len(people)), scenario.drops_per_week):
                person = people[v]
                if len(person["availability"]) > 1:
                    person["availability"] = person["availability"][1:]  # drops their first day
                    changed.append(_deliver("volunteer.registered", dict(person), f"{person['volunteer_id']}-w{week}"))
            out.steps.append(("volunteers", week, changed))
        if week == scenario.erase_in_week:
            gone = people[rng.randrange(len(people))]["volunteer_id"]
            out.steps.append(("erase", week, [_deliver("personal_data.erased", {
                "subject_kind": "volunteer", "subject_id": gone, "kamer_id": KAMER, "reason": "request"}, gone)]))
        arriving = []
        for s, (category, day, (hour, minute), hours, location) in enumerate(series):
            rid = f"s{s:02d}-w{week}"
            start = (monday + timedelta(days=day)).replace(hour=hour, minute=minute)
            arriving.append(_request(rid, category, location, start, hours, previous.get(s), weekly=True))
            out.series_requests.add(rid)
            if s in previous:
                out.follow_ups[rid] = previous[s]
            previous[s] = rid
        for o in range(scenario.one_offs):
            hour, minute = rng.choice(STARTS)
            start = (monday + timedelta(days=rng.randrange(5))).replace(hour=hour, minute=minute)
            rid = f"o{o:02d}-w{week}"
            arriving.append(_request(rid, rng.choice(CATEGORIES), _near(rng, rng.choice(wijken), 0.004), start,
                                     1.0, None, weekly=False))
            out.one_offs.add(rid)
        rng.shuffle(arriving)
        count = rng.randint(*scenario.batches)
        cuts = sorted(rng.sample(range(1, len(arriving)), count - 1))
        for lo, hi in zip([0, *cuts], [*cuts, len(arriving)], strict=True):
            envelopes = [_deliver("request.submitted", r, r["request_id"]) for r in arriving[lo:hi]]
            out.requests.update({e.data["request_id"]: e for e in envelopes})
            out.batch_of.update({e.data["request_id"]: len(out.steps) for e in envelopes})
            out.steps.append(("batch", week, envelopes))
    return out


def play(the_plan: Plan, config: SolverConfig, workdir: Path) -> dict:
    """Every step through matching's handlers on a fresh database; what each follow-up became."""
    engine = make_engine(f"sqlite:///{workdir / 'matching.db'}")
    try:
        upgrade(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
        handle, handle_batch = make_handle(engine, config), make_batch_handle(engine, config)
        pools: dict[int, dict[str, Volunteer]] = {}
        before_batch: dict[int, Path] = {}  # step -> a copy of the database just before it
        decided: dict[int, list] = {}
        seconds = 0.0
        for step, (kind, week, envelopes) in enumerate(the_plan.steps):
            if kind == "batch":
                before_batch[step] = _backup(engine, workdir / f"before-{step}.db")
            started = time.perf_counter()
            if kind == "batch":
                decided[step] = handle_batch(envelopes)
            else:
                for envelope in envelopes:
                    handle(envelope)
            seconds += time.perf_counter() - started
            if kind != "batch":
                with engine.connect() as conn:
                    pools[week] = {v.id: v for v in VolunteerRepository(conn).in_region(REGION)}
        with engine.connect() as conn:
            rows = conn.execute(select(tables.proposals.c.request_id, tables.proposals.c.volunteer_id,
                                       tables.proposals.c.distance_km, tables.proposals.c.explanation)).all()
    finally:
        engine.dispose()
    holder = {r.request_id: r.volunteer_id for r in rows}
    of: dict[str, str] = {}
    blocked_by: Counter = Counter()
    for rid, follows in the_plan.follow_ups.items():
        before = holder.get(follows)
        if before is None:
            of[rid] = "no_volunteer"
        elif holder.get(rid) == before:
            of[rid] = "kept"
        elif (rule := _hard_rule(the_plan, rid, before, holder, pools)) is not None:
            of[rid] = "blocked"
            blocked_by[rule] += 1
        elif _yielded(the_plan, rid, before, config, before_batch, decided, workdir):
            of[rid] = "yielded"
        else:
            of[rid] = "lost"
    outcome = Counter(of.values())
    one_offs = [r for r in rows if r.request_id in the_plan.one_offs]
    return {"follow_ups": len(the_plan.follow_ups), **{k: outcome[k] for k in OUTCOMES},
            "kept_share": _share(outcome),
            "blocked_by": dict(sorted(blocked_by.items())),
            "one_offs_matched": len(one_offs), "one_offs": len(the_plan.one_offs),
            "km_per_matched": round(sum(r.distance_km for r in rows) / max(1, len(rows)), 2),
            "seconds": round(seconds, 3), "outcome_of": of}


def _share(counts) -> float:
    """Kept, of the follow-ups whose volunteer no hard rule kept from them."""
    return round(counts["kept"] / max(1, counts["kept"] + counts["yielded"] + counts["lost"]), 4)


def _backup(engine, path: Path) -> Path:
    with engine.connect() as conn:
        target = sqlite3.connect(path)
        try:
            conn.connection.driver_connection.backup(target)
        finally:
            target.close()
    return path


def _yielded(the_plan: Plan, rid: str, volunteer_id: str, config: SolverConfig, before_batch: dict[int, Path],
             decided: dict[int, list], workdir: Path) -> bool:
    """Would the follow-up have kept its volunteer only by leaving another request of its
    batch unmatched, or another series of it without its volunteer? Its batch again, through
    the same handler, on a copy of the database from just before it, with every other
    volunteer excluded for the follow-up; False if it does not get the volunteer even then."""
    step = the_plan.batch_of[rid]
    copy = workdir / f"forced-{rid}.db"
    shutil.copyfile(before_batch[step], copy)
    engine = make_engine(f"sqlite:///{copy}")
    try:
        with engine.begin() as conn:
            others = conn.execute(select(tables.volunteers.c.id).where(tables.volunteers.c.id != volunteer_id))
            conn.execute(insert(tables.exclusions), [
                {"request_id": rid, "volunteer_id": other, "reason": "rejected", "created_at": EPOCH}
                for other in others.scalars()])
        forced = make_batch_handle(engine, config)(the_plan.steps[step][2])
    finally:
        engine.dispose()
    copy.unlink()
    if not any(isinstance(d, StoredProposal) and d.request_id == rid and d.volunteer_id == volunteer_id
               for d in forced):
        return False
    return _batch_score(the_plan, decided[step]) <= _batch_score(the_plan, forced)  # equal: traded for another series


def _batch_score(the_plan: Plan, decided: list) -> tuple[int, int]:
    """(requests left unmatched, follow-ups without last time's volunteer) of one batch's answers:
    every request here is of normal urgency, so the solver ranks answers by these, in this order."""
    unmatched = sum(1 for d in decided if not isinstance(d, StoredProposal))
    kept = sum(1 for d in decided if isinstance(d, StoredProposal) and d.explanation.get("continuity"))
    return unmatched, sum(1 for d in decided if d.request_id in the_plan.follow_ups) - kept


def _hard_rule(the_plan: Plan, rid: str, volunteer_id: str, holder: dict[str, str],
               pools: dict[int, dict[str, Volunteer]]) -> str | None:
    """The hard rule that keeps this volunteer from the follow-up, with only their weekly
    series' tasks booked (one-off requests are what the fix must not let in); None if none."""
    request = request_from_event(the_plan.requests[rid].data)
    week = max(w for w in pools if w <= int(rid.rsplit("-w", 1)[1]))
    volunteer = pools[week].get(volunteer_id)
    if volunteer is None:
        return "erased"
    series_tasks = [Booking(volunteer_id, other, request_from_event(the_plan.requests[other].data).window)
                    for other in the_plan.series_requests if other != rid and holder.get(other) == volunteer_id]
    ctx = RuleContext(travel_km(request, volunteer, SolverConfig().road_factor), series_tasks)
    return first_failing_rule(request, volunteer, ctx)


def benchmark(rounds: int, seed: int, scenario: Scenario = Scenario()) -> dict:
    per_round = []
    for r in range(rounds):
        the_plan = plan(seed + r, scenario)
        played = {}
        for name, config in VARIANTS.items():
            with tempfile.TemporaryDirectory(prefix="mienskip-series-bench-") as workdir:
                played[name] = play(the_plan, config, Path(workdir))
                played[name].pop("outcome_of")  # per follow-up: for debugging, too long to print
        per_round.append({"seed": seed + r, **played})
    totals = {name: _sum([p[name] for p in per_round]) for name in VARIANTS}
    base, fix = totals["baseline"], totals["fix"]
    return {
        "scenario": {**scenario.__dict__, "batches": list(scenario.batches)},
        "rounds": rounds, "seeds": [p["seed"] for p in per_round],
        "per_round": per_round, "totals": totals,
        "ratio_fix_to_baseline": {"kept": ratio(fix["kept"], base["kept"]),
                                  "one_offs_matched": ratio(fix["one_offs_matched"], base["one_offs_matched"]),
                                  "km_per_matched": ratio(fix["km_per_matched"], base["km_per_matched"]),
                                  "seconds": ratio(fix["seconds"], base["seconds"])},
        "target_share": TARGET_SHARE,
        "checks": {
            "every_follow_up_counted": all(
                sum(t[k] for k in OUTCOMES) == t["follow_ups"] for t in totals.values()),
            "fix_keeps_target_share": fix["kept_share"] >= TARGET_SHARE,
        },
    }


def _sum(results: list[dict]) -> dict:
    out: dict = {k: sum(r[k] for r in results) for k in ("follow_ups", *OUTCOMES, "one_offs_matched", "one_offs")}
    out["kept_share"] = _share(out)
    blocked_by: Counter = Counter()
    for r in results:
        blocked_by.update(r["blocked_by"])
    out["blocked_by"] = dict(sorted(blocked_by.items()))
    out["km_per_matched"] = round(sum(r["km_per_matched"] for r in results) / len(results), 2)
    out["seconds"] = round(sum(r["seconds"] for r in results), 3)
    return out


def table(report: dict) -> str:
    s = report["scenario"]
    lines = [
        f"weekly series under batching: {report['rounds']} round(s), seeds {report['seeds'][0]}..{report['seeds'][-1]}; "
        f"each {s['series']} series x {s['weeks']} weeks ({s['series'] * (s['weeks'] - 1)} follow-ups), "
        f"{s['one_offs']} one-offs a week, {s['volunteers']} volunteers, {s['batches'][0]}-{s['batches'][1]} "
        f"batches a week in random order (matching's handlers on SQLite)",
        f"{'variant':<10}{'kept':>14}{'kept share':>12}{'blocked':>9}{'yielded':>9}{'lost':>6}{'none':>6}"
        f"{'one-offs matched':>18}{'km/task':>9}{'handlers s':>12}",
    ]
    for name, t in report["totals"].items():
        lines.append(f"{name:<10}{t['kept']:>6}/{t['follow_ups']:<4} {100 * t['kept'] / t['follow_ups']:>3.0f}%"
                     f"{100 * t['kept_share']:>11.1f}%{t['blocked']:>9}{t['yielded']:>9}{t['lost']:>6}{t['no_volunteer']:>6}"
                     f"{t['one_offs_matched']:>10}/{t['one_offs']:<7}{t['km_per_matched']:>9.2f}{t['seconds']:>12.2f}")
    per_round = ", ".join(f"{p['baseline']['kept']}->{p['fix']['kept']}/{p['fix']['follow_ups']}"
                          for p in report["per_round"])
    r = report["ratio_fix_to_baseline"]
    lines += [
        "kept share = kept / (kept + yielded + lost); blocked = a hard rule keeps that volunteer from it "
        f"({report['totals']['fix']['blocked_by'] or 'none'} with the fix); yielded = keeping them would have left "
        "another request of the batch unmatched or another series without its volunteer (replayed); "
        "none = the request it follows had nobody",
        f"kept per round, baseline->fix: {per_round}",
        f"fix / baseline: kept {r['kept']}, one-offs matched {r['one_offs_matched']}, km per task "
        f"{r['km_per_matched']}, handler time {r['seconds']}",
        "checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}" for k, v in report["checks"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.series", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=bounded(1, 50, int), default=5, help="populations played (default 5)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the first round (default 2026)")
    parser.add_argument("--volunteers", type=bounded(5, 2000, int), default=Scenario.volunteers,
                        help=f"volunteers (default {Scenario.volunteers})")
    parser.add_argument("--one-offs", type=bounded(0, 2000, int), default=Scenario.one_offs,
                        help=f"one-off requests a week (default {Scenario.one_offs})")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    configure_logging("WARNING")  # a proposal logs a line each: thousands here
    report = benchmark(args.rounds, args.seed, Scenario(volunteers=args.volunteers, one_offs=args.one_offs))
    print(json.dumps(report) if args.json else table(report))
    return 0 if all(report["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The whole pipeline under load: received -> proposed, at a staircase of request rates.

    .venv/bin/python -m benchmarks.pipeline [--rates 25,50,100,200] [--step-seconds 30]
        [--matching 1] [--volunteers 600] [--kamers 5] [--topology both|production|embedded] [--json]

**production**: the topology an operator runs, as separate processes on this machine's
PostgreSQL and RabbitMQ (a throw-away database and vhost, removed afterwards): gunicorn
serving intake's API (2 workers x 4 threads, as the image), ``mienskip intake --no-api``
(relay and consumers), ``--matching`` x ``mienskip matching``, ``mienskip notify`` sending to
a local SMTP sink. **embedded** (the in-run baseline): ``mienskip serve``, the three services
in one process on SQLite with the in-process transport, as ``make demo`` runs them.

Both get the same population (``--kamers`` kamers in Fryslân's towns, ``--volunteers``
volunteers around them, registered through the API) and the same open-loop load: requests
are sent at their scheduled moment whatever the answers do, ``rate`` per second for
``--step-seconds``, each rate of the staircase in turn. After each step the run waits (at most
``SETTLE_TIMEOUT``) until every request of the step is decided, then reads, per step:

* received -> proposed latency p50/p95/p99, from each request's own history timestamps;
* how many were proposed, unmatched or still undecided at the deadline;
* the submit answer's latency (scheduled send -> 202) seen by the clients;
* the backlog at the step's end: intake's and matching's unpublished outbox rows and (production)
  the messages ready in every queue of the vhost;
* CPU-seconds per request of each process (psutil: the process and its children).

"sustained" is the highest rate whose p99 stays under 1 s with every request decided. The
load generator shares the two cores with what it measures, equally in both topologies.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from queue import Empty, SimpleQueue
from urllib.parse import urlsplit

import psutil
import requests
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import DBAPIError

from benchmarks.common import bounded, percentile, ratio
from benchmarks.servers import (
    BIN,
    Process,
    cpu_seconds,
    free_port,
    is_ready,
    rabbitmq_queue_depths,
    register_kamer,
    running,
    running_sink,
    service_env,
    start,
    temporary_database,
    temporary_vhost,
    wait_until,
)
from mienskip_intake.adapters import tables

READY_TIMEOUT = 60.0  # every process answering /readyz
REQUEST_TIMEOUT = 30.0  # one HTTP request of the load
SETTLE_TIMEOUT = 180.0  # every request of a step decided
SETTLE_POLL = 0.25  # seconds between looks at the histories: each look reads them all
KEEP_ALIVE_S = 1.5  # a sender's connection idle longer is opened anew (gunicorn's keep-alive: 2 s)
SENDERS = 96  # threads sending the open-loop load: enough that a slow answer does not delay the next send
TOWNS = (  # kamers in Fryslân's towns (lat, lon): volunteers live within ~5 km of theirs
    ("Leeuwarden", 53.2012, 5.7999), ("Grou", 53.0939, 5.8347), ("Dokkum", 53.3260, 5.9993),
    ("Snits", 53.0326, 5.6589), ("It Hearrenfean", 52.9598, 5.9200), ("Harns", 53.1745, 5.4226),
    ("Drachten", 53.1024, 6.0989), ("Frjentsjer", 53.1874, 5.5406),
)
SKILLS = ("shopping", "buddy", "transport", "pets", "odd_jobs", "paperwork", "digital", "garden")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DECIDED = ("proposed", "unmatched")


# -- the population and the load ---------------------------------------------------------

@dataclass
class Kamer:
    id: str
    token: str
    lat: float
    lon: float


def register_volunteers(base_url: str, kamers: list[Kamer], count: int, rng: random.Random) -> None:
    with requests.Session() as session:
        for n in range(count):
            kamer = kamers[n % len(kamers)]
            answer = session.post(f"{base_url}/v1/volunteers", timeout=REQUEST_TIMEOUT,
                                  headers={"Authorization": f"Bearer {kamer.token}"}, json={
                "name": f"Frijwilliger {n}", "language": "nl",
                "home": {"lat": kamer.lat + rng.uniform(-0.04, 0.04), "lon": kamer.lon + rng.uniform(-0.06, 0.06)},
                "skills": rng.sample(SKILLS, 4), "has_car": rng.random() < 0.6,
                "availability": [{"day": d, "from": "08:00", "to": "20:00"} for d in DAYS],
                "max_tasks_per_week": 10, "max_distance_km": 15})
            if answer.status_code != 201:
                raise RuntimeError(f"registering a volunteer: {answer.status_code} {answer.text[:200]}")


def request_body(kamer: Kamer, rng: random.Random, now: datetime) -> dict:
    """A request within the volunteers' hours, one to 28 days ahead, near its kamer."""
    start = (now + timedelta(days=rng.randint(1, 28))).replace(hour=rng.randint(8, 17), minute=0, second=0,
                                                               microsecond=0)
    category = rng.choice(SKILLS[:6])
    return {"resident": {"name": "Jan Hoekstra", "language": "fy"},
            "location": {"lat": kamer.lat + rng.uniform(-0.03, 0.03), "lon": kamer.lon + rng.uniform(-0.04, 0.04)},
            "category": category, "skills": [category],
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}


@dataclass
class Sent:
    scheduled: float
    answered: float
    status: int | str
    request_id: str | None


@dataclass
class Step:
    rate: int
    seconds: float
    sent: list[Sent] = field(default_factory=list)


def open_loop(base_url: str, kamers: list[Kamer], rate: int, seconds: float, rng: random.Random) -> Step:
    """``rate`` requests a second for ``seconds``, each at its own scheduled moment."""
    step = Step(rate, seconds)
    count = int(rate * seconds)
    now = datetime.now(UTC)
    work: SimpleQueue = SimpleQueue()
    lock = threading.Lock()
    started = time.perf_counter() + 0.2
    for i in range(count):
        kamer = kamers[i % len(kamers)]
        work.put((started + i / rate, kamer.token, json.dumps(request_body(kamer, rng, now))))

    address = urlsplit(base_url)

    def sender() -> None:
        # http.client on one kept-alive connection per sender: a third of requests' CPU per
        # call, and the load generator shares the two cores with what it measures
        connection = HTTPConnection(address.hostname, address.port, timeout=REQUEST_TIMEOUT)
        last_used = time.perf_counter()
        try:
            while True:
                try:
                    scheduled, token, body = work.get_nowait()
                except Empty:
                    return
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if time.perf_counter() - last_used > KEEP_ALIVE_S:
                    connection.close()  # gunicorn closes a connection idle for 2 s: open a new one first
                last_used = time.perf_counter()
                try:
                    connection.request("POST", "/v1/requests", body=body, headers={
                        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                    answer = connection.getresponse()
                    content = answer.read()
                    status, rid = answer.status, json.loads(content).get("id") if answer.status == 202 else None
                except (OSError, HTTPException) as exc:
                    connection.close()  # the next request opens a new one
                    status, rid = type(exc).__name__, None
                with lock:
                    step.sent.append(Sent(scheduled, time.perf_counter(), status, rid))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 10)
    return step


# -- what the system did -------------------------------------------------------------------

def decisions(engine: Engine, request_ids: list[str]) -> dict[str, dict[str, datetime]]:
    """Per request, when it was received and (first) proposed or unmatched, from its history."""
    h = tables.history
    seen: dict[str, dict[str, datetime]] = {}
    for i in range(0, len(request_ids), 500):
        chunk = request_ids[i:i + 500]
        with engine.connect() as conn:
            rows = conn.execute(select(h.c.request_id, h.c.status, h.c.at).where(
                h.c.request_id.in_(chunk), h.c.status.in_(("received", *DECIDED)))).all()
        for rid, status, at in rows:
            times = seen.setdefault(rid, {})
            if status not in times or at < times[status]:
                times[status] = at
    return seen


def known_volunteers(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM matching_volunteers")).scalar_one()


def undecided(engine: Engine, request_ids: list[str]) -> list[str]:
    known = decisions(engine, request_ids)
    return [rid for rid in request_ids if not any(s in known.get(rid, {}) for s in DECIDED)]


def unpublished(engine: Engine) -> dict[str, int]:
    """Outbox rows not yet on the bus, per service (all three keep theirs in one database here)."""
    backlog = {}
    for service in ("intake", "matching", "notify"):
        with contextlib.suppress(DBAPIError), engine.connect() as conn:
            backlog[service] = conn.execute(text(
                f"SELECT count(*) FROM {service}_outbox WHERE published_at IS NULL")).scalar_one()
    return backlog


def summarise(step: Step, engine: Engine, backlog: dict, depths: dict | None,
              cpu_before: dict[str, float], cpu_after: dict[str, float], settle_seconds: float) -> dict:
    accepted = [s.request_id for s in step.sent if s.request_id]
    known = decisions(engine, accepted)
    latencies, proposed, unmatched = [], 0, 0
    for rid in accepted:
        times = known.get(rid, {})
        if "proposed" in times and "received" in times:
            proposed += 1
            latencies.append((times["proposed"] - times["received"]).total_seconds() * 1000)
        elif "unmatched" in times:
            unmatched += 1
    latencies.sort()
    submit_ms = sorted((s.answered - s.scheduled) * 1000 for s in step.sent if s.request_id)
    errors: dict[str, int] = {}
    for s in step.sent:
        if not s.request_id:
            errors[str(s.status)] = errors.get(str(s.status), 0) + 1
    n = max(1, len(accepted))
    return {
        "rate": step.rate, "seconds": step.seconds, "sent": len(step.sent), "accepted": len(accepted),
        "errors": errors, "proposed": proposed, "unmatched": unmatched,
        "undecided": len(accepted) - proposed - unmatched,
        "p50_ms": _ms(percentile(latencies, 0.50)), "p95_ms": _ms(percentile(latencies, 0.95)),
        "p99_ms": _ms(percentile(latencies, 0.99)),
        "submit_p99_ms": _ms(percentile(submit_ms, 0.99)),
        "settle_seconds": round(settle_seconds, 2),
        "backlog_at_end": backlog, "queue_depths_at_end": depths,
        "cpu_ms_per_request": {name: round((cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / n, 2)
                               for name in cpu_after if name != "wall"},
        # how busy the machine's cores were from the step's start until it settled
        "cpu_busy_share": round((cpu_after["machine"] - cpu_before["machine"])
                                / (psutil.cpu_count() * (cpu_after["wall"] - cpu_before["wall"])), 2),
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def sustained(steps: list[dict]) -> int | None:
    """The highest rate whose p99 stayed under 1 s with every accepted request decided."""
    good = [s["rate"] for s in steps
            if s["p99_ms"] is not None and s["p99_ms"] < 1000 and s["undecided"] == 0 and not s["errors"]]
    return max(good) if good else None


# -- the two topologies -------------------------------------------------------------------

@dataclass
class System:
    name: str
    base_url: str
    engine: Engine
    processes: list[Process]
    kamers: list[Kamer]
    vhost: str | None = None


def staircase(system: System, rates: list[int], step_seconds: float, volunteers: int, seed: int) -> dict:
    rng = random.Random(seed)
    wait_until(lambda: is_ready(system.base_url), READY_TIMEOUT, "/readyz 200", system.processes)
    register_volunteers(system.base_url, system.kamers, volunteers, rng)
    # The load starts once matching knows every volunteer: not measuring the registrations' backlog.
    wait_until(lambda: known_volunteers(system.engine) == volunteers, SETTLE_TIMEOUT,
               "matching knowing every volunteer", system.processes)
    steps = []
    for rate in rates:
        before = cpu_seconds(system.processes)
        step = open_loop(system.base_url, system.kamers, rate, step_seconds, rng)
        backlog = unpublished(system.engine)
        depths = rabbitmq_queue_depths(system.vhost) if system.vhost else None
        accepted = [s.request_id for s in step.sent if s.request_id]
        settle_started = time.perf_counter()
        settle = settled(system, accepted) - settle_started
        steps.append(summarise(step, system.engine, backlog, depths, before, cpu_seconds(system.processes), settle))
        print(f"  {system.name} {rate}/s: p99 {steps[-1]['p99_ms']} ms, settled {settle:.1f} s", file=sys.stderr)
    return {"steps": steps, "sustained_rate": sustained(steps)}


def settled(system: System, accepted: list[str]) -> float:
    """When every accepted request was decided, or the deadline: undecided ones are a finding."""
    deadline = time.perf_counter() + SETTLE_TIMEOUT
    pending = accepted
    # Each look reads only the histories still undecided: the system under test is not
    # asked for thousands of finished ones four times a second.
    while (pending := undecided(system.engine, pending)) and time.perf_counter() < deadline:
        if any(p.popen.poll() is not None for p in system.processes):
            raise RuntimeError("a process of the system exited during the run")
        time.sleep(SETTLE_POLL)
    return time.perf_counter()


@contextlib.contextmanager
def production(kamers: int, matching: int, log_dir: Path) -> Iterator[System]:
    with temporary_database() as database_url, temporary_vhost() as broker_url, \
            running_sink("auto", log_dir) as sink:
        env = {**service_env(database_url, broker_url), "MIENSKIP_SMTP_URL": f"smtp://127.0.0.1:{sink.port}"}
        registered = [_kamer(register_kamer(env, f"Buurtkamer {name}", lat, lon, email=f"kamer{n}@example.org"), lat, lon)
                      for n, (name, lat, lon) in enumerate(TOWNS[:kamers])]
        port = free_port()
        processes = [
            start("intake-web", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                 "--threads", "4", "--graceful-timeout", "5", "--no-control-socket",
                                 "mienskip_intake.entrypoints.wsgi:create()"], env, log_dir),
            start("intake-workers", [str(BIN / "mienskip"), "intake", "--no-api"], env, log_dir),
            *[start(f"matching-{n + 1}", [str(BIN / "mienskip"), "matching", "--health-port", str(free_port())],
                    env, log_dir) for n in range(matching)],
            start("notify", [str(BIN / "mienskip"), "notify", "--health-port", str(free_port())], env, log_dir),
        ]
        engine = create_engine(database_url)
        try:
            with running(processes):
                yield System("production", f"http://127.0.0.1:{port}", engine, processes, registered,
                             vhost=broker_url.rsplit("/", 1)[1])
        finally:
            engine.dispose()


@contextlib.contextmanager
def embedded(kamers: int, log_dir: Path) -> Iterator[System]:
    data_dir = log_dir / "embedded"
    env = {key: value for key, value in os.environ.items()
           if key not in ("MIENSKIP_DATABASE_URL", "MIENSKIP_BROKER_URL")}
    env.update(MIENSKIP_DATA_DIR=str(data_dir), MIENSKIP_RATE_LIMIT="100000 per second", MIENSKIP_LOG_LEVEL="WARNING")
    registered = [_kamer(register_kamer(env, f"Buurtkamer {name}", lat, lon, email=f"kamer{n}@example.org"), lat, lon)
                  for n, (name, lat, lon) in enumerate(TOWNS[:kamers])]
    port = free_port()
    processes = [start("embedded", [str(BIN / "mienskip"), "serve", "--port", str(port)], env, log_dir)]
    engine = create_engine(f"sqlite:///{data_dir / 'mienskip.sqlite3'}")
    try:
        with running(processes):
            yield System("embedded", f"http://127.0.0.1:{port}", engine, processes, registered)
    finally:
        engine.dispose()


def _kamer(registered: dict, lat: float, lon: float) -> Kamer:
    return Kamer(registered["id"], registered["token"], lat, lon)


def benchmark(rates: list[int], step_seconds: float, kamers: int, volunteers: int, matching: int,
              topology: str, seed: int) -> dict:
    report: dict = {"rates": rates, "step_seconds": step_seconds, "kamers": kamers, "volunteers": volunteers,
                    "matching_replicas": matching, "started": datetime.now(UTC).isoformat(timespec="seconds"),
                    "load_average_1m_before": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory(prefix="mienskip-pipeline-") as tmp:
        if topology in ("both", "embedded"):
            with embedded(kamers, Path(tmp)) as system:
                report["embedded"] = staircase(system, rates, step_seconds, volunteers, seed)
        if topology in ("both", "production"):
            with production(kamers, matching, Path(tmp)) as system:
                report["production"] = staircase(system, rates, step_seconds, volunteers, seed)
    if "embedded" in report and "production" in report:
        report["p99_ratio_production_to_embedded"] = {
            str(p["rate"]): ratio(p["p99_ms"], e["p99_ms"])
            for p, e in zip(report["production"]["steps"], report["embedded"]["steps"], strict=True)}
    return report


# -- output ----------------------------------------------------------------------------------

def table(report: dict) -> str:
    rows = [f"pipeline: {report['kamers']} kamers, {report['volunteers']} volunteers, "
            f"{report['step_seconds']:g} s per step, {report['matching_replicas']} matching "
            f"(load average before {report['load_average_1m_before']})",
            f"{'topology':<11}{'rate':>6}{'sent':>7}{'prop.':>7}{'unm.':>6}{'undec.':>7}{'p50 ms':>9}"
            f"{'p95 ms':>9}{'p99 ms':>9}{'submit p99':>11}  cpu ms/request"]
    for name in ("embedded", "production"):
        if name not in report:
            continue
        for s in report[name]["steps"]:
            cpu = ", ".join(f"{k} {v:g}" for k, v in s["cpu_ms_per_request"].items())
            cpu += f"; cores busy {s['cpu_busy_share']:.0%}"
            rows.append(f"{name:<11}{s['rate']:>6}{s['sent']:>7}{s['proposed']:>7}{s['unmatched']:>6}"
                        f"{s['undecided']:>7}{_cell(s['p50_ms']):>9}{_cell(s['p95_ms']):>9}{_cell(s['p99_ms']):>9}"
                        f"{_cell(s['submit_p99_ms']):>11}  {cpu}")
        rows.append(f"{name}: sustained (p99 < 1 s, all decided): {report[name]['sustained_rate'] or 'none'} /s")
    if "p99_ratio_production_to_embedded" in report:
        rows.append(f"p99 production / embedded per rate: {report['p99_ratio_production_to_embedded']}")
    return "\n".join(rows)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pipeline", description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="25,50,100,200",
                        type=lambda raw: [bounded(1, 1000, int)(r) for r in raw.split(",")],
                        help="requests per second, one step each (default 25,50,100,200)")
    parser.add_argument("--step-seconds", type=bounded(1, 300, float), default=30.0)
    parser.add_argument("--kamers", type=bounded(1, len(TOWNS), int), default=5)
    parser.add_argument("--volunteers", type=bounded(1, 5000, int), default=600)
    parser.add_argument("--matching", type=bounded(1, 8, int), default=1,
                        help="matching processes (production; one per region pays on two cores, docs/operations.md)")
    parser.add_argument("--topology", choices=("both", "production", "embedded"), default="both")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    report = benchmark(args.rates, args.step_seconds, args.kamers, args.volunteers, args.matching,
                       args.topology, args.seed)
    print(json.dumps(report) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

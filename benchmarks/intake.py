"""Intake throughput: durable submit versus validate-only, in one run, on real servers.

Longer than 400 lines on purpose: one experiment read top to bottom (throw-away servers, load, drain, checks, report); what the
benchmarks share is in ``common.py``.

    .venv/bin/python -m benchmarks.intake [--seconds 10] [--clients 8] [--json]

One run creates a throw-away PostgreSQL database and RabbitMQ vhost, registers a kamer
with the ``mienskip`` command (which also migrates), and starts the production topology
as subprocesses: gunicorn serving the intake API, and ``mienskip intake --no-api`` running
the outbox relay. Against that one server it measures

* **validate-only** -- ``POST /v1/requests/validate``: parsing, auth and validation, no
  write. This is the in-run baseline: figures on this machine move 20-40 % between runs,
  so the ratio of the two phases is what to compare, not the absolute rates;
* **durable submit** -- ``POST /v1/requests``: the same work plus one transaction that
  stores the request and its outbox row;

then waits until the relay has published every outbox row and checks that the database
and the broker both hold exactly one ``request.submitted`` event per 202 answer.

Everything is bounded: the load runs for a fixed time with a fixed number of clients, every
wait has a deadline, and only 127.0.0.1 is contacted. Both throw-away resources are removed
at the end, also when the run fails. The load generator shares the machine's two cores
with the server, so it costs the server some throughput; it does so equally in both phases.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from kombu import Connection, Queue
from sqlalchemy import Engine, create_engine, text

from benchmarks.common import bounded, percentile, ratio
from benchmarks.servers import (
    BIN,
    Process,
    cpu_seconds,
    free_port,
    is_ready,
    register_kamer,
    running,
    service_env,
    start,
    temporary_database,
    temporary_vhost,
    wait_until,
)

SUBMITTED_QUEUE = "matching.intake.request.submitted"  # no consumer runs, so it only fills

# Deadlines (seconds): every wait in this file is bounded by one of these.
READY_TIMEOUT = 30.0  # gunicorn's /readyz, the relay's first round
REQUEST_TIMEOUT = 10.0  # one HTTP request of the load
DRAIN_TIMEOUT = 60.0  # the relay publishing the backlog left after the load
QUEUE_TIMEOUT = 10.0  # the broker's queue depth catching up with the confirms
POLL_INTERVAL = 0.05

MAX_SECONDS = 120
MAX_CLIENTS = 64


# -- load ----------------------------------------------------------------------------------

Sample = tuple[float, float, int | str]  # (sent, answered, status code or exception name)


def request_body() -> bytes:
    """API.md's request, its window three days ahead so it stays valid during the run."""
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    body = {
        "resident": {"name": "Jan Hoekstra", "language": "fy"},
        "location": {"lat": 53.2251, "lon": 5.7530},
        "category": "pets",
        "skills": ["pets"],
        "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()},
    }
    return json.dumps(body).encode()


def client(url: str, body: bytes, headers: dict[str, str], until: float, samples: list[Sample]) -> None:
    """One client: one keep-alive connection, the next request as soon as the last is answered."""
    with requests.Session() as session:
        while (sent := time.perf_counter()) < until:
            try:
                status: int | str = session.post(url, data=body, headers=headers,
                                                 timeout=REQUEST_TIMEOUT).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            samples.append((sent, time.perf_counter(), status))


@dataclass
class Phase:
    """Every answer of one phase; only those inside the measured window count for rates."""

    samples: list[Sample]
    expected: int
    measured_from: float
    measured_until: float
    started: float
    finished: float
    cpu: dict[str, float]  # CPU-seconds of each part over the whole phase, warm-up included

    @property
    def seconds(self) -> float:
        return self.measured_until - self.measured_from

    def measured(self) -> list[Sample]:
        return [s for s in self.samples if self.measured_from <= s[1] <= self.measured_until]

    def statuses(self) -> Counter:
        return Counter(status for _, _, status in self.samples)

    def successes(self) -> int:
        """Expected answers in the whole phase, warm-up included (each 202 is an event)."""
        return self.statuses()[self.expected]

    def summary(self) -> dict:
        measured = self.measured()
        latencies_ms = sorted((answered - sent) * 1000 for sent, answered, _ in measured)
        ok = sum(1 for *_, status in measured if status == self.expected)
        unexpected = {str(k): v for k, v in self.statuses().items() if k != self.expected}
        return {
            "requests_per_s": round(ok / self.seconds, 1),
            "p50_ms": _rounded(percentile(latencies_ms, 0.50)),
            "p95_ms": _rounded(percentile(latencies_ms, 0.95)),
            "errors": sum(unexpected.values()),
            "error_statuses": unexpected,
            "answered": len(self.samples),
            "cpu_ms_per_request": {name: round(seconds * 1000 / len(self.samples), 3)
                                   for name, seconds in self.cpu.items()} if self.samples else {},
        }


def _rounded(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 2)


def run_phase(url: str, body: bytes, headers: dict[str, str], expected: int, processes: list[Process], *,
              clients: int, seconds: float, warmup: float) -> Phase:
    """``clients`` closed-loop clients for ``warmup + seconds``; warm-up answers are not timed.
    CPU is counted over the whole phase and divided by every answer in it."""
    cpu_before = cpu_seconds(processes)
    started = time.perf_counter()
    measured_from = started + warmup
    until = measured_from + seconds
    per_client: list[list[Sample]] = [[] for _ in range(clients)]
    threads = [threading.Thread(target=client, args=(url, body, headers, until, samples), daemon=True)
               for samples in per_client]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + warmup + REQUEST_TIMEOUT + 5)
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError("a load client did not finish")
    samples = [s for client_samples in per_client for s in client_samples]
    cpu_after = cpu_seconds(processes)
    cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after if name != "wall"}
    return Phase(samples, expected, measured_from, until, started, time.perf_counter(), cpu)


# -- what the relay and the broker did ---------------------------------------------------

def unpublished(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM intake_outbox WHERE published_at IS NULL")).scalar_one()


def published_submissions(engine: Engine) -> int:
    """Only ``request.submitted``: the outbox also holds the kamer's ``kamer.registered``."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM intake_outbox "
            "WHERE published_at IS NOT NULL AND event_type = 'request.submitted'")).scalar_one()


def queue_depth(broker_url: str) -> int:
    """Messages ready in matching's queue, by a passive declare that creates nothing."""
    with Connection(broker_url, connect_timeout=5) as conn:
        return Queue(SUBMITTED_QUEUE, channel=conn.default_channel).queue_declare(passive=True).message_count


def drain(engine: Engine, submit: Phase, processes: list[Process]) -> dict:
    """Time from the last answer of the submit phase until the outbox is empty.

    ``events_per_s`` is end to end: events over the time from the phase's first request
    to the last event's publication, so it shows whether the relay kept pace with intake.
    """
    backlog = unpublished(engine)
    wait_until(lambda: unpublished(engine) == 0, DRAIN_TIMEOUT, "empty outbox", processes)
    drained_at = time.perf_counter()
    events = published_submissions(engine)
    return {
        "events": events,
        "backlog_at_end": backlog,
        "drain_seconds": round(drained_at - submit.finished, 3),
        "events_per_s": round(events / (drained_at - submit.started), 1),
    }


def settled_queue_depth(broker_url: str, expected: int) -> int:
    """The depth once it reaches ``expected``, or the last depth seen at the deadline.

    Not a failure at the deadline: a wrong depth is a finding, reported by the checks.
    """
    depth = queue_depth(broker_url)
    deadline = time.perf_counter() + QUEUE_TIMEOUT
    while depth != expected and time.perf_counter() < deadline:
        time.sleep(POLL_INTERVAL)
        depth = queue_depth(broker_url)
    return depth


# -- the run ---------------------------------------------------------------------------------

def benchmark(clients: int, seconds: float, warmup: float) -> dict:
    with temporary_database() as database_url, temporary_vhost() as broker_url, \
            tempfile.TemporaryDirectory(prefix="mienskip-bench-") as log_dir:
        env = service_env(database_url, broker_url)
        token = register_kamer(env)["token"]
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        processes = intake_processes("mienskip_intake.entrypoints.wsgi:create()", port, env, Path(log_dir))
        engine = create_engine(database_url)
        try:
            with running(processes):
                return measure(base_url, token, engine, broker_url, processes,
                               clients=clients, seconds=seconds, warmup=warmup)
        finally:
            engine.dispose()


def intake_processes(app: str, port: int, env: dict[str, str], log_dir: Path, *extra: str) -> list[Process]:
    """intake as deployed: gunicorn (2 workers x 4 threads) serving ``app``, and the relay in a
    process of its own (``mienskip intake --no-api``)."""
    return [
        # --no-control-socket: gunicorn 27's default socket path is per user, shared with any
        # other gunicorn on the machine (a test run's, say); ours must not take it over.
        start("gunicorn", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
                           "--graceful-timeout", "5", "--no-control-socket", *extra, app], env, log_dir),
        start("relay", [str(BIN / "mienskip"), "intake", "--no-api"], env, log_dir),
    ]


def measure(base_url: str, token: str, engine: Engine, broker_url: str, processes: list[Process], *,
            clients: int, seconds: float, warmup: float) -> dict:
    wait_until(lambda: is_ready(base_url), READY_TIMEOUT, "/readyz 200", processes)
    # The relay is up once it has published the kamer's own event: start from an empty outbox.
    wait_until(lambda: unpublished(engine) == 0, READY_TIMEOUT, "relay's first round", processes)

    body = request_body()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    load = {"clients": clients, "seconds": seconds, "warmup": warmup}
    validate = run_phase(f"{base_url}/v1/requests/validate", body, headers, 200, processes, **load)
    submit = run_phase(f"{base_url}/v1/requests", body, headers, 202, processes, **load)

    accepted = submit.successes()
    relay = drain(engine, submit, processes)
    depth = settled_queue_depth(broker_url, accepted)
    validate_only, durable_submit = validate.summary(), submit.summary()
    return {
        "clients": clients,
        "seconds": seconds,
        "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews both phases
        "validate_only": validate_only,
        "durable_submit": durable_submit,
        "ratio_submit_to_validate": ratio(durable_submit["requests_per_s"], validate_only["requests_per_s"]),
        "relay": relay,
        "queue_depth": depth,
        "accepted": accepted,
        "checks": {
            "no_errors": validate_only["errors"] == 0 and durable_submit["errors"] == 0,
            "published_equals_accepted": relay["events"] == accepted,
            "queue_depth_equals_accepted": depth == accepted,
        },
    }


# -- output ------------------------------------------------------------------------------------

def table(report: dict) -> str:
    rows = [f"intake, {report['clients']} clients, {report['seconds']:g} s per phase "
            f"(load average {report['load_average_1m']})",
            f"{'phase':<16}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}"]
    for name in ("validate_only", "durable_submit"):
        phase = report[name]
        rows.append(f"{name:<16}{phase['requests_per_s']:>10.1f}{phase['p50_ms'] or 0:>10.2f}"
                    f"{phase['p95_ms'] or 0:>10.2f}{phase['errors']:>8}")
    rows.append("CPU ms per request: " + "; ".join(
        f"{name} " + ", ".join(f"{part} {ms:.2f}" for part, ms in report[name]["cpu_ms_per_request"].items())
        for name in ("validate_only", "durable_submit")))
    relay = report["relay"]
    rows += [
        f"submit / validate: {report['ratio_submit_to_validate']}",
        f"relay: {relay['events']} events, backlog {relay['backlog_at_end']} at end of load, "
        f"drained {relay['drain_seconds']:.2f} s later, {relay['events_per_s']:.1f} events/s end to end",
        f"accepted (202): {report['accepted']}, queue depth: {report['queue_depth']}",
        "checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}" for k, v in report["checks"].items()),
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.intake", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=bounded(1, MAX_SECONDS, float), default=10.0,
                        help="measured seconds per phase (default 10)")
    parser.add_argument("--clients", type=bounded(1, MAX_CLIENTS, int), default=8,
                        help="concurrent keep-alive clients (default 8)")
    parser.add_argument("--warmup", type=bounded(0, 10, float), default=1.0,
                        help="seconds of load per phase before timing starts (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    # SIGTERM as an exception, so the finally blocks still stop the servers and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    report = benchmark(args.clients, args.seconds, args.warmup)
    print(json.dumps(report) if args.json else table(report))
    return 0 if all(report["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

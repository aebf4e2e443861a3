"""The floor under intake's ratio: a durable submit that keeps only the promise of a 202
(the request stored with its event, in one transaction, then relayed with confirms),
against validate-only on the same server in the same run.

    .venv/bin/python -m benchmarks.intake_floor [--seconds 10] [--clients 8] [--json]

``benchmarks.intake`` measures ``POST /v1/requests`` against ``POST /v1/requests/validate``.
This runs the same server (gunicorn 2 workers x 4 threads, the relay as
``mienskip intake --no-api``, the same load generator and body) with one more route,
``POST /v1/floor/requests``, mounted by this module's ``create()`` for the run only: the
same authentication, rate limiter, body checks and placing as the real submit, then one unit
of work that stores the request row and its ``request.submitted`` (built by ``new_event``,
so validated) and commits. What it leaves out, and the real submit does: the kamer's row
read, the request's first history entry, the audit row, ``contact.resident`` for notify, the
idempotency key and the recurrence checks. Three phases: validate-only, the real durable
submit, the floor. A target for intake's ratio can then be weighed against what storing
anything at all costs here. Checks: no errors, and every 202 of both durable phases
published. About a minute.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path

from flask import Blueprint, g, request
from sqlalchemy import create_engine

from benchmarks.common import ratio
from benchmarks.intake import (
    READY_TIMEOUT,
    drain,
    intake_processes,
    is_ready,
    request_body,
    run_phase,
    unpublished,
)
from benchmarks.servers import (
    free_port,
    register_kamer,
    running,
    service_env,
    temporary_database,
    temporary_vhost,
    wait_until,
)
from mienskip_intake.adapters.repository import IntakeUnitOfWork
from mienskip_intake.bootstrap import build
from mienskip_intake.domain.model import HelpRequest, Status
from mienskip_intake.entrypoints.schemas import RequestSchema
from mienskip_intake.service_layer import geocoding
from mienskip_intake.service_layer.common import new_id
from mienskip_intake.service_layer.handlers import submitted_event
from mienskip_intake.settings import Settings
from mienskip_shared.clock import utcnow
from mienskip_shared.logging import configure_logging
from mienskip_shared.workers import Wakeup

FLOOR_PATH = "/v1/floor/requests"


def create():
    """intake's WSGI app as ``wsgi.create()`` builds it, plus the floor's route."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_json, service="intake")
    service = build(settings, with_workers=False)
    app, engine, wakeup, schema = service.wsgi_app, service.engine, Wakeup(), RequestSchema()
    floor = Blueprint("floor", __name__, url_prefix="/v1/floor")

    @floor.post("/requests")
    def submit():
        data = schema.load(request.get_json())
        principal, window, stamp = g.principal, data["window"], utcnow()
        placed = geocoding.place(data, None)
        stored = HelpRequest(
            id=new_id(), kamer_id=principal.kamer_id, region=principal.region,
            resident_name=data["resident"].get("name"), resident_phone=None, resident_email=None,
            resident_language=data["resident"].get("language") or "nl", resident_address=placed.address_text,
            lat=placed.lat, lon=placed.lon, location_precision=placed.precision.value, exact_lookup=False,
            category=data["category"], skills=[data["category"]], needs_vog=False, needs_language=None,
            window_start=window["start"], window_end=window["end"], recurrence=None, follows=None,
            urgency="normal", notes=None, status=Status.RECEIVED.value, created_at=stamp, updated_at=stamp,
            helper="volunteer")
        with IntakeUnitOfWork(engine, wakeup) as uow:
            uow.requests.add(stored)
            uow.publish_all([submitted_event(stored, stored.id)])
            uow.commit()
        return {"id": stored.id, "status": Status.RECEIVED.value}, 202

    app.extensions["csrf"].exempt(floor)  # token-authenticated, as /v1 is
    app.register_blueprint(floor)
    return app


def benchmark(clients: int, seconds: float, warmup: float) -> dict:
    repo = str(Path(__file__).resolve().parents[1])
    with temporary_database() as database_url, temporary_vhost() as broker_url, \
            tempfile.TemporaryDirectory(prefix="mienskip-bench-") as log_dir:
        env = service_env(database_url, broker_url)
        env["PYTHONPATH"] = repo + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        token = register_kamer(env)["token"]
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        processes = intake_processes("benchmarks.intake_floor:create()", port, env, Path(log_dir), "--chdir", repo)
        engine = create_engine(database_url)
        try:
            with running(processes):
                wait_until(lambda: is_ready(base_url), READY_TIMEOUT, "/readyz 200", processes)
                wait_until(lambda: unpublished(engine) == 0, READY_TIMEOUT, "relay's first round", processes)
                body, load = request_body(), {"clients": clients, "seconds": seconds, "warmup": warmup}
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                phases, accepted = {}, 0
                for name, path, expected in (("validate_only", "/v1/requests/validate", 200),
                                             ("durable_submit", "/v1/requests", 202),
                                             ("floor_submit", FLOOR_PATH, 202)):
                    phase = run_phase(base_url + path, body, headers, expected, processes, **load)
                    phases[name] = phase.summary()
                    if expected == 202:  # the relay published every request.submitted of the run so far
                        accepted += phase.successes()
                        relayed = drain(engine, phase, processes)
                        phases[name]["all_published"] = relayed["events"] == accepted
        finally:
            engine.dispose()
    validate = phases["validate_only"]["requests_per_s"]
    return {
        "clients": clients, "seconds": seconds, **phases,
        "ratio_submit_to_validate": ratio(phases["durable_submit"]["requests_per_s"], validate),
        "ratio_floor_to_validate": ratio(phases["floor_submit"]["requests_per_s"], validate),
        "checks": {
            "no_errors": all(p["errors"] == 0 for p in phases.values()),
            "every_202_published": all(phases[n]["all_published"] for n in ("durable_submit", "floor_submit")),
        },
    }


def table(report: dict) -> str:
    lines = [f"intake's floor, {report['clients']} clients, {report['seconds']} s per phase",
             f"{'phase':<16}{'req/s':>9}{'p50 ms':>9}  CPU ms per request"]
    for name in ("validate_only", "durable_submit", "floor_submit"):
        phase = report[name]
        cpu = ", ".join(f"{k} {v}" for k, v in phase["cpu_ms_per_request"].items())
        lines.append(f"{name:<16}{phase['requests_per_s']:>9.1f}{phase['p50_ms'] or 0:>9.2f}  {cpu}")
    lines += [f"durable / validate: {report['ratio_submit_to_validate']}; "
              f"floor / validate: {report['ratio_floor_to_validate']}",
              "checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}" for k, v in report["checks"].items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.intake_floor", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))  # the finally blocks still clean up
    report = benchmark(args.clients, args.seconds, args.warmup)
    print(json.dumps(report) if args.json else table(report))
    return 0 if all(report["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

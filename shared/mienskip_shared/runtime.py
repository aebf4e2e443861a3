"""Running a service's workers (consumers, relays) in threads until told to stop, and
stopping a child process gracefully.

Also the small HTTP server that worker-only processes use for ``/healthz`` (the
process is up), ``/readyz`` (database and broker reachable) and ``/metrics``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections.abc import Callable, Iterable
from typing import Protocol
from wsgiref.simple_server import WSGIRequestHandler, make_server

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine

from .db import ping

log = structlog.get_logger(__name__)


class Worker(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None: ...


ReadinessCheck = Callable[[], dict[str, str]]


def readiness(engine: Engine, broker_connection_factory) -> dict[str, str]:
    """``{"database": "ok" | error, "broker": "ok" | error}``."""
    checks: dict[str, str] = {}
    try:
        ping(engine)
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 -- reported, not raised: this is the health answer
        checks["database"] = f"unavailable: {type(exc).__name__}"
    conn = broker_connection_factory()
    try:
        conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001 -- as above
        checks["broker"] = f"unavailable: {type(exc).__name__}"
    finally:
        conn.release()
    return checks


def start_workers(workers: Iterable[Worker], stop: threading.Event) -> list[threading.Thread]:
    threads = []
    for worker in workers:
        thread = threading.Thread(target=_guarded, args=(worker, stop), name=worker.name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def _guarded(worker: Worker, stop: threading.Event) -> None:
    try:
        worker.run(stop)
    except Exception:
        # A worker that dies takes the process down, so a supervisor restarts it whole.
        log.exception("worker.crashed", worker=worker.name)
        stop.set()


def stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


def stop_process(process: subprocess.Popen, timeout_s: float = 15.0) -> None:
    """SIGTERM, so the child finishes what it is doing (a request, a relay round); SIGKILL
    if it is still there after ``timeout_s``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout_s)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def health_app(check: ReadinessCheck):
    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            status, body, ctype = "200 OK", json.dumps({"status": "ok"}), "application/json"
        elif path == "/readyz":
            checks = check()
            ok = all(v == "ok" for v in checks.values())
            status = "200 OK" if ok else "503 Service Unavailable"
            body, ctype = json.dumps({"status": "ok" if ok else "unavailable", "checks": checks}), "application/json"
        elif path == "/metrics":
            status, body, ctype = "200 OK", generate_latest().decode(), CONTENT_TYPE_LATEST
        else:
            status, body, ctype = "404 Not Found", json.dumps({"code": "not_found"}), "application/json"
        start_response(status, [("Content-Type", ctype)])
        return [body.encode()]

    return app


class HealthServer:
    """``/healthz``, ``/readyz`` and ``/metrics`` for a process without its own web app."""

    def __init__(self, host: str, port: int, check: ReadinessCheck):
        self.name = "health-server"
        self._server = make_server(host, port, health_app(check), handler_class=_QuietHandler)
        self.port = self._server.server_port

    def run(self, stop: threading.Event) -> None:
        threading.Thread(target=lambda: (stop.wait(), self._server.shutdown()), daemon=True).start()
        self._server.serve_forever(poll_interval=0.5)


class Service:
    """What a service's ``bootstrap.build(settings)`` hands to whoever runs it.

    ``workers`` are the long-running loops (consumers, outbox relay); ``wsgi_app`` is
    the HTTP app for services that have one; ``check_ready`` backs ``/readyz``.
    """

    def __init__(self, name: str, engine: Engine, workers: list[Worker], check_ready: ReadinessCheck,
                 wsgi_app=None):
        self.name = name
        self.engine = engine
        self.workers = workers
        self.check_ready = check_ready
        self.wsgi_app = wsgi_app

    def dispose(self) -> None:
        self.engine.dispose()

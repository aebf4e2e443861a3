"""One log line per HTTP call, and the correlation id that ties it to what follows.

Each call gets a ``correlation_id``: the caller's ``X-Correlation-Id`` when it sends a
usable one, else a new uuid. It is bound to every log line of the call (structlog
contextvars) and sent back in the answer's ``X-Correlation-Id``. A caller who names
one also finds it on the events the call causes (the kamer can follow its request
through matching and notify); without one, a request's events are correlated by the
request's id, as every service's logs already are.

Log lines carry ids only: never names, phones, addresses or notes (STYLE.md, rule 12),
and never a volunteer link's token (the route's pattern is logged, not the path).
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from flask import Flask, Response, g, request

HEADER = "X-Correlation-Id"
USABLE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")  # fits the outbox column; nothing to inject into a log
IDS = ("request_id", "assignment_id", "volunteer_id", "kamer_id")

log = structlog.get_logger(__name__)


def caller_correlation_id() -> str | None:
    """The correlation id the caller sent, if usable; None if this call made its own."""
    return g.get("caller_correlation_id")


def log_http_calls(app: Flask) -> None:
    @app.before_request
    def _bind() -> None:
        sent = request.headers.get(HEADER, "")
        g.caller_correlation_id = sent if USABLE.match(sent) else None
        g.correlation_id = g.caller_correlation_id or str(uuid.uuid4())
        g.started = time.perf_counter()
        structlog.contextvars.bind_contextvars(correlation_id=g.correlation_id)

    @app.after_request
    def _log(response: Response) -> Response:
        response.headers.setdefault(HEADER, g.get("correlation_id", ""))
        ids = {name: value for name, value in (request.view_args or {}).items() if name in IDS}
        if g.get("request_id"):
            ids.setdefault("request_id", g.request_id)  # the one just submitted
        log.info("http.request", method=request.method,
                 path=request.url_rule.rule if request.url_rule else "(no route)", status=response.status_code,
                 duration_ms=round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
                 principal=g.principal.actor if g.get("principal") else None, **ids)
        return response

    @app.teardown_request
    def _unbind(_exc) -> None:
        structlog.contextvars.unbind_contextvars("correlation_id")

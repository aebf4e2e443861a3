"""Structured logs: one JSON (or console) line per event, with the correlation id.

Never log names, phone numbers, addresses or notes: ids only (STYLE.md, rule 12).
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog


def configure_logging(level: str = "INFO", json: bool = False, service: str | None = None,
                      stream: TextIO | None = None) -> None:
    """Structured logs to ``stream`` (stderr unless given; the demo writes a file)."""
    stream = stream or sys.stderr
    processors = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    if service:
        structlog.contextvars.bind_contextvars(service=service)
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level.upper(), stream=stream, format="%(levelname)s %(name)s %(message)s", force=True)
    for noisy in ("amqp", "kombu", "werkzeug", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

"""What intake's worker process tells Prometheus beyond the shared counters: how long the
oldest proposal has waited for an answer (deploy/kubernetes/base/alerts.yaml,
``MienskipProposalUnanswered``).

A proposal waits for the kamer's review while its assignment is ``proposed``, then for the
volunteer's answer while it is ``approved``; the age counts from when it entered that
status (the row's ``updated_at``). 0 when nothing waits. Ids and counts only: no personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from prometheus_client import Gauge
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from mienskip_shared.clock import as_utc, utcnow
from mienskip_shared.workers import PollingWorker

from ..adapters import tables
from ..domain.model import AssignmentStatus

WAITING_FOR = {AssignmentStatus.PROPOSED: "kamer", AssignmentStatus.APPROVED: "volunteer"}

OLDEST_UNANSWERED = Gauge("mienskip_oldest_unanswered_proposal_seconds",
                          "Age of the oldest proposal waiting for the kamer's review or the volunteer's answer",
                          ["waiting_for"])


def oldest_unanswered(conn: Connection, now: datetime) -> dict[str, float]:
    """``{"kamer": seconds, "volunteer": seconds}``: the oldest wait of each, 0 for none."""
    a = tables.assignments
    rows = conn.execute(select(a.c.status, func.min(a.c.updated_at))
                        .where(a.c.status.in_([str(s) for s in WAITING_FOR])).group_by(a.c.status)).all()
    ages = dict.fromkeys(WAITING_FOR.values(), 0.0)
    for status, since in rows:
        ages[WAITING_FOR[AssignmentStatus(status)]] = max(0.0, (now - as_utc(since)).total_seconds())
    return ages


def proposal_age_worker(engine: Engine, clock: Callable[[], datetime] = utcnow,
                        every: timedelta = timedelta(minutes=1)) -> PollingWorker:
    """Sets :data:`OLDEST_UNANSWERED` once a minute: one grouped query, no rows read out."""
    def step() -> bool:
        with engine.connect() as conn:
            for waiting_for, age in oldest_unanswered(conn, clock()).items():
                OLDEST_UNANSWERED.labels(waiting_for).set(age)
        return False

    return PollingWorker("intake-proposal-age", step, idle_s=every.total_seconds(), max_backoff_s=600)

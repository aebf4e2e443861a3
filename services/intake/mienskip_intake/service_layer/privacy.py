"""AVG/GDPR duties: erasure on request, retention, and the audit log people can read.

Erasure removes what identifies a person and keeps what the region needs to learn
from (category, dates, outcome, a location rounded to about 100 m). It is recorded in
the audit log, and ``personal_data.erased`` tells matching and notify to remove
what they hold about the same person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.engine import Connection

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import new_event
from mienskip_shared.messaging import add_to_outbox
from mienskip_shared.workers import PollingWorker

from ..adapters import tables as t
from ..domain.model import COARSE_DECIMALS, Principal, Role, Status
from . import workflow
from .common import SYSTEM, NotFound, audit

CLOSED = (Status.CANCELLED.value, Status.COMPLETED.value)


def _announce(tx: Connection, kind: str, subject_id: str, kamer_id: str, reason: str) -> None:
    add_to_outbox(tx, t.outbox, new_event("personal_data.erased", {
        "subject_kind": kind, "subject_id": subject_id, "kamer_id": kamer_id, "reason": reason,
    }, correlation_id=subject_id, kamer_id=kamer_id))


def _erase_request(tx: Connection, row, by: Principal, reason: str) -> None:
    stamp = utcnow()
    tx.execute(update(t.requests).where(t.requests.c.id == row.id).values(
        resident_name=None, resident_phone=None, resident_address=None, notes=None,
        lat=round(row.lat, COARSE_DECIMALS), lon=round(row.lon, COARSE_DECIMALS),
        erased_at=stamp, updated_at=stamp))
    # Staff notes in the history may name the person; the steps themselves stay.
    tx.execute(update(t.history).where(t.history.c.request_id == row.id).values(note=None))
    audit(tx, by, f"erase:{reason}", "request", row.id)
    _announce(tx, "resident", row.id, row.kamer_id, reason)


def erase_resident(engine: Engine, request_id: str, by: Principal = SYSTEM) -> None:
    """Erase the resident of a request (residents are known to intake by their request)."""
    with engine.begin() as tx:
        row = tx.execute(select(t.requests).where(t.requests.c.id == request_id)).first()
        if row is None:
            raise NotFound(request_id)
        if row.erased_at is None:
            _erase_request(tx, row, by, "request")


def erase_volunteer(engine: Engine, volunteer_id: str, by: Principal = SYSTEM) -> None:
    """Erase a volunteer: they are no longer matched, and nothing identifies them.

    Their open assignments (proposed, approved, accepted) end in the same transaction,
    as if they had declined: each request is matched again without them, or, when the
    task is within 48 hours, becomes urgent for the coordinator (see
    :func:`workflow.release_volunteer_in`). Erasing again ends only what is still open
    (a proposal matching made before it heard of the erasure, say): usually nothing.
    """
    with engine.begin() as tx:
        # Locked: of two erasures at once, the second waits and then finds it done.
        row = tx.execute(select(t.volunteers).where(t.volunteers.c.id == volunteer_id)
                         .with_for_update()).first()
        if row is None:
            raise NotFound(volunteer_id)
        workflow.release_volunteer_in(tx, volunteer_id, by)
        if row.erased_at is not None:
            return
        stamp = utcnow()
        tx.execute(update(t.volunteers).where(t.volunteers.c.id == volunteer_id).values(
            name="", email=None, phone=None, vog_checked_on=None,
            home_lat=round(row.home_lat, COARSE_DECIMALS), home_lon=round(row.home_lon, COARSE_DECIMALS),
            erased_at=stamp))
        audit(tx, by, "erase:request", "volunteer", volunteer_id)
        _announce(tx, "volunteer", volunteer_id, row.kamer_id, "request")


def apply_retention(engine: Engine, keep_for: timedelta, *, at: datetime | None = None, batch: int = 500) -> int:
    """Anonymise requests closed (or whose task ended) longer than ``keep_for`` ago.

    Returns how many were anonymised; call repeatedly until it returns 0.
    """
    cutoff = (at or utcnow()) - keep_for
    r = t.requests
    due = (select(r).where(r.c.erased_at.is_(None),
                           or_(r.c.status.in_(CLOSED) & (r.c.updated_at < cutoff), r.c.window_end < cutoff))
           .order_by(r.c.updated_at).limit(batch).with_for_update(skip_locked=True))  # replicas share
    with engine.begin() as tx:
        rows = tx.execute(due).all()
        for row in rows:
            _erase_request(tx, row, SYSTEM, "retention")
    return len(rows)


def retention_worker(engine: Engine, keep_for: timedelta, every: timedelta = timedelta(days=1)) -> PollingWorker:
    """Applies retention now and then (daily by default), a batch a round."""
    return PollingWorker("intake-retention", lambda: apply_retention(engine, keep_for) > 0,
                         idle_s=every.total_seconds(), max_backoff_s=600)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    role: str
    token_id: str
    token_label: str | None
    action: str
    subject_kind: str
    subject_id: str


def audit_entries(engine: Engine, principal: Principal, *, subject_id: str | None = None,
                  limit: int = 100) -> list[AuditEntry]:
    """Who read or changed personal data, newest first: a coordinator sees their region's."""
    if principal.role is not Role.COORDINATOR:
        raise PermissionError("the audit log is for coordinators")
    a = t.audit_log
    region = principal.region
    in_region = or_(
        a.c.subject_id.in_(select(t.requests.c.id).where(t.requests.c.region == region)),
        a.c.subject_id.in_(select(t.volunteers.c.id).where(t.volunteers.c.region == region)),
        a.c.subject_id.in_(select(t.kamers.c.id).where(t.kamers.c.region == region)),
        a.c.subject_id.in_(select(t.assignments.c.id).join(t.requests, t.requests.c.id == t.assignments.c.request_id)
                           .where(t.requests.c.region == region)),
    )
    query = (select(a, t.tokens.c.label).outerjoin(t.tokens, t.tokens.c.id == a.c.token_id)
             .order_by(a.c.id.desc()).limit(limit))
    if region is not None:
        query = query.where(in_region)
    if subject_id is not None:
        query = query.where(a.c.subject_id == subject_id)
    with engine.begin() as tx:
        rows = tx.execute(query).all()
    return [AuditEntry(r.at, r.role, r.token_id, r.label, r.action, r.subject_kind, r.subject_id) for r in rows]

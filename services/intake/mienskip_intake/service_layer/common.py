"""What every intake use case shares: errors, clock, history and audit entries."""

from __future__ import annotations

import uuid

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from mienskip_shared.clock import utcnow

from ..adapters import tables as t
from ..domain.model import Principal, Role, Status

SYSTEM = Principal(token_id="system", role=Role.OPERATOR)  # what intake does by itself (erasure, retention)


class NotFound(Exception):
    """Missing, or not the caller's: the two must look the same (API.md, 404)."""


class Conflict(Exception):
    """The record's state does not allow this (API.md, 409)."""


def new_id() -> str:
    return str(uuid.uuid4())


def audit(tx: Connection, principal: Principal, action: str, kind: str, subject_id: str) -> None:
    """Who read or changed which personal record, and when (AVG: accountability)."""
    tx.execute(insert(t.audit_log).values(at=utcnow(), token_id=principal.token_id, role=principal.role.value,
                                          action=action, subject_kind=kind, subject_id=subject_id))


def record_history(tx: Connection, request_id: str, status: Status | None, actor: str, note: str | None) -> None:
    tx.execute(insert(t.history).values(request_id=request_id, at=utcnow(),
                                        status=status.value if status else None, actor=actor, note=note))

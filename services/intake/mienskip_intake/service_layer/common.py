"""What every intake use case shares: errors, clock, history and audit entries."""

from __future__ import annotations

import uuid
from typing import Any

from mienskip_shared.clock import utcnow

from ..domain.model import HistoryEntry, IllegalTransition, Note, Principal, Role, Status
from .unit_of_work import UnitOfWork

SYSTEM = Principal(token_id="system", role=Role.OPERATOR)  # what intake does by itself (erasure, retention)


class NotFound(Exception):
    """Missing, or not the caller's: the two must look the same (API.md, 404)."""


class Conflict(Exception):
    """The record's state does not allow this (API.md, 409). ``code`` and ``params`` say
    why, for words in the reader's language at the edge (``conflict.<code>``); the message
    is for logs."""

    def __init__(self, code: str, message: str, **params: Any):
        super().__init__(message)
        self.code, self.params = code, params

    @classmethod
    def transition(cls, exc: IllegalTransition) -> Conflict:
        return cls("transition", str(exc), current=exc.current.value, wanted=exc.wanted.value)


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise PermissionError(f"{principal.role} may not do this")


def new_id() -> str:
    return str(uuid.uuid4())


def audit(uow: UnitOfWork, principal: Principal, action: str, kind: str, subject_id: str) -> None:
    """Who read or changed which personal record, and when (AVG: accountability)."""
    uow.audit.record(principal, action, kind, subject_id, utcnow())


def record_history(uow: UnitOfWork, request_id: str, status: Status | None, actor: str, note: str | None = None,
                   code: Note | None = None, **params: Any) -> None:
    """A step (``status``) or a note in the request's story: ``note`` is free text a person
    typed; what intake says goes as a ``code`` with ``params`` (codes, ids and counts only:
    they survive erasure), worded where it is read."""
    uow.requests.record(history_entry(request_id, status, actor, note, code, **params))


def history_entry(request_id: str, status: Status | None, actor: str, note: str | None = None,
                  code: Note | None = None, **params: Any) -> HistoryEntry:
    """What :func:`record_history` records; for many at once (``uow.requests.record_all``)."""
    return HistoryEntry(request_id=request_id, at=utcnow(), status=status.value if status else None, actor=actor,
                        note=note, note_code=code.value if code else None, note_params=params or None)

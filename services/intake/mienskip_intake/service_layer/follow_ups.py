"""The resident's follow-up page (``/f/<token>``, issue 17): the question about one request
and its first answer. The signed link (``mienskip_shared.links``, prefix ``fl1``) names
the request and the assignment it asks about; a link whose assignment is not that
request's finds nothing. A "no" or "more" is noted in the request's history and waits on
the kamer's attention list (``adapters.waiting``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.follow_ups import Answer, FollowUp, clean_text
from ..domain.model import HelpRequest, Note, first_name_or_dash
from .common import record_history
from .unit_of_work import UnitOfWork

RESIDENT = "resident:follow-up"  # how the history names who answered: never a name


def _asked(uow: UnitOfWork, request_id: str, assignment_id: str, *, lock: bool = False) -> HelpRequest | None:
    request = uow.requests.get(request_id, lock=lock)
    assignment = uow.requests.assignment(assignment_id)
    if request is None or request.erased_at is not None or assignment is None or assignment.request_id != request.id:
        return None
    return request


def question(request_id: str, assignment_id: str, uow: UnitOfWork) -> dict[str, Any] | None:
    """What the page shows: the task asked about, the kamer to call, and the first
    answer if there is one; None for a link that names no such pair."""
    with uow:
        request = _asked(uow, request_id, assignment_id)
        if request is None:
            return None
        kamer = uow.kamers.get(request.kamer_id)
        answered = uow.follow_ups.get(request.id)
    return {"request_id": request.id, "category": request.category, "window_start": request.window_start,
            "window_end": request.window_end, "first_name": first_name_or_dash(request.resident_name),
            "language": request.resident_language, "kamer_name": kamer.name if kamer else None,
            "kamer_phone": kamer.phone if kamer else None, "answered": answered}


def answer(request_id: str, assignment_id: str, given: Answer, text: str | None, uow: UnitOfWork,
           now: datetime) -> FollowUp | None:
    """Store the resident's answer, once: a second answer changes nothing and returns the
    first. None for a link that names no such pair."""
    with uow:
        request = _asked(uow, request_id, assignment_id, lock=True)  # two answers at once: one waits
        if request is None:
            return None
        first = uow.follow_ups.get(request.id)
        if first is not None:
            return first
        follow_up = FollowUp(request.id, assignment_id, request.kamer_id, given.value, clean_text(text), now)
        uow.follow_ups.add(follow_up)
        if follow_up.needs_the_kamer:
            record_history(uow, request.id, None, RESIDENT, code=Note.FOLLOW_UP_ANSWERED, answer=given.value)
        uow.commit()
    return follow_up

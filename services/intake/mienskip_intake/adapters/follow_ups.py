"""The residents' follow-up answers (``intake_follow_ups``), one per request."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import Connection

from ..domain.follow_ups import FollowUp
from . import tables as t


class FollowUpRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, request_id: str) -> FollowUp | None:
        row = self.conn.execute(select(t.follow_ups).where(t.follow_ups.c.request_id == request_id)).first()
        return None if row is None else FollowUp(**row._mapping)

    def add(self, answer: FollowUp) -> None:
        self.conn.execute(insert(t.follow_ups).values(
            request_id=answer.request_id, assignment_id=answer.assignment_id, kamer_id=answer.kamer_id,
            answer=answer.answer, text=answer.text, answered_at=answer.answered_at))


def answer_to(engine: Engine, request_id: str) -> FollowUp | None:
    """The resident's answer about this request, for the request page (its caller has
    checked the reader may see the request)."""
    with engine.begin() as tx:
        return FollowUpRepository(tx).get(request_id)

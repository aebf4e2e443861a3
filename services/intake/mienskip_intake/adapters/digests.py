"""The weekly digest's store: one claim per (region, week), and the region's coordinators."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..domain.accounts import PersonRole
from . import tables as t


class DigestRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def claim(self, region: str, week: date, at: datetime, digests: int) -> bool:
        """True if this transaction took the week's digest of ``region``; False if another
        did (it waits for that one to commit or roll back). Call it before anything else
        in the transaction: on False, roll back."""
        try:
            self.conn.execute(insert(t.digest_runs).values(region=region, week=week, claimed_at=at, digests=digests))
        except IntegrityError:
            return False
        return True

    def coordinators(self, region: str) -> list[tuple[str, str]]:
        """``(email, language)`` of each active coordinator of ``region`` (or of every
        region) who has set a password. People have no language of their own yet: the
        region's kamers' most common one."""
        u, k = t.users, t.kamers
        people = self.conn.execute(select(u.c.email).where(
            u.c.role == PersonRole.COORDINATOR.value, u.c.active.is_(True), u.c.password_hash.is_not(None),
            or_(u.c.region == region, u.c.region.is_(None))).order_by(u.c.email)).scalars().all()
        languages = Counter(self.conn.execute(select(k.c.language).where(k.c.region == region)).scalars())
        language = languages.most_common(1)[0][0] if languages else "nl"
        return [(email, language) for email in people]

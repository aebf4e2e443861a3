"""Each kamer's SMS budget per month, and which notification holds which place in it."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from mienskip_shared.db import upsert

from . import tables


class SmsBudgetRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def reserve(self, key: str, kamer_id: str, month: str, limit: int) -> bool:
        """Take one place in the kamer's SMS budget for ``month`` for notification ``key``.

        True if the notification holds a place (now, or from an earlier attempt: a retry
        does not count twice); False when the budget is spent. The conditional increment
        is one statement, so concurrent consumers cannot both take the last place.
        """
        t, usage = tables.notifications, tables.sms_usage
        if self.conn.execute(select(t.c.sms_month).where(t.c.key == key)).scalar_one() is not None:
            return True
        self.conn.execute(upsert(self.conn, usage).values(kamer_id=kamer_id, month=month, used=0).on_conflict_do_nothing())
        taken = self.conn.execute(
            update(usage)
            .where(usage.c.kamer_id == kamer_id, usage.c.month == month, usage.c.used < limit)
            .values(used=usage.c.used + 1)
        ).rowcount == 1
        if taken:
            self.conn.execute(update(t).where(t.c.key == key).values(sms_month=month))
        return taken

    def used(self, kamer_id: str, month: str) -> int:
        usage = tables.sms_usage
        used = self.conn.execute(
            select(usage.c.used).where(usage.c.kamer_id == kamer_id, usage.c.month == month)
        ).scalar_one_or_none()
        return used or 0

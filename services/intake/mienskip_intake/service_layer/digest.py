"""The weekly "waiting too long" digest (issue 17): once a week per region, one
``attention.digest`` per active coordinator of the region, with the counts and the
attention page's link; notify sends it. Exactly once per (region, week): the week's row
is claimed in the same transaction, before the events are written, so a second run or a
second worker writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from mienskip_shared.contracts import new_event

from ..domain.waiting import digest_due, week_of
from .unit_of_work import UnitOfWork


def send_weekly_digests(new_uow: Callable[[], UnitOfWork], counts: Mapping[str, Mapping[str, Any]], now: datetime,
                        link: str) -> int:
    """``counts``: per region, the ``WaitingCounts`` of ``attention.digest`` (adapters.waiting).
    Returns how many digests were written (0 when every region had its week's already)."""
    if not digest_due(now):
        return 0
    week = week_of(now)
    written = 0
    for region, waiting in sorted(counts.items()):
        with new_uow() as uow:
            recipients = uow.digests.coordinators(region)
            if not uow.digests.claim(region, week, now, len(recipients)):
                continue
            for email, language in recipients:
                uow.publish(new_event("attention.digest", {
                    "region": region, "email": email, "language": language, "week": week,
                    "counts": dict(waiting), "link": link}, correlation_id=f"digest:{region}:{week.isoformat()}"))
            uow.commit()
            written += len(recipients)
    return written

"""Weekly series: intake makes the next week's request of a weekly series by itself, a
week ahead, following the one before it (``follows``), so matching prefers the same
volunteer and holds their slot. Cancelling a request of the series ends the series;
erasing the resident ends it too.

The next request is a copy of the last one a week on (same local time), with its own
id and history ("made by intake for the series"); the kamer changes or cancels it like
any other.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from mienskip_shared.clock import utcnow

from ..domain import commands
from ..domain.model import SERIES_AHEAD, Note, Status, next_in_series, series_continues
from .common import new_id
from .handlers import add_request
from .unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)
LOCAL = ZoneInfo("Europe/Amsterdam")  # where the kamers are: "every Tuesday at 10" is local time
SERIES_ACTOR = "system:series"


def continue_series(cmd: commands.ContinueSeries, uow_factory) -> bool:
    """One round: every series whose next week is due gets its next request, each in its
    own transaction. True if more may be waiting."""
    now = cmd.now or utcnow()
    with uow_factory() as uow:
        due = uow.requests.series_to_continue(now + SERIES_AHEAD, cmd.batch)
    for request in due:
        _continue(uow_factory(), request.id, now)
    return len(due) == cmd.batch


def _continue(uow: UnitOfWork, request_id: str, now: datetime) -> None:
    with uow:
        last = uow.requests.get(request_id, lock=True)  # two intake processes: one makes it
        if last is None or not series_continues(last, now) or uow.requests.is_followed(last.id):
            return
        start, end = next_in_series(last.window_start, last.window_end, LOCAL)
        stamp = utcnow()
        following = replace(last, id=new_id(), follows=last.id, window_start=start, window_end=end,
                            status=Status.RECEIVED.value, reasons=None, considered=None, urgent=False,
                            last_decision=0, created_at=stamp, updated_at=stamp, assignments=(), history=())
        add_request(uow, following, SERIES_ACTOR, Note.SERIES_CONTINUED, following.id, follows=last.id)
        uow.commit()
    log.info("intake.series_continued", request_id=following.id, follows=last.id)

"""What waits too long (issue 17): the attention page's list and the coordinators' weekly
digest count the same things, with the same thresholds (settings ``MIENSKIP_WAITING_*``).
Stdlib only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# The kinds, in the order the page shows them. Referrals not answered (issue 13) are
# ``referrals_unanswered``: its read model adds them where adapters.waiting says.
KINDS = ("proposals_unreviewed", "offers_unanswered", "referrals_unanswered", "visits_unrecorded",
         "follow_ups_open")


@dataclass(frozen=True)
class Thresholds:
    proposal_hours: int = 24  # a proposal nobody reviewed for this long
    offer_hours: int = 48  # an approved offer the volunteer has not answered for this long
    visit_days: int = 1  # an accepted task whose window ended this long ago without a visit record
    follow_up_days: int = 14  # a resident's "no" or "more" stays on the list this long

    def since(self, kind: str, now: datetime) -> datetime:
        """Things of ``kind`` older than this wait too long (follow-ups: newer than this are shown)."""
        return now - {"proposals_unreviewed": timedelta(hours=self.proposal_hours),
                      "offers_unanswered": timedelta(hours=self.offer_hours),
                      "visits_unrecorded": timedelta(days=self.visit_days),
                      "follow_ups_open": timedelta(days=self.follow_up_days)}[kind]


def age_hours(since: datetime, now: datetime) -> float:
    return max(0.0, round((now - since).total_seconds() / 3600, 1))


def week_of(at: datetime) -> date:
    """The Monday (in Amsterdam) of the week ``at`` falls in: the week a digest covers."""
    local = at.astimezone(AMSTERDAM).date()
    return local - timedelta(days=local.weekday())


DIGEST_FROM_HOUR = 7  # a week's digest goes out from Monday 07:00 in Amsterdam, not in the night


def digest_due(at: datetime) -> bool:
    """Whether this week's digest may go out at ``at``: from Monday 07:00 (Amsterdam) on,
    so a system started on a Wednesday still sends that week's."""
    local = at.astimezone(AMSTERDAM)
    return local.weekday() > 0 or local.hour >= DIGEST_FROM_HOUR

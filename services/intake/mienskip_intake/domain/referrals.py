"""Care providers and the referrals a kamer sends them (issue 13). Stdlib only.

A request's ``helper`` says who helps: a volunteer (as always), a professional, or both.
The professional part is a :class:`Referral` to one :class:`Provider`; it has its own
statuses, apart from the request's (DOMAIN.md's workflow runs beside it unchanged):

    sent -> accepted | declined | overdue | closed
    overdue -> accepted | declined | closed
    accepted -> closed;  declined -> closed

A request has at most one open referral: another is sent only when the current one was
declined or went overdue (that one is closed then).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from .model import OPEN_STATUSES


class Helper(StrEnum):
    VOLUNTEER = "volunteer"
    PROFESSIONAL = "professional"
    BOTH = "both"


class ReferralStatus(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    OVERDUE = "overdue"
    CLOSED = "closed"


REFERRAL_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.SENT: frozenset({ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.OVERDUE,
                                    ReferralStatus.CLOSED}),
    ReferralStatus.OVERDUE: frozenset({ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.CLOSED}),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.CLOSED}),
    ReferralStatus.DECLINED: frozenset({ReferralStatus.CLOSED}),
    ReferralStatus.CLOSED: frozenset(),
}
# The current referral may be replaced by a new one (to another provider) only from these.
REPLACEABLE = frozenset({ReferralStatus.DECLINED, ReferralStatus.OVERDUE})
# Waiting for the provider's answer.
UNANSWERED = frozenset({ReferralStatus.SENT, ReferralStatus.OVERDUE})

DEFAULT_ANSWER_WITHIN_DAYS = 2
WORKING_DAYS = frozenset(range(5))  # Monday to Friday; public holidays are not counted


class IllegalReferralTransition(Exception):
    """A repeated or undrawn step (accept twice, accept after a decline): a 409."""

    def __init__(self, current: ReferralStatus, wanted: ReferralStatus):
        super().__init__(f"a referral that is {current} cannot become {wanted}")
        self.current, self.wanted = current, wanted


def referral_transition(current: str, wanted: ReferralStatus) -> ReferralStatus:
    if wanted not in REFERRAL_TRANSITIONS[ReferralStatus(current)]:
        raise IllegalReferralTransition(ReferralStatus(current), wanted)
    return wanted


def may_refer_again(current: Referral | None) -> bool:
    """A request may get a (new) referral when it has none open: none yet, or the current
    one is closed, declined or overdue."""
    return current is None or ReferralStatus(current.status) in REPLACEABLE | {ReferralStatus.CLOSED}


def may_complete(status: str, helper: str) -> bool:
    """Whether a request in ``status`` may become completed once its parts are done: a
    professional's request from any open status (it never goes through matching, or
    stayed unmatched); one with a volunteer's part only once that was accepted."""
    if helper == Helper.PROFESSIONAL:
        return status in {s.value for s in OPEN_STATUSES}
    return status == "accepted"


def due_after(sent_at: datetime, working_days: int, zone: tzinfo) -> datetime:
    """When a referral sent at ``sent_at`` goes overdue: ``working_days`` working days
    (Monday to Friday, local time; public holidays count as working days) later, at the
    same time of day. Sent on a Saturday with 2 days: due Tuesday."""
    local = sent_at.astimezone(zone).replace(tzinfo=None)
    counted = 0
    while counted < working_days:
        local += timedelta(days=1)
        if local.weekday() in WORKING_DAYS:
            counted += 1
    return local.replace(tzinfo=zone).astimezone(sent_at.tzinfo)


@dataclass(frozen=True)
class Provider:
    """A care organisation or team a kamer refers to: not personal data, like a kamer."""

    id: str
    name: str
    kind: str  # vocabulary.PROVIDER_KINDS
    categories: list[str]
    region: str
    email: str | None
    created_at: datetime
    updated_at: datetime
    kamer_ids: list[str] = field(default_factory=list)  # empty: every kamer of the region
    phone: str | None = None
    webhook_url: str | None = None
    language: str = "nl"
    answer_within_days: int = DEFAULT_ANSWER_WITHIN_DAYS
    active: bool = True
    revision: int = 0

    def serves(self, region: str, kamer_id: str, category: str | None = None) -> bool:
        """Whether a request of this kamer (and category) may be referred here."""
        return (self.active and self.region == region and (not self.kamer_ids or kamer_id in self.kamer_ids)
                and (category is None or category in self.categories))

    def visible_to_kamer(self, kamer_id: str, region: str) -> bool:
        return self.region == region and (not self.kamer_ids or kamer_id in self.kamer_ids)


@dataclass(frozen=True)
class Referral:
    """The professional part of one request, sent to one provider."""

    id: str
    request_id: str
    provider_id: str
    kamer_id: str
    region: str
    status: str  # a ReferralStatus value
    sent_at: datetime
    due_at: datetime
    updated_at: datetime
    note: str | None = None  # the kamer's words for the provider (personal: erased with the resident)
    who: str | None = None  # accepted: who of the provider will come
    visit_at: datetime | None = None  # ... and when
    answer_note: str | None = None  # the provider's note with an acceptance
    reason: str | None = None  # declined: why
    answered_at: datetime | None = None
    answered_by: str | None = None  # a role: provider, kamer, coordinator (a phone call noted)

    def moved(self, status: ReferralStatus, at: datetime, **values) -> Referral:
        return replace(self, status=status.value, updated_at=at, **values)

    def erased(self) -> Referral:
        """The resident's erasure: the words about them go, the facts stay."""
        return replace(self, note=None, answer_note=None, reason=None, who=None)

    @property
    def was_accepted(self) -> bool:
        """Accepted, or closed after an acceptance (the request completed): the provider
        still sees the address it was given."""
        return self.status == ReferralStatus.ACCEPTED.value or (
            self.status == ReferralStatus.CLOSED.value and self.answered_at is not None and self.reason is None
            and self.answered_by is not None)

    def hours_to_answer(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.sent_at).total_seconds() / 3600

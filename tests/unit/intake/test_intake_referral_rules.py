"""Every legal and illegal step of a referral, when one goes overdue, and which provider
serves which request (domain.referrals)."""

from datetime import UTC, datetime
from itertools import product
from zoneinfo import ZoneInfo

import pytest

from mienskip_intake.domain.referrals import (
    REFERRAL_TRANSITIONS,
    IllegalReferralTransition,
    Provider,
    Referral,
    ReferralStatus,
    due_after,
    may_refer_again,
    referral_transition,
)

DRAWN = {  # docs/referrals.md, drawn by hand
    ("sent", "accepted"), ("sent", "declined"), ("sent", "overdue"), ("sent", "closed"),
    ("overdue", "accepted"), ("overdue", "declined"), ("overdue", "closed"),
    ("accepted", "closed"), ("declined", "closed"),
}
ZONE = ZoneInfo("Europe/Amsterdam")
AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize("current, wanted", list(product(ReferralStatus, ReferralStatus)))
def test_only_the_drawn_steps_are_legal(current, wanted):
    if (current.value, wanted.value) in DRAWN:
        assert referral_transition(current.value, wanted) is wanted
    else:
        with pytest.raises(IllegalReferralTransition):
            referral_transition(current.value, wanted)


def test_the_table_is_the_drawing_and_closed_is_final():
    assert {(c.value, w.value) for c, ws in REFERRAL_TRANSITIONS.items() for w in ws} == DRAWN
    assert REFERRAL_TRANSITIONS[ReferralStatus.CLOSED] == frozenset()


def test_repeating_an_answer_is_illegal():
    for answer in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.OVERDUE):
        with pytest.raises(IllegalReferralTransition):
            referral_transition(referral_transition("sent", answer).value, answer)


def _referral(status: str) -> Referral:
    return Referral(id="rf", request_id="r", provider_id="p", kamer_id="k", region="leeuwarden", status=status,
                    sent_at=AT, due_at=AT, updated_at=AT)


@pytest.mark.parametrize("status, again", [
    (None, True), ("sent", False), ("accepted", False), ("declined", True), ("overdue", True), ("closed", True)])
def test_a_request_is_referred_again_only_when_the_current_one_ended_without_help(status, again):
    assert may_refer_again(None if status is None else _referral(status)) is again


@pytest.mark.parametrize("sent, days, due", [
    (datetime(2026, 12, 4, 9, 30, tzinfo=UTC), 2, datetime(2026, 12, 8, 9, 30, tzinfo=UTC)),  # Fri -> Tue
    (datetime(2026, 12, 5, 12, 0, tzinfo=UTC), 2, datetime(2026, 12, 8, 12, 0, tzinfo=UTC)),  # Sat -> Tue
    (datetime(2026, 12, 7, 8, 0, tzinfo=UTC), 1, datetime(2026, 12, 8, 8, 0, tzinfo=UTC)),  # Mon -> Tue
    (datetime(2026, 12, 7, 8, 0, tzinfo=UTC), 5, datetime(2026, 12, 14, 8, 0, tzinfo=UTC)),  # a whole week
    (datetime(2026, 3, 27, 10, 0, tzinfo=UTC), 1, datetime(2026, 3, 30, 9, 0, tzinfo=UTC)),  # into summer time: 11:00 local
])
def test_a_referral_is_due_after_working_days_at_the_same_local_time(sent, days, due):
    assert due_after(sent, days, ZONE) == due


def test_a_provider_serves_its_region_its_kamers_and_only_while_active():
    provider = Provider(id="p", name="Sociaal Wijkteam", kind="wijkteam", categories=["buddy"], region="leeuwarden",
                        email=None, created_at=AT, updated_at=AT)
    assert provider.serves("leeuwarden", "any-kamer") and not provider.serves("sudwest-fryslan", "any-kamer")
    assert provider.serves("leeuwarden", "k", "buddy") and not provider.serves("leeuwarden", "k", "pets")
    some = Provider(**{**provider.__dict__, "kamer_ids": ["k1"]})
    assert some.serves("leeuwarden", "k1") and not some.serves("leeuwarden", "k2")
    assert some.visible_to_kamer("k1", "leeuwarden") and not some.visible_to_kamer("k2", "leeuwarden")
    assert not Provider(**{**provider.__dict__, "active": False}).serves("leeuwarden", "k1")


def test_erasure_keeps_the_facts_and_drops_the_words():
    said = Referral(**{**_referral("declined").__dict__, "note": "Mevrouw is doof", "reason": "al cliënt"})
    erased = said.erased()
    assert (erased.note, erased.reason, erased.status) == (None, None, "declined")

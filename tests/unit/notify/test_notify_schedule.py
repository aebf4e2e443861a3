"""What falls due when after a volunteer accepts (domain.schedule), and what each due
item says and to whom (domain.after_match): pure, the clock passed in."""

from datetime import UTC, datetime, time, timedelta

import pytest

from mienskip_notify.domain.after_match import ScheduledItem, scheduled_messages
from mienskip_notify.domain.channels import Channels
from mienskip_notify.domain.contacts import KamerContact, Known, ResidentContact, Task, VolunteerContact
from mienskip_notify.domain.facts import Category, TaskTime
from mienskip_notify.domain.review_digest import digest_due, digest_id, mail_now
from mienskip_notify.domain.schedule import (
    FOLLOW_UP,
    HOW_DID_IT_GO,
    REMINDER,
    Due,
    KamerTimes,
    after_acceptance,
    follow_up_due,
    item_event_id,
    reminder_due,
)
from mienskip_shared.links import (
    sign_follow_up_link,
    sign_volunteer_link,
    verify_follow_up_link,
    verify_volunteer_link,
)

SIX_PM = time(18, 0)
SECRET = "unit link secret"


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


# -- the reminder: the day before at the kamer's time, on the clock in Leeuwarden -------------

@pytest.mark.parametrize(("start", "reminder"), [
    # summer time ends on Sunday 25 October 2026 (03:00 CEST -> 02:00 CET)
    (utc(2026, 10, 26, 9, 0), utc(2026, 10, 25, 17, 0)),  # Mon 10:00 CET: Sun 18:00 CET (after the change)
    (utc(2026, 10, 25, 9, 0), utc(2026, 10, 24, 16, 0)),  # Sun 10:00 CET: Sat 18:00 CEST (before it)
    # summer time starts on Sunday 28 March 2027 (02:00 CET -> 03:00 CEST)
    (utc(2027, 3, 29, 8, 0), utc(2027, 3, 28, 16, 0)),  # Mon 10:00 CEST: Sun 18:00 CEST (after the change)
    (utc(2027, 3, 28, 8, 0), utc(2027, 3, 27, 17, 0)),  # Sun 10:00 CEST: Sat 18:00 CET (before it)
    # a task just after midnight local time: the day before is the local day before
    (utc(2026, 12, 1, 23, 30), utc(2026, 12, 1, 17, 0)),  # Wed 00:30 CET: Tue 18:00 CET
])
def test_the_reminder_goes_the_day_before_at_six_local_time_across_the_clock_changes(start, reminder):
    accepted = start - timedelta(days=7)
    assert reminder_due(start, SIX_PM, accepted) == reminder


def test_the_kamers_own_reminder_time_counts():
    start = utc(2026, 12, 1, 9, 0)
    assert reminder_due(start, time(9, 30), start - timedelta(days=3)) == utc(2026, 11, 30, 8, 30)


@pytest.mark.parametrize(("accepted", "expected"), [
    (utc(2026, 11, 30, 16, 59), utc(2026, 11, 30, 17, 0)),  # before the moment: at the moment
    (utc(2026, 11, 30, 17, 0), utc(2026, 11, 30, 17, 0)),  # at the moment: at once (the same)
    (utc(2026, 11, 30, 20, 0), utc(2026, 11, 30, 20, 0)),  # after it, the evening before: at once
    (utc(2026, 12, 1, 7, 59), utc(2026, 12, 1, 7, 59)),  # 61 minutes before the start: at once
    (utc(2026, 12, 1, 8, 0), None),  # exactly an hour before: no reminder
    (utc(2026, 12, 1, 8, 30), None),  # within the hour: no reminder
    (utc(2026, 12, 1, 10, 0), None),  # after the start: none
])
def test_accepted_late_the_reminder_goes_at_once_unless_the_task_starts_within_the_hour(accepted, expected):
    assert reminder_due(utc(2026, 12, 1, 9, 0), SIX_PM, accepted) == expected


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        reminder_due(datetime(2026, 12, 1, 9, 0), SIX_PM, utc(2026, 11, 20, 9, 0))


# -- "how did it go?" and the follow-up --------------------------------------------------------

def test_after_acceptance_the_reminder_the_visit_question_and_the_follow_up_are_due():
    start, end = utc(2026, 12, 1, 9, 0), utc(2026, 12, 1, 10, 0)
    assert after_acceptance(start, end, utc(2026, 11, 24, 9, 0), KamerTimes()) == [
        Due(REMINDER, utc(2026, 11, 30, 17, 0)),
        Due(HOW_DID_IT_GO, end),
        Due(FOLLOW_UP, utc(2026, 12, 4, 10, 0)),
    ]


def test_accepted_within_the_hour_there_is_no_reminder_but_the_rest_is_due():
    start, end = utc(2026, 12, 1, 9, 0), utc(2026, 12, 1, 10, 0)
    kinds = [d.kind for d in after_acceptance(start, end, start - timedelta(minutes=20), KamerTimes())]
    assert kinds == [HOW_DID_IT_GO, FOLLOW_UP]


def test_the_follow_up_keeps_the_local_time_of_day_across_the_autumn_change():
    # Friday 23 October 2026 11:00 CEST + 3 days = Monday 26 October 11:00 CET
    assert follow_up_due(utc(2026, 10, 23, 9, 0), 3) == utc(2026, 10, 26, 10, 0)


def test_a_kamers_times_are_read_from_its_event_with_defaults():
    assert KamerTimes.parse("07:45", 5) == KamerTimes(time(7, 45), 5)
    assert KamerTimes.parse(None, None) == KamerTimes(time(18, 0), 3)
    assert KamerTimes.parse("25:00", 2) == KamerTimes(time(18, 0), 2)  # no time of day: the default


def test_an_items_id_is_fixed_by_its_kind_and_subject():
    assert item_event_id(REMINDER, "as-1") == item_event_id(REMINDER, "as-1")
    assert len({item_event_id(k, s) for k in (REMINDER, FOLLOW_UP) for s in ("as-1", "as-2")}) == 4


# -- the kamer's review digest ---------------------------------------------------------------

def test_the_first_proposal_after_a_quiet_period_is_mailed_at_once_the_rest_wait():
    every, now = timedelta(minutes=15), utc(2026, 12, 1, 9, 0)
    assert mail_now(None, False, now, every)
    assert not mail_now(now - timedelta(minutes=3), False, now, every)
    assert mail_now(now - timedelta(minutes=15), False, now, every)
    assert not mail_now(now - timedelta(hours=2), True, now, every)  # a digest is open: join it
    assert digest_due(now - timedelta(minutes=3), now, every) == now + timedelta(minutes=12)
    assert digest_id("grou", now) == digest_id("grou", now) != digest_id("mantgum", now)


# -- what each due item says, and to whom ----------------------------------------------------

START, END = utc(2026, 12, 1, 9, 0), utc(2026, 12, 1, 10, 0)
KAMER = KamerContact("grou", "Dorpskamer Grou", email="grou@example.org", language="nl")
HILTSJE = VolunteerContact("vo-7", "grou", "Hiltsje", email="hiltsje@example.org", language="fy")
DURK = ResidentContact("rq-1", "grou", "Durk", phone="+31612345678", language="en", address="Tsjerkepaed 3, Grou")
CHANNELS = Channels(email=True, sms=True)


def item(kind, due_at=START - timedelta(hours=15)):
    return ScheduledItem(kind=kind, subject_id="as-1", kamer_id="grou", due_at=due_at, request_id="rq-1",
                         assignment_id="as-1", volunteer_id="vo-7", category="pets", start=START, end=END)


def plan(kind, **known):
    known = Known(kamer=KAMER, **{"volunteers": {"vo-7": HILTSJE}, "resident": DURK, **known})
    return scheduled_messages(item(kind), known, CHANNELS, "https://m.example",
                              sign_visit=lambda *a: sign_volunteer_link(SECRET, *a),
                              sign_follow_up=lambda *a: sign_follow_up_link(SECRET, *a))


def test_the_reminder_tells_the_volunteer_the_address_and_the_resident_the_volunteers_name():
    volunteer, resident = plan(REMINDER)
    assert (volunteer.template, volunteer.channel, volunteer.recipient, volunteer.language) == (
        "volunteer_reminder", "email", "hiltsje@example.org", "fy")
    assert volunteer.context["address"] == "Tsjerkepaed 3, Grou"
    assert volunteer.context["when"] == TaskTime(START, END) and volunteer.context["category"] == Category("pets")
    assert (resident.template, resident.channel, resident.recipient, resident.language) == (
        "resident_reminder", "sms", "+31612345678", "en")
    assert resident.context["volunteer_first_name"] == "Hiltsje" and "address" not in resident.context


def test_nobody_reachable_gets_no_reminder_and_the_kamer_is_not_asked_to_call():
    assert plan(REMINDER, volunteers={}, resident=None) == []


def test_nothing_is_sent_for_a_cancelled_request():
    cancelled = Task("rq-1", "pets", START, END, cancelled_at=START - timedelta(days=1))
    assert all(plan(kind, task=cancelled) == [] for kind in (REMINDER, HOW_DID_IT_GO, FOLLOW_UP))


def test_how_did_it_go_carries_the_volunteers_signed_link_for_that_assignment():
    (question,) = plan(HOW_DID_IT_GO)
    assert question.template == "visit_question" and question.recipient == "hiltsje@example.org"
    token = question.context["link"].removeprefix("https://m.example/v/")
    link = verify_volunteer_link(SECRET, token, now=START)
    assert (link.assignment_id, link.volunteer_id) == ("as-1", "vo-7")
    assert link.expires_at == question.context["link_expires"] == item(HOW_DID_IT_GO).due_at + timedelta(days=14)


def test_the_follow_up_asks_the_resident_with_their_signed_link():
    (question,) = plan(FOLLOW_UP)
    assert (question.template, question.channel, question.language) == ("resident_follow_up", "sms", "en")
    link = verify_follow_up_link(SECRET, question.context["link"].removeprefix("https://m.example/f/"), now=START)
    assert (link.request_id, link.assignment_id) == ("rq-1", "as-1")


def test_a_resident_without_a_channel_the_kamer_asks_by_phone():
    (ask,) = plan(FOLLOW_UP, resident=ResidentContact("rq-1", "grou", "Durk", language="fy"))
    assert (ask.template, ask.recipient_kind, ask.channel) == ("follow_up_by_phone", "kamer", "email")
    assert ask.context["review_url"] == "https://m.example/review/requests/rq-1"
    assert "resident_first_name" not in ask.context and "address" not in ask.context

"""notify's domain: notification keys, channel and language choice, local dates."""

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from mienskip_notify.adapters.wording import distance_text, local_datetime_text, why_lines, worded
from mienskip_notify.domain.channels import kamer_channel, person_channel, sms_month
from mienskip_notify.domain.contacts import KamerContact
from mienskip_notify.domain.languages import message_language
from mienskip_notify.domain.notifications import notification_key
from mienskip_notify.domain.planner import notifications_for
from mienskip_notify.entrypoints.consumer import SUBSCRIPTIONS
from mienskip_shared.messaging import MissingHandler, dispatch_by_type

EVENT_ID = "6f1c2b9e-0d3a-4c55-9a43-0c6f1e0a7b11"
OCCURRED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GROU = KamerContact(kamer_id="grou", name="Dorpskamer Grou", email="grou@example.org", language="fy")


# -- the deterministic key -----------------------------------------------------------
def test_key_is_sha256_hex_and_the_same_every_time():
    key = notification_key(EVENT_ID, "grou@example.org", "email")
    assert key == notification_key(EVENT_ID, "grou@example.org", "email")
    assert len(key) == 64 and int(key, 16) >= 0


def test_key_differs_per_event_recipient_and_channel():
    base = notification_key(EVENT_ID, "grou@example.org", "email")
    assert notification_key("another-event", "grou@example.org", "email") != base
    assert notification_key(EVENT_ID, "stiens@example.org", "email") != base
    assert notification_key(EVENT_ID, "grou@example.org", "mailbox") != base


def test_key_parts_cannot_run_into_each_other():
    assert notification_key("ab", "c", "email") != notification_key("a", "bc", "email")


# -- language fallback -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("preferred", "expected"),
    [("nl", "nl"), ("fy", "fy"), ("en", "en"), ("EN", "en"), ("en-GB", "en"), ("fy_NL", "fy"),
     ("de", "nl"), ("ar", "nl"), ("xx", "nl"), ("", "nl"), (None, "nl")],
)
def test_message_language_falls_back_to_dutch(preferred, expected):
    assert message_language(preferred) == expected


# -- dates and numbers ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "expected"),
    [("nl", "dinsdag 1 december 2026, 10:00"),
     ("en", "Tuesday, 1 December 2026, 10:00"),
     ("fy", "tiisdei 1 desimber 2026 10:00"),
     ("de", "dinsdag 1 december 2026, 10:00")],
)
def test_winter_time_is_utc_plus_one(language, expected):
    assert local_datetime_text(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("nl", "dinsdag 14 juli 2026, 10:30"),
     ("en", "Tuesday, 14 July 2026, 10:30"),
     ("fy", "tiisdei 14 july 2026 10:30")],
)
def test_summer_time_is_utc_plus_two(language, expected):
    assert local_datetime_text(datetime(2026, 7, 14, 8, 30, tzinfo=UTC), language) == expected


def test_the_night_the_clocks_go_forward():
    # 29 March 2026: 02:00 CET becomes 03:00 CEST
    assert local_datetime_text(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "nl") == "zondag 29 maart 2026, 01:59"
    assert local_datetime_text(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "nl") == "zondag 29 maart 2026, 03:00"


def test_any_zone_is_shown_on_the_clock_in_leeuwarden():
    new_york = timezone(timedelta(hours=-5))
    assert local_datetime_text(datetime(2026, 12, 1, 4, 0, tzinfo=new_york), "en") == "Tuesday, 1 December 2026, 10:00"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        local_datetime_text(datetime(2026, 12, 1, 10, 0), "nl")


def test_distance_uses_the_decimal_comma_in_dutch_and_frisian():
    assert distance_text(2.36, "nl") == "2,4 km"
    assert distance_text(2.36, "fy") == "2,4 km"
    assert distance_text(2.36, "en") == "2.4 km"


# -- which messages an event causes ---------------------------------------------------------
def test_email_when_smtp_is_configured_and_the_kamer_has_an_address():
    assert kamer_channel(GROU, email_enabled=True) == ("email", "grou@example.org")


def test_mailbox_without_smtp_or_without_an_address():
    assert kamer_channel(GROU, email_enabled=False) == ("mailbox", "mailbox:grou")
    no_email = KamerContact(kamer_id="stiens", name="De Skalm")
    assert kamer_channel(no_email, email_enabled=True) == ("mailbox", "mailbox:stiens")


def proposal_data(**overrides):
    data = {
        "assignment_id": "as-1", "request_id": "rq-1", "volunteer_id": "vo-7", "kamer_id": "grou",
        "region": "leeuwarden", "distance_km": 2.36,
        "explanation": {"distance_km": 2.4, "skills_matched": ["pets"], "availability": "tue 09:00-12:00",
                        "load_this_week": 1, "max_tasks_per_week": 3, "continuity": True,
                        "runner_up": {"volunteer_id": "vo-9", "distance_km": 2.4, "reason": {"code": "busier"},
                                      "rule": None}},
    }
    data.update(overrides)
    return data


def test_a_review_request_becomes_one_message_to_the_kamer_in_its_language():
    (n,) = notifications_for("assignment.review_requested", EVENT_ID, OCCURRED, proposal_data(), GROU,
                             email_enabled=True, public_url="https://mienskip.example/")
    assert (n.recipient_kind, n.channel, n.recipient, n.language) == ("kamer", "email", "grou@example.org", "fy")
    assert (n.template, n.request_id, n.kamer_id) == ("assignment_proposed", "rq-1", "grou")
    assert n.key == notification_key(EVENT_ID, "grou@example.org", "email")
    assert n.context["proposed_at"] == OCCURRED  # a fact; the composer words it in the kamer's language
    words = worded(n.context, n.language)
    assert words["review_url"] == "https://mienskip.example/review/requests/rq-1"
    assert words["distance"] == "2,4 km"
    assert words["why"] == ["2,4 km fan de helpfreger", "kin: húsdieren", "beskikber: tiisdei 09:00–12:00",
                            "dizze wike al 1 fan maks. 3 taken", "deselde frijwilliger as de foarige kear",
                            "folgjende kandidaat (2,4 km): like fier, mar drokker dizze wike"]
    assert words["proposed_at"] == "tiisdei 1 desimber 2026 10:00"


def test_an_unmatched_request_lists_the_main_reason_first():
    data = {"request_id": "rq-2", "kamer_id": "grou", "region": "leeuwarden",
            "reasons": {"distance": 2, "overlap": 1, "skills": 5}, "considered": 8}
    kamer = KamerContact(kamer_id="grou", name="Dorpskamer Grou", language="tr")
    n, call = notifications_for("request.unmatched", EVENT_ID, OCCURRED, data, kamer,
                                email_enabled=False, public_url="http://127.0.0.1:8000")
    assert (n.channel, n.language, n.template) == ("mailbox", "nl", "request_unmatched")
    words = worded(n.context, n.language)
    assert words["reasons"] == [("mist de vaardigheid", 5), ("te ver weg", 2), ("geen tijd", 1)]
    assert words["summary"] == "3 vrijwilligers hebben de vaardigheid; 2 te ver weg, 1 geen tijd"
    # the resident is unknown to notify here: the kamer is asked to call them
    assert (call.template, call.recipient_kind, call.subject_kind, call.subject_id) == (
        "please_call", "kamer", "resident", "rq-2")


@pytest.mark.parametrize("event_type", ["request.submitted", "assignment.proposed"])
def test_events_notify_does_not_handle_are_refused(event_type):
    # matching's proposal among them: intake decides whether it needs a review, and says so
    with pytest.raises(ValueError):
        notifications_for(event_type, EVENT_ID, OCCURRED, proposal_data(), GROU, email_enabled=False, public_url="")


@pytest.mark.parametrize(
    ("explanation", "language", "lines"),
    [({}, "nl", []),
     ({"runner_up": None}, "en", ["no other candidate"]),
     ({"runner_up": {"volunteer_id": "v", "distance_km": 1.3, "reason": {"code": "transport"}, "rule": "transport"}},
      "fy", ["folgjende kandidaat (1,3 km): gjin auto"]),
     ({"runner_up": {"volunteer_id": "v", "distance_km": 3.0, "reason": {"code": "taken"}, "rule": None}},
      "en", ["next candidate (3.0 km): needed for another request"]),
     ({"runner_up": {"volunteer_id": "v", "distance_km": 3.0,
                     "reason": {"code": "further_than_continuity", "km": 0.4}, "rule": None}},
      "nl", ["volgende kandidaat (3,0 km): hielp vorige keer, maar 0,4 km verder"]),
     ({"continuity": False, "distance_km": 0.5}, "de", ["0,5 km van de hulpvrager",
                                                        "een andere vrijwilliger dan vorige keer"])],
)
def test_why_lines_word_matchings_codes_in_the_readers_language(explanation, language, lines):
    assert why_lines(explanation, language) == lines


def test_every_reason_code_has_words_in_every_language():
    from mienskip_notify.adapters.wording import catalogue
    from mienskip_shared.contracts.vocabulary import RULES, RUNNER_UP_CAUSES, URGENCIES
    from mienskip_shared.i18n import LANGUAGES

    words = catalogue()
    needed = {f"reason.{code}" for code in (*RULES, "taken")} | {f"cause.{code}" for code in RUNNER_UP_CAUSES}
    needed |= {f"urgency.{code}" for code in URGENCIES}  # a referral's urgency, to its provider
    for language in LANGUAGES:
        assert needed <= words.keys(language), language
    assert words.keys("nl") == words.keys("fy") == words.keys("en")


# -- wiring ------------------------------------------------------------------------------
def test_every_subscription_needs_a_handler():
    with pytest.raises(MissingHandler, match="request.unmatched") as raised:
        dispatch_by_type(SUBSCRIPTIONS, {"kamer.registered": lambda envelope: None})
    assert raised.value.event_types == sorted({s.event_type for s in SUBSCRIPTIONS} - {"kamer.registered"})


def test_the_dispatcher_calls_the_handler_for_the_event_type():
    seen = []
    handle = dispatch_by_type(SUBSCRIPTIONS,
                              {s.event_type: (lambda e, t=s.event_type: seen.append(t)) for s in SUBSCRIPTIONS})
    handle(SimpleNamespace(event_type="request.unmatched"))
    assert seen == ["request.unmatched"]
    assert {s.queue_name for s in SUBSCRIPTIONS} == {
        "notify.intake.kamer.registered", "notify.intake.assignment.review_requested",
        "notify.matching.request.unmatched",
        "notify.intake.contact.volunteer", "notify.intake.contact.resident", "notify.intake.assignment.approved",
        "notify.intake.assignment.accepted", "notify.intake.assignment.declined", "notify.intake.request.cancelled",
        "notify.intake.request.escalated", "notify.intake.personal_data.erased",
        "notify.intake.user.invited", "notify.intake.user.password_reset",
        "notify.intake.provider.registered", "notify.intake.provider.updated", "notify.intake.referral.sent",
        "notify.intake.referral.accepted", "notify.intake.referral.declined", "notify.intake.referral.overdue",
        "notify.intake.assignment.completed", "notify.intake.attention.digest"}


# -- channels: webhook beside e-mail, SMS for people --------------------------------------
PROPOSAL = {"assignment_id": "as-1", "request_id": "rq-1", "volunteer_id": "vo-7", "kamer_id": "grou",
            "region": "leeuwarden", "distance_km": 1.2,
            "explanation": {"distance_km": 1.2, "skills_matched": ["pets"],
                            "runner_up": {"volunteer_id": "v9", "distance_km": 2.5,
                                          "reason": {"code": "further", "km": 1.3}, "rule": None}}}


def test_a_kamer_with_a_webhook_gets_a_second_notification_with_its_own_key():
    hooked = KamerContact(kamer_id="grou", name="Grou", email="grou@example.org",
                          webhook_url="https://grou.example/hooks/mienskip", language="fy")
    email, hook = notifications_for("assignment.review_requested", EVENT_ID, OCCURRED, PROPOSAL, hooked,
                                    email_enabled=True, public_url="http://x")
    assert (email.channel, hook.channel) == ("email", "webhook")
    assert hook.recipient == "webhook:grou" and hook.destination == "https://grou.example/hooks/mienskip"
    assert hook.key == notification_key(EVENT_ID, "webhook:grou", "webhook") != email.key
    assert hook.payload["type"] == "assignment.review_requested" and hook.payload["data"] == PROPOSAL
    assert hook.payload["event_id"] == EVENT_ID and hook.payload["review_url"] == "http://x/review/requests/rq-1"
    assert (hook.template, hook.language, hook.recipient_kind) == ("assignment_proposed", "fy", "kamer")


def test_a_changed_webhook_url_keeps_the_key():
    def hook_key(url):
        kamer = KamerContact(kamer_id="grou", name="Grou", webhook_url=url)
        return notifications_for("assignment.review_requested", EVENT_ID, OCCURRED, PROPOSAL, kamer,
                                 email_enabled=False, public_url="http://x")[1].key
    assert hook_key("https://a.example/h") == hook_key("https://b.example/h")


def test_without_a_webhook_there_is_one_notification():
    assert len(notifications_for("assignment.review_requested", EVENT_ID, OCCURRED, PROPOSAL, GROU,
                                 email_enabled=True, public_url="http://x")) == 1


@pytest.mark.parametrize(
    ("email", "phone", "email_enabled", "sms_enabled", "expected"),
    [("a@example.org", "+31612345678", True, True, ("email", "a@example.org")),
     (None, "+31612345678", True, True, ("sms", "+31612345678")),
     ("a@example.org", "+31612345678", False, True, ("sms", "+31612345678")),
     ("a@example.org", "+31612345678", False, False, ("mailbox", "a@example.org")),
     (None, "+31612345678", True, False, None),
     (None, None, True, True, None)],
)
def test_a_person_is_emailed_or_texted_when_they_have_only_a_phone(email, phone, email_enabled, sms_enabled,
                                                                    expected):
    assert person_channel(email, phone, email_enabled=email_enabled, sms_enabled=sms_enabled) == expected


def test_the_sms_month_is_the_calendar_month_in_leeuwarden():
    assert sms_month(datetime(2026, 11, 30, 22, 59, tzinfo=UTC)) == "2026-11"
    assert sms_month(datetime(2026, 11, 30, 23, 0, tzinfo=UTC)) == "2026-12"  # midnight CET

"""Messages to volunteers and residents, and the kamer's new ones: every template in nl,
fy and en; what an offer shows and hides; channels and "please call"; keys."""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest

from mienskip_notify.adapters.composer import WIRE_POLICY, MessageComposer, TemplateRenderer
from mienskip_notify.adapters.wording import local_window_text
from mienskip_notify.domain.contacts import KamerContact, Known, ResidentContact, Task, VolunteerContact
from mienskip_notify.domain.contexts import link_expiry
from mienskip_notify.domain.notifications import notification_key
from mienskip_notify.domain.planner import notifications_for
from mienskip_shared.links import sign_volunteer_link, verify_volunteer_link

SECRET = "unit test link secret"
EVENT_ID = "5f0c2c1e-8a53-4b0e-9a43-0c6a8f0b7d21"
OCCURRED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # tiisdei 1 desimber, 10:00 in Leeuwarden
WINDOW = {"start": START, "end": START + timedelta(hours=1)}
ADDRESS = "Tsjerkepaed 3, 9001 AB Grou"
RESIDENT_PHONE = "+31587123456"
LANGUAGES = ["nl", "fy", "en"]


def known(language: str = "nl", *, volunteer_email="hiltsje@example.org", volunteer_phone=None,
          resident_phone=RESIDENT_PHONE, kamer_language=None, webhook_url=None, told=("vo-7",)) -> Known:
    return Known(
        kamer=KamerContact("grou", "Dorpskamer Grou", "grou@example.org", webhook_url, kamer_language or language),
        volunteers={"vo-7": VolunteerContact("vo-7", "grou", "Hiltsje", volunteer_email, volunteer_phone, language)},
        resident=ResidentContact("rq-1", "grou", "Durk", resident_phone, language, ADDRESS, "Grou"),
        told=told,
    )


ASSIGNMENT = {"assignment_id": "as-1", "request_id": "rq-1", "volunteer_id": "vo-7", "kamer_id": "grou",
              "region": "leeuwarden", "actor": "kamer", "category": "pets", "window": WINDOW}
EVENTS = {
    "assignment.approved": {**ASSIGNMENT, "auto": False},
    "assignment.accepted": ASSIGNMENT,
    "assignment.declined": {**ASSIGNMENT, "rematch": False, "after_accept": True, "reason": "siik 🤒"},
    "request.cancelled": {"request_id": "rq-1", "kamer_id": "grou", "reason": None},
    "request.escalated": {"request_id": "rq-1", "kamer_id": "grou", "region": "leeuwarden",
                          "reason": "late_decline", "urgent": True},
    "request.unmatched": {"request_id": "rq-1", "kamer_id": "grou", "region": "leeuwarden",
                          "reasons": {"distance": 2}, "considered": 2},
}


def plan(event_type, k: Known, *, email=True, sms=False, data=None, public_url="https://mienskip.example"):
    return notifications_for(event_type, EVENT_ID, OCCURRED, data or EVENTS[event_type], k.kamer,
                             email_enabled=email, sms_enabled=sms, public_url=public_url, known=k,
                             sign_link=lambda a, v, e: sign_volunteer_link(SECRET, a, v, e))


def only(notifications, template):
    (n,) = [n for n in notifications if n.template == template]
    return n


def render(n):
    return TemplateRenderer().render(n.template, n.language, n.context)


# -- the offer -------------------------------------------------------------------------------

OFFER = {
    "nl": ("Hulpvraag: huisdieren op dinsdag 1 december 2026", "Hoi Hiltsje,",
           "dinsdag 1 december 2026, 10:00–11:00 uur", "Durk in Grou"),
    "fy": ("Helpfraach: húsdieren op tiisdei 1 desimber 2026", "Hoi Hiltsje,",
           "tiisdei 1 desimber 2026 10:00–11:00 oere", "Durk yn Grou"),
    "en": ("Request for help: pet care on Tuesday, 1 December 2026", "Hello Hiltsje,",
           "Tuesday, 1 December 2026, 10:00–11:00", "Durk in Grou"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_offer_says_what_when_and_roughly_where_with_a_signed_link(language):
    n = only(plan("assignment.approved", known(language)), "volunteer_offer")
    assert (n.recipient_kind, n.channel, n.recipient, n.language) == ("volunteer", "email", "hiltsje@example.org",
                                                                      language)
    assert (n.subject_kind, n.subject_id) == ("volunteer", "vo-7")
    rendered = render(n)
    subject, greeting, when, who = OFFER[language]
    assert rendered.subject == subject
    for part in (greeting, when, who, "Dorpskamer Grou"):
        assert part in rendered.text
    link = n.context["link"]
    assert link.startswith("https://mienskip.example/v/vl1.")
    assert link in rendered.text and f'href="{link}"' in rendered.html
    verified = verify_volunteer_link(SECRET, link.rsplit("/", 1)[1], now=OCCURRED)
    assert (verified.assignment_id, verified.volunteer_id, verified.expires_at) == ("as-1", "vo-7", START)
    sms = TemplateRenderer().render_sms(n.template, n.language, n.context)
    assert link in sms and len(sms) < 320


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_offer_never_shows_the_address_or_the_residents_phone(language):
    n = only(plan("assignment.approved", known(language)), "volunteer_offer")
    rendered = render(n)
    sms = TemplateRenderer().render_sms(n.template, n.language, n.context)
    for secret in (ADDRESS, "Tsjerkepaed", RESIDENT_PHONE):
        assert secret not in rendered.text and secret not in rendered.html and secret not in sms
    assert "address" not in n.context and "resident_phone" not in n.context


def test_a_link_expires_at_the_start_or_after_a_week_whichever_is_sooner():
    assert link_expiry(OCCURRED, START) == START
    assert link_expiry(OCCURRED, OCCURRED + timedelta(days=30)) == OCCURRED + timedelta(days=7)
    assert link_expiry(OCCURRED, None) == OCCURRED + timedelta(days=7)


def test_a_redelivered_approval_signs_the_same_link():
    first = only(plan("assignment.approved", known()), "volunteer_offer")
    again = only(plan("assignment.approved", known()), "volunteer_offer")
    assert first.context["link"] == again.context["link"] and first.key == again.key


# -- after accepting ---------------------------------------------------------------------------

CONFIRMATION = {
    "nl": ("Bevestiging: huisdieren op dinsdag 1 december 2026", "Adres:", "Telefoon:"),
    "fy": ("Befêstiging: húsdieren op tiisdei 1 desimber 2026", "Adres:", "Telefoan:"),
    "en": ("Confirmed: pet care on Tuesday, 1 December 2026", "Address:", "Phone:"),
}
COMING = {
    "nl": ("Er komt een vrijwilliger op dinsdag 1 december 2026", "Hiltsje komt u helpen op dinsdag"),
    "fy": ("Der komt in frijwilliger op tiisdei 1 desimber 2026", "Hiltsje komt jo helpen op tiisdei"),
    "en": ("A volunteer is coming on Tuesday, 1 December 2026", "Hiltsje will come to help you on Tuesday"),
}
ACCEPTED = {"nl": "Geaccepteerd – hulpvraag rq-1", "fy": "Akseptearre – helpfraach rq-1",
            "en": "Accepted – request rq-1"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_acceptance_confirms_the_address_to_the_volunteer_tells_resident_and_kamer(language):
    planned = plan("assignment.accepted", known(language), sms=True)
    confirmation = render(only(planned, "volunteer_confirmation"))
    subject, address_label, phone_label = CONFIRMATION[language]
    assert confirmation.subject == subject
    assert f"{address_label:<10}{ADDRESS}" in confirmation.text and RESIDENT_PHONE in confirmation.text
    assert phone_label in confirmation.text and ADDRESS in confirmation.html

    resident = only(planned, "resident_volunteer_coming")
    assert (resident.channel, resident.recipient, resident.recipient_kind) == ("sms", RESIDENT_PHONE, "resident")
    coming = render(resident)
    assert (coming.subject, COMING[language][1] in coming.text) == (COMING[language][0], True)
    sms = TemplateRenderer().render_sms(resident.template, resident.language, resident.context)
    assert "Hiltsje" in sms and "Hiltsje" == resident.context["volunteer_first_name"]
    assert "Bouma" not in coming.text  # only ever the first name: it is all notify has

    assert render(only(planned, "assignment_accepted")).subject == ACCEPTED[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_late_decline_is_urgent_for_the_kamer(language):
    n = only(plan("assignment.declined", known(language)), "assignment_declined")
    rendered = render(n)
    assert rendered.subject.startswith({"nl": "DRINGEND: ", "fy": "DRIUWEND: ", "en": "URGENT: "}[language])
    assert "48" in rendered.text and "siik 🤒" in rendered.text
    relaxed = render(only(plan("assignment.declined", known(language),
                               data={**EVENTS["assignment.declined"], "rematch": True, "after_accept": False}),
                          "assignment_declined"))
    assert "48" not in relaxed.text and not relaxed.subject.startswith(("DRINGEND", "DRIUWEND", "URGENT"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_decline_for_an_erased_volunteer_is_worded_from_its_code(language):
    data = {**EVENTS["assignment.declined"], "reason": None, "reason_code": "volunteer_erased"}
    rendered = render(only(plan("assignment.declined", known(language), data=data), "assignment_declined"))
    assert {"nl": "de vrijwilliger heeft zich laten uitschrijven", "fy": "de frijwilliger hat him útskriuwe litten",
            "en": "the volunteer has left Mienskip"}[language] in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_cancellation_escalation_and_unmatched_in_each_language(language):
    k = known(language)
    cancel = render(only(plan("request.cancelled", Known(**{**k.__dict__, "task": Task("rq-1", "pets", START,
                                                                                       START + timedelta(hours=1))})),
                         "volunteer_cancellation"))
    assert cancel.subject == {"nl": "Gaat niet door: huisdieren op dinsdag 1 december 2026",
                              "fy": "Giet net troch: húsdieren op tiisdei 1 desimber 2026",
                              "en": "Cancelled: pet care on Tuesday, 1 December 2026"}[language]
    escalated = render(only(plan("request.escalated", k), "request_escalated"))
    assert escalated.subject == {"nl": "DRINGEND: Hulpvraag rq-1 ligt bij de coördinator",
                                 "fy": "DRIUWEND: Helpfraach rq-1 leit by de koördinator",
                                 "en": "URGENT: Request rq-1 is with the coordinator"}[language]
    assert "48" in escalated.text  # late_decline, in words
    planned = plan("request.unmatched", k, sms=True)
    resident = only(planned, "resident_unmatched")
    assert resident.channel == "sms"
    text = render(resident).text
    assert {"nl": "Dorpskamer Grou belt u hierover.", "fy": "Dorpskamer Grou belt jo hjiroer.",
            "en": "Dorpskamer Grou will call you about it."}[language] in text


# -- channels: e-mail, SMS, mailbox, or the kamer calls ---------------------------------------

def test_without_smtp_or_sms_a_known_address_gets_the_mailbox():
    n = only(plan("assignment.approved", known(), email=False), "volunteer_offer")
    assert (n.channel, n.recipient) == ("mailbox", "hiltsje@example.org")
    assert MessageComposer("m@localhost").compose(n)["To"] == "hiltsje@example.org"


def test_a_volunteer_with_only_a_phone_gets_a_short_sms():
    n = only(plan("assignment.approved", known(volunteer_email=None, volunteer_phone="+31612345678"), sms=True),
             "volunteer_offer")
    assert (n.channel, n.recipient) == ("sms", "+31612345678")


@pytest.mark.parametrize("language", LANGUAGES)
def test_nobody_reachable_means_the_kamer_is_asked_to_call(language):
    k = known(language, volunteer_email=None, volunteer_phone="+31612345678")
    planned = plan("assignment.approved", k, sms=False)
    (call,) = planned
    assert (call.template, call.recipient_kind, call.channel, call.language) == ("please_call", "kamer", "email",
                                                                                language)
    assert (call.subject_kind, call.subject_id, call.destination) == ("volunteer", "vo-7", "grou@example.org")
    assert call.key == notification_key(EVENT_ID, "grou@example.org#call:volunteer:vo-7", "email")
    rendered = render(call)
    assert "Hiltsje" in rendered.subject and "+31612345678" in rendered.text
    assert "https://mienskip.example/v/" not in rendered.text  # the volunteer's link is theirs alone
    assert MessageComposer("m@localhost").compose(call)["To"] == "grou@example.org"


def test_the_kamer_calls_in_its_own_language_and_hears_the_persons():
    planned = plan("request.unmatched", known("fy", kamer_language="en", resident_phone="+31587000000"))
    call = only(planned, "please_call")
    rendered = render(call)
    assert call.language == "en" and "Language: Frisian" in rendered.text
    assert "Could you call Durk?" in rendered.text


def test_a_person_notify_never_heard_of_is_a_call_too():
    k = known()
    planned = plan("assignment.accepted", Known(kamer=k.kamer))  # no contacts at all
    calls = sorted((n.subject_kind, n.subject_id) for n in planned if n.template == "please_call")
    assert calls == [("resident", "rq-1"), ("volunteer", "vo-7")]
    assert {n.context["why"] for n in planned if n.template == "please_call"} == {"no_contact"}


def test_a_kamer_webhook_gets_its_own_copy_of_a_call_with_its_own_key():
    k = known(volunteer_email=None, webhook_url="https://grou.example/hook")
    accepted = plan("assignment.accepted", k)  # volunteer and resident unreachable: two calls, plus "accepted"
    assert len(accepted) == 6 and len({n.key for n in accepted}) == 6  # each with its e-mail and its webhook
    hooks = [n for n in plan("assignment.approved", k) if n.channel == "webhook"]
    assert [h.recipient for h in hooks] == ["webhook:grou#call:volunteer:vo-7"]
    assert hooks[0].payload["message"] == "volunteer_offer"


def test_a_cancellation_goes_to_every_volunteer_who_was_told():
    k = known(told=())
    assert plan("request.cancelled", k) == []
    two = Known(**{**k.__dict__, "told": ("vo-7", "vo-9")})
    recipients = sorted((n.recipient_kind, n.subject_id, n.template) for n in plan("request.cancelled", two))
    assert recipients == [("kamer", "vo-9", "please_call"), ("volunteer", "vo-7", "volunteer_cancellation")]


@pytest.mark.parametrize("reachable", [True, False], ids=["reachable", "kamer-would-call"])
def test_after_the_cancellation_nobody_hears_more_of_the_request(reachable):
    contacts = known() if reachable else known(volunteer_email=None, resident_phone=None)
    k = Known(**{**contacts.__dict__, "task": Task("rq-1", "pets", cancelled_at=OCCURRED)})
    assert k.request_cancelled and not contacts.request_cancelled
    for event_type in EVENTS:  # no offer, no address, no "a volunteer is coming", nothing to the kamer
        if event_type != "request.cancelled":
            assert plan(event_type, k) == [], event_type
    # the cancellation itself still reaches who was told
    assert [n.template for n in plan("request.cancelled", k)] == (
        ["volunteer_cancellation"] if reachable else ["please_call"])


# -- every template renders, in both formats, and survives MIME ---------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("event_type", list(EVENTS))
@pytest.mark.parametrize("reachable", [True, False])
def test_every_message_renders_and_survives_mime_byte_for_byte(event_type, language, reachable):
    k = known(language) if reachable else Known(kamer=known(language).kamer, told=("vo-7",))
    planned = plan(event_type, k)
    assert planned
    for n in planned:
        expected = render(n)
        wire = MessageComposer("mienskip@localhost").compose(n).as_bytes(policy=WIRE_POLICY)
        assert max(wire) < 128
        parsed = message_from_bytes(wire, policy=default)
        assert parsed["Subject"] == expected.subject
        assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == expected.text
        assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == expected.html
        assert f'<html lang="{n.language}">' in expected.html
        if n.recipient_kind != "kamer":
            assert TemplateRenderer().render_sms(n.template, n.language, n.context)


def test_times_are_written_as_people_in_each_language_write_them():
    end = START + timedelta(hours=1, minutes=30)
    assert local_window_text(START, end, "nl") == "dinsdag 1 december 2026, 10:00–11:30 uur"
    assert local_window_text(START, end, "fy") == "tiisdei 1 desimber 2026 10:00–11:30 oere"
    assert local_window_text(START, end, "en") == "Tuesday, 1 December 2026, 10:00–11:30"
    overnight = local_window_text(START, START + timedelta(days=1), "nl")
    assert overnight == "dinsdag 1 december 2026, 10:00 – woensdag 2 december 2026, 10:00"

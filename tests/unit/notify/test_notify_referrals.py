"""Referrals to care providers (issue 13), planned and worded: who hears what of each
referral event, which facts each message carries, and that the provider's e-mail and
webhook carry no personal data (that is behind its signed link)."""

from datetime import UTC, datetime, timedelta

import pytest

from mienskip_notify.adapters.composer import MessageComposer, TemplateRenderer
from mienskip_notify.adapters.wording import catalogue, worded
from mienskip_notify.domain.channels import EMAIL, MAILBOX, SMS, WEBHOOK
from mienskip_notify.domain.contacts import KamerContact, Known, ProviderContact, ResidentContact, Task
from mienskip_notify.domain.facts import Category, TaskTime, Urgency
from mienskip_notify.domain.planner import notifications_for
from mienskip_notify.domain.referrals import referral_link_expiry
from mienskip_notify.domain.routing import INACTIVE, NO_CHANNEL, provider_signer
from mienskip_shared.contracts.vocabulary import URGENCIES
from mienskip_shared.i18n import LANGUAGES
from mienskip_shared.links import sign_referral_link, verify_referral_link

SECRET = "unit test link secret"
EVENT_ID = "1d7c3e0a-2b4f-4c6d-8e9f-0a1b2c3d4e5f"
OCCURRED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # tiisdei 1 desimber, 10:00 in Leeuwarden
WINDOW = {"start": START, "end": START + timedelta(hours=1)}
DUE = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # two working days later, 17:00 in Leeuwarden
VISIT = datetime(2026, 11, 30, 13, 30, tzinfo=UTC)  # moandei 30 novimber, 14:30
# The resident's personal data notify knows: none of it may reach the provider by e-mail or webhook.
RESIDENT_SECRETS = ("Durk", "Tsjerkepaed 3, 9001 AB Grou", "Nijlân", "+31587123456")

REFERRAL = {"referral_id": "rf-1", "request_id": "rq-1", "provider_id": "pr-1", "kamer_id": "grou",
            "region": "leeuwarden", "actor": "kamer", "category": "paperwork", "helper": "professional"}
EVENTS = {
    "referral.sent": {**REFERRAL, "window": WINDOW, "urgency": "high", "due_at": DUE},
    "referral.accepted": {**REFERRAL, "actor": "provider", "who": "Sietske de Vries", "when": VISIT},
    "referral.declined": {**REFERRAL, "actor": "provider", "reason": "Gjin plak oant jannewaris"},
    "referral.overdue": {**REFERRAL, "actor": "policy", "sent_at": OCCURRED, "due_at": DUE},
}


def provider(**fields) -> ProviderContact:
    return ProviderContact(**{"provider_id": "pr-1", "name": "Sociaal Wijkteam Grou", "email": "wijkteam@example.org",
                              "phone": "+31582345678", "webhook_url": None, "language": "fy", **fields})


def known(*, language="nl", resident_phone="+31587123456", kamer_phone="+31566601234", **provider_fields) -> Known:
    return Known(
        kamer=KamerContact("grou", "Dorpskamer Grou", "grou@example.org", None, language, kamer_phone),
        resident=ResidentContact("rq-1", "grou", "Durk", resident_phone, language, RESIDENT_SECRETS[1], "Nijlân"),
        provider=provider(**provider_fields),
    )


def plan(event_type, k: Known, *, email=True, sms=False, data=None):
    return notifications_for(event_type, EVENT_ID, OCCURRED, data or EVENTS[event_type], k.kamer,
                             email_enabled=email, sms_enabled=sms, public_url="https://mienskip.example", known=k,
                             sign_referral=lambda r, p, e: sign_referral_link(SECRET, r, p, e))


def render(n):
    return TemplateRenderer().render(n.template, n.language, n.context)


def routes(notifications):
    return sorted((n.recipient_kind, n.channel, n.template) for n in notifications)


# -- referral.sent: the provider is asked -------------------------------------------------------

def test_a_referral_asks_the_provider_by_email_in_its_language_with_a_signed_link():
    (n,) = plan("referral.sent", known())
    assert (n.recipient_kind, n.channel, n.recipient, n.language, n.template) == (
        "provider", EMAIL, "wijkteam@example.org", "fy", "provider_referral")
    assert (n.subject_kind, n.subject_id, n.kamer_id, n.request_id) == ("provider", "pr-1", "grou", "rq-1")
    context = n.context
    assert context["category"] == Category("paperwork") and context["when"] == TaskTime(START, WINDOW["end"])
    assert context["urgency"] == Urgency("high") and context["urgent"] is True
    assert (context["kamer_name"], context["kamer_phone"], context["due_at"]) == (
        "Dorpskamer Grou", "+31566601234", DUE)
    assert context["link_expires"] == DUE + timedelta(days=14) == referral_link_expiry(DUE)
    token = context["link"].removeprefix("https://mienskip.example/p/")
    link = verify_referral_link(SECRET, token, now=OCCURRED)
    assert (link.referral_id, link.provider_id, link.expires_at) == ("rf-1", "pr-1", DUE + timedelta(days=14))


def test_the_providers_message_and_webhook_carry_no_personal_data():
    notifications = plan("referral.sent", known(webhook_url="https://wijkteam.example/hook"))
    assert routes(notifications) == [("provider", EMAIL, "provider_referral"), ("provider", WEBHOOK, "provider_referral")]
    email, hook = sorted(notifications, key=lambda n: n.channel)
    for n in (email, hook):
        rendered = render(n)
        shown = f"{rendered.subject}\n{rendered.text}\n{rendered.html}\n{n.context}\n{n.payload}"
        assert not [secret for secret in RESIDENT_SECRETS if secret in shown]
    assert set(hook.payload) == {"type", "event_id", "occurred_at", "referral_id", "request_id", "provider_id",
                                 "kamer_id", "category", "window", "urgency", "due_at", "link", "link_expires_at"}
    assert (hook.payload["urgency"], hook.payload["due_at"], hook.payload["link"]) == ("high", DUE, email.context["link"])
    assert (hook.recipient, hook.address, hook.signer) == (
        "webhook:provider:pr-1", "https://wijkteam.example/hook", provider_signer("pr-1"))
    assert hook.subject_kind is None  # a failed webhook alone does not make the kamer call


def test_a_provider_with_only_a_webhook_gets_only_the_webhook():
    assert routes(plan("referral.sent", known(email=None, webhook_url="https://wijkteam.example/hook"))) == [
        ("provider", WEBHOOK, "provider_referral")]


def test_without_smtp_the_providers_message_goes_to_the_mailbox_in_its_name():
    (n,) = plan("referral.sent", known(), email=False)
    assert (n.channel, n.recipient) == (MAILBOX, "wijkteam@example.org")
    assert MessageComposer("m@localhost").compose(n)["To"] == "wijkteam@example.org"


@pytest.mark.parametrize(("fields", "why"), [({"active": False}, INACTIVE), ({"email": None}, NO_CHANNEL)])
def test_a_provider_notify_cannot_reach_is_the_kamers_to_call(fields, why):
    (n,) = plan("referral.sent", known(**fields))
    assert (n.recipient_kind, n.template, n.subject_kind, n.subject_id) == ("kamer", "please_call", "provider", "pr-1")
    assert (n.context["why"], n.context["person_first_name"], n.context["person_phone"]) == (
        why, "Sociaal Wijkteam Grou", "+31582345678")
    text = render(n).text
    assert "Wilt u Sociaal Wijkteam Grou bellen? (zorgaanbieder pr-1)" in text
    assert "urgentie hoog" in text and "https://mienskip.example/p/rl1." in text


def test_a_provider_whose_email_failed_for_good_is_the_kamers_to_call():
    k = known()
    (n,) = plan("referral.sent", Known(**{**k.__dict__, "unreachable": frozenset({("provider", "pr-1")})}))
    assert (n.recipient_kind, n.template, n.context["why"]) == ("kamer", "please_call", "not_delivered")


def test_the_same_event_plans_the_same_keys_and_the_same_link():
    first, again = plan("referral.sent", known()), plan("referral.sent", known())
    assert [n.key for n in first] == [n.key for n in again]
    assert first[0].context["link"] == again[0].context["link"]


def test_nothing_about_a_cancelled_request():
    k = known()
    cancelled = Known(**{**k.__dict__, "task": Task("rq-1", cancelled_at=OCCURRED)})
    assert all(plan(event_type, cancelled) == [] for event_type in EVENTS)


# -- the answers: the kamer (and for an acceptance the resident) hear ------------------------------

def test_an_acceptance_tells_the_resident_over_their_channel_and_the_kamer():
    notifications = plan("referral.accepted", known(language="fy"), email=False, sms=True)
    assert routes(notifications) == [("kamer", MAILBOX, "referral_accepted"),
                                     ("resident", SMS, "resident_provider_coming")]
    resident = next(n for n in notifications if n.recipient_kind == "resident")
    assert (resident.recipient, resident.language, resident.subject_id) == ("+31587123456", "fy", "rq-1")
    assert (resident.context["provider_name"], resident.context["who"], resident.context["visit_at"]) == (
        "Sociaal Wijkteam Grou", "Sietske de Vries", VISIT)
    sms = TemplateRenderer().render_sms(resident.template, resident.language, resident.context)
    assert sms == ("Dorpskamer Grou: Sociaal Wijkteam Grou helpt jo. Sietske de Vries komt by jo del of nimt kontakt "
                   "mei jo op: moandei 30 novimber 2026 14:30.")


def test_a_resident_notify_cannot_reach_is_the_kamers_to_call():
    notifications = plan("referral.accepted", known(resident_phone=None), sms=True)
    assert routes(notifications) == [("kamer", EMAIL, "please_call"), ("kamer", EMAIL, "referral_accepted")]
    call = next(n for n in notifications if n.template == "please_call")
    assert "Sociaal Wijkteam Grou helpt: Sietske de Vries, maandag 30 november 2026, 14:30." in render(call).text


def test_a_decline_tells_the_kamer_the_reason_and_where_to_choose_another():
    (n,) = plan("referral.declined", known())
    assert (n.recipient_kind, n.template) == ("kamer", "referral_declined")
    rendered = render(n)
    assert rendered.subject == "Verwijzing afgewezen – hulpvraag rq-1"
    assert "Reden: Gjin plak oant jannewaris" in rendered.text
    assert "https://mienskip.example/review/requests/rq-1" in rendered.text


def test_an_overdue_referral_tells_the_kamer_that_the_coordinator_sees_it_too():
    (n,) = plan("referral.overdue", known())
    assert (n.recipient_kind, n.template) == ("kamer", "referral_overdue")
    text = render(n).text
    assert "Aandacht nodig" in text and "+31582345678" in text
    assert "op de verwijzing van dinsdag 24 november 2026, 10:00 (termijn: donderdag 26 november 2026, 17:00)" in text


# -- every template in every language ---------------------------------------------------------------

SUBJECTS = {
    ("referral.sent", "nl"): "SPOED: Verwijzing: papierwerk – Dorpskamer Grou",
    ("referral.sent", "fy"): "DRIUWEND: Trochferwizing: papierwurk – Dorpskamer Grou",
    ("referral.sent", "en"): "URGENT: Referral: paperwork – Dorpskamer Grou",
    ("referral.accepted", "nl"): "Verwijzing aangenomen – hulpvraag rq-1",
    ("referral.accepted", "fy"): "Trochferwizing oannommen – helpfraach rq-1",
    ("referral.accepted", "en"): "Referral accepted – request rq-1",
    ("referral.declined", "nl"): "Verwijzing afgewezen – hulpvraag rq-1",
    ("referral.declined", "fy"): "Trochferwizing ôfwiisd – helpfraach rq-1",
    ("referral.declined", "en"): "Referral declined – request rq-1",
    ("referral.overdue", "nl"): "Geen antwoord van Sociaal Wijkteam Grou – hulpvraag rq-1",
    ("referral.overdue", "fy"): "Gjin antwurd fan Sociaal Wijkteam Grou – helpfraach rq-1",
    ("referral.overdue", "en"): "No answer from Sociaal Wijkteam Grou – request rq-1",
}
RESIDENT_SUBJECTS = {"nl": "Sociaal Wijkteam Grou helpt u op maandag 30 november 2026",
                     "fy": "Sociaal Wijkteam Grou helpt jo op moandei 30 novimber 2026",
                     "en": "Sociaal Wijkteam Grou will help you on Monday, 30 November 2026"}
FACTS = {"nl": ("dinsdag 1 december 2026, 10:00–11:00 uur", "hoog"),
         "fy": ("tiisdei 1 desimber 2026 10:00–11:00 oere", "heech"),
         "en": ("Tuesday, 1 December 2026, 10:00–11:00", "high")}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("event_type", list(EVENTS))
def test_every_referral_message_in_each_language(event_type, language):
    notifications = plan(event_type, _known_in(language), sms=True)
    assert "please_call" not in {n.template for n in notifications}
    for n in notifications:
        rendered = render(n)  # StrictUndefined: a missing value fails here
        assert f'<html lang="{language}">' in rendered.html and "\n" not in rendered.subject
        if n.recipient_kind == "resident":
            assert rendered.subject == RESIDENT_SUBJECTS[language]
            assert TemplateRenderer().render_sms(n.template, n.language, n.context).startswith("Dorpskamer Grou: ")
        else:
            assert rendered.subject == SUBJECTS[event_type, language]
    if event_type == "referral.sent":
        text = render(notifications[0]).text
        when, urgency = FACTS[language]
        assert when in text and urgency in text and "+31566601234" in text


def _known_in(language):
    """The kamer, the resident and the provider all read ``language``."""
    k = known(language=language)
    return Known(**{**k.__dict__, "provider": provider(language=language)})


def test_a_combined_request_tells_the_provider_a_volunteer_helps_too():
    data = {**EVENTS["referral.sent"], "helper": "both", "urgency": "normal"}
    (n,) = plan("referral.sent", _known_in("en"), data=data)
    rendered = render(n)
    assert "refers a request for help to you; a volunteer helps as well." in rendered.text
    assert rendered.subject == "Referral: paperwork – Dorpskamer Grou"  # not urgent: no prefix


def test_urgency_is_a_fact_worded_from_the_catalogue():
    assert [worded({"u": Urgency(code)}, "fy")["u"] for code in URGENCIES] == ["leech", "gewoan", "heech", "driuwend"]
    needed = {f"urgency.{code}" for code in URGENCIES}
    for language in LANGUAGES:
        assert needed <= catalogue().keys(language), language

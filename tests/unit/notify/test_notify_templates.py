"""notify's templates: both messages in nl, fy and en, and UTF-8 that survives MIME."""

import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import MIMEPart
from email.policy import SMTP, default

import pytest
from jinja2 import UndefinedError

from mienskip_notify.adapters.composer import (
    ALTERNATIVE_BOUNDARY,
    MAIL_POLICY,
    WIRE_POLICY,
    MessageComposer,
    TemplateRenderer,
)
from mienskip_notify.domain.contacts import KamerContact, Known, VolunteerContact
from mienskip_notify.domain.planner import notifications_for

OCCURRED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EVENT_ID = "0b8f6a52-5d1e-4f0e-8a7c-3f1f7e9d2c44"
UNICODE_NAME = "Buertkeamer Ljouwert – Grou ❤️ 🐕"
EXPLANATION = {"distance_km": 1.2, "skills_matched": ["pets"], "availability": "tue 09:00-12:00",
               "load_this_week": 1, "max_tasks_per_week": 3,
               "runner_up": {"volunteer_id": "vo-9", "distance_km": 2.5, "reason": {"code": "further", "km": 1.3},
                             "rule": None}}
# The runner-up's line in each language: the code worded by notify's catalogue, km the reader's way.
WHY = {"nl": "volgende kandidaat (2,5 km): 1,3 km verder", "fy": "folgjende kandidaat (2,5 km): 1,3 km fierder",
       "en": "next candidate (2.5 km): 1.3 km further"}


def kamer(language: str, name: str = UNICODE_NAME, email: str | None = "kamer@example.org") -> KamerContact:
    return KamerContact(kamer_id="grou", name=name, email=email, language=language)


def proposal(language: str, **kamer_fields):
    data = {"assignment_id": "as-1", "request_id": "rq-1", "volunteer_id": "vo-7", "kamer_id": "grou",
            "region": "leeuwarden", "distance_km": 1.2, "explanation": EXPLANATION}
    (n,) = notifications_for("assignment.review_requested", EVENT_ID, OCCURRED, data, kamer(language, **kamer_fields),
                             email_enabled=True, public_url="http://127.0.0.1:8000")
    return n


def unmatched(language: str):
    data = {"request_id": "rq-2", "kamer_id": "grou", "region": "leeuwarden",
            "reasons": {"region": 4, "distance": 2, "overlap": 1}, "considered": 10}
    n, _please_call_the_resident = notifications_for("request.unmatched", EVENT_ID, OCCURRED, data, kamer(language),
                                                     email_enabled=False, public_url="http://127.0.0.1:8000")
    return n


PROPOSAL_TEXT = {
    "nl": ("Voorstel klaar voor beoordeling – hulpvraag rq-1", "Er staat een voorstel klaar voor beoordeling.",
           "dinsdag 1 december 2026, 10:00", "1,2 km"),
    "fy": ("In foarstel stiet klear foar beoardieling – helpfraach rq-1", "In foarstel stiet klear",
           "tiisdei 1 desimber 2026 10:00", "1,2 km"),
    "en": ("Proposal ready for review – request rq-1", "A proposal is ready for your review.",
           "Tuesday, 1 December 2026, 10:00", "1.2 km"),
}
UNMATCHED_WORDS = {  # matching's codes and counts, worded by notify
    "nl": ("6 vrijwilligers hebben de vaardigheid; 2 te ver weg, 1 geen tijd",
           "- andere regio: 4\n- te ver weg: 2\n- geen tijd: 1\n", "<li>andere regio: 4</li>"),
    "fy": ("6 frijwilligers hawwe de feardichheid; 2 te fier fuort, 1 gjin tiid",
           "- oare regio: 4\n- te fier fuort: 2\n- gjin tiid: 1\n", "<li>oare regio: 4</li>"),
    "en": ("6 volunteers have the skill; 2 too far, 1 busy",
           "- other region: 4\n- too far: 2\n- busy: 1\n", "<li>other region: 4</li>"),
}
UNMATCHED_TEXT = {
    "nl": ("Geen vrijwilliger gevonden – hulpvraag rq-2", "is geen vrijwilliger gevonden"),
    "fy": ("Gjin frijwilliger fûn – helpfraach rq-2", "is gjin frijwilliger fûn"),
    "en": ("No volunteer found – request rq-2", "No volunteer was found"),
}


@pytest.mark.parametrize("volunteer_kamer, shown", [("grou", "Hiltsje"), ("mantgum", "–")])
def test_a_proposal_names_the_kamers_own_volunteer_by_first_name_and_another_kamers_not(volunteer_kamer, shown):
    data = {"assignment_id": "as-1", "request_id": "rq-1", "volunteer_id": "vo-7", "kamer_id": "grou",
            "region": "leeuwarden", "distance_km": 1.2, "explanation": EXPLANATION}
    known = Known(kamer=kamer("nl"), volunteers={"vo-7": VolunteerContact("vo-7", volunteer_kamer, "Hiltsje")})
    (n,) = notifications_for("assignment.review_requested", EVENT_ID, OCCURRED, data, known.kamer, known=known,
                             email_enabled=True, public_url="http://127.0.0.1:8000")
    rendered = TemplateRenderer().render(n.template, n.language, n.context)
    assert f"Vrijwilliger:   {shown}\n" in rendered.text and "vo-7" not in rendered.text


@pytest.mark.parametrize("language", ["nl", "fy", "en"])
def test_proposal_in_each_language(language):
    n = proposal(language)
    rendered = TemplateRenderer().render(n.template, n.language, n.context)
    subject, intro, when, distance = PROPOSAL_TEXT[language]
    assert rendered.subject == subject
    for part in (intro, when, distance, UNICODE_NAME, WHY[language], "http://127.0.0.1:8000/review/requests/rq-1"):
        assert part in rendered.text
    assert "vo-7" not in rendered.text and "vo-7" not in rendered.html  # people are not named by their id
    assert 'href="http://127.0.0.1:8000/review/requests/rq-1"' in rendered.html
    assert f'<html lang="{language}">' in rendered.html
    assert WHY[language] in rendered.html


@pytest.mark.parametrize("language", ["nl", "fy", "en"])
def test_unmatched_in_each_language(language):
    n = unmatched(language)
    rendered = TemplateRenderer().render(n.template, n.language, n.context)
    subject, intro = UNMATCHED_TEXT[language]
    assert rendered.subject == subject
    summary, lines, item = UNMATCHED_WORDS[language]
    for part in (intro, summary, lines):
        assert part in rendered.text
    assert item in rendered.html


def test_unknown_language_is_written_in_dutch():
    n = proposal("de")
    assert TemplateRenderer().render(n.template, n.language, n.context).subject.startswith("Voorstel klaar")


def test_html_escapes_what_the_text_shows_as_is():
    n = proposal("nl", name="Kamer <b>&</b> Co")
    rendered = TemplateRenderer().render(n.template, n.language, n.context)
    assert "Beste Kamer <b>&</b> Co," in rendered.text
    assert "Kamer &lt;b&gt;&amp;&lt;/b&gt; Co" in rendered.html


def test_a_missing_value_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        TemplateRenderer().render("assignment_proposed", "nl", {"request_id": "rq-1"})


def test_a_subject_is_always_one_line():
    n = proposal("en")
    context = {**n.context, "request_id": "rq-1\r\nBcc: someone@example.org"}
    assert "\n" not in TemplateRenderer().render(n.template, "en", context).subject


@pytest.mark.parametrize("language", ["nl", "fy", "en"])
@pytest.mark.parametrize("build", [proposal, unmatched])
def test_unicode_survives_mime_byte_for_byte(build, language):
    n = build(language)
    expected = TemplateRenderer().render(n.template, n.language, n.context)
    wire = MessageComposer("mienskip@localhost").compose(n).as_bytes(policy=WIRE_POLICY)
    assert max(wire) < 128  # 7-bit clean on the wire: RFC 2047 subject, quoted-printable bodies
    assert f"\r\nMessage-ID: <{n.key}@mienskip>\r\n".encode() in wire
    assert all(len(line) <= 78 for line in wire.split(b"\r\n") if not line.startswith(b"Message-ID:"))

    parsed = message_from_bytes(wire, policy=default)
    assert parsed["Subject"] == expected.subject
    assert parsed["Message-ID"] == f"<{n.key}@mienskip>"
    # MIME's canonical line end is CRLF; every other byte must come back unchanged
    text = parsed.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = parsed.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert text.encode("utf-8") == expected.text.encode("utf-8")
    assert html.encode("utf-8") == expected.html.encode("utf-8")
    assert "Ljouwert" in text and "Grou ❤️ 🐕" in text


def test_email_has_a_recipient_and_the_mailbox_copy_does_not():
    assert MessageComposer("m@localhost").compose(proposal("nl"))["To"] == "kamer@example.org"
    assert MessageComposer("m@localhost").compose(unmatched("nl"))["To"] is None


def test_a_line_like_the_boundary_in_a_body_does_not_end_the_part():
    n = proposal("fy", name=f"Grou\n--{ALTERNATIVE_BOUNDARY}--\n--{ALTERNATIVE_BOUNDARY}")
    expected = TemplateRenderer().render(n.template, n.language, n.context)
    wire = MessageComposer("mienskip@localhost").compose(n).as_bytes(policy=WIRE_POLICY)
    parsed = message_from_bytes(wire, policy=default)
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == expected.text


def without_message_id(wire: bytes) -> bytes:
    return re.sub(rb"\r\nMessage-ID:[^\r]*\r\n( [^\r]*\r\n)*", b"\r\n", wire)


def test_the_policys_caches_change_no_byte():
    composer = MessageComposer("Mienskip <mienskip@localhost>")
    first = composer.compose(proposal("fy"), now=OCCURRED).as_bytes(policy=WIRE_POLICY)
    again = composer.compose(proposal("fy"), now=OCCURRED)  # every header from the caches now
    assert again.as_bytes(policy=WIRE_POLICY) == first
    # the standard policy, nothing cached, folds every header the same way; only Message-ID differs
    assert without_message_id(again.as_bytes(policy=SMTP)) == without_message_id(first)
    assert without_message_id(first) != first


def test_the_message_id_kept_as_text_reads_back_as_a_header():
    n = proposal("nl")
    message_id = MessageComposer("m@localhost").compose(n)["Message-ID"]
    assert message_id == f"<{n.key}@mienskip>"
    assert message_id.defects == ()


EDGES = ".\nFrom here\ntrailing space \ntab\t\n" + "=" * 90 + "\n" + "é" * 50 + "\n" + "x" * 77 + " \nlast line, no end"


def test_quoted_printable_by_the_policy_survives_every_edge():
    part = MIMEPart(policy=MAIL_POLICY)
    part.set_content(EDGES, subtype="plain", charset="utf-8", cte="quoted-printable")
    wire = part.as_bytes(policy=WIRE_POLICY)
    assert max(wire) < 128
    assert b"\r\nContent-Transfer-Encoding: quoted-printable\r\n" in wire
    assert all(len(line) <= 78 for line in wire.split(b"\r\n"))
    parsed = message_from_bytes(wire, policy=default)
    assert parsed["Content-Type"] == 'text/plain; charset="utf-8"'
    # CRLF on the wire, as everywhere; one line end at the end, as the standard set_content adds
    assert parsed.get_content().replace("\r\n", "\n") == EDGES + "\n"


def test_what_the_policy_does_not_encode_itself_goes_the_standard_way():
    part = MIMEPart(policy=MAIL_POLICY)
    part.set_content("hallo", subtype="plain", charset="utf-8", cte="base64")
    assert part["Content-Transfer-Encoding"] == "base64"
    parsed = message_from_bytes(part.as_bytes(policy=WIRE_POLICY), policy=default)
    assert parsed.get_content().replace("\r\n", "\n") == "hallo\n"

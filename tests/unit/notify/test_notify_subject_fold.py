"""A Subject is folded from its cached head and its last word (``SubjectHeader``), byte for
byte as the standard fold does it; it reads back as the standard header and refuses a line break."""

from datetime import UTC, datetime
from email import message_from_bytes
from email.headerregistry import HeaderRegistry
from email.policy import SMTP, SMTPUTF8, EmailPolicy, default

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mienskip_notify.adapters.composer import MAIL_POLICY, WIRE_POLICY, MessageComposer
from mienskip_notify.domain.contacts import KamerContact
from mienskip_notify.domain.planner import notifications_for

OCC = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HEADS = ["Voorstel klaar voor beoordeling – hulpvraag", "In foarstel stiet klear foar beoardieling – helpfraach",
         "Proposal ready for review – request", "DRIUWEND: Helpfraach rq-1 leit by de koördinator",
         "Graag bellen: vrijwilliger Jûtsje – hulpvraag", "Helpfraach: boadskippen op tiisdei 1 desimber 2026",
         "a" * 70, "é" * 40, "x =?utf-8?q?a?= y", "Hulpvraag"]
WORDS = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=90)
TEXT = st.text(st.sampled_from("abcXYZ019-_.:;()<>@,=?!~\"\\ \téûô–❤️🐕\x01"), min_size=1, max_size=130)
STANDARD = HeaderRegistry()  # the email package's own header classes


@settings(max_examples=400, deadline=None)
@given(head=st.one_of(st.sampled_from(HEADS), TEXT), word=st.one_of(WORDS, st.uuids().map(str)),
       separator=st.sampled_from([" ", "  ", "\t "]))
def test_a_subject_folds_and_reads_as_the_standard_header(head, word, separator):
    subject = f"{head}{separator}{word}"
    theirs, ours = STANDARD("Subject", subject), MAIL_POLICY.header_store_parse("Subject", subject)[1]
    assert str(ours) == str(theirs)
    assert [type(defect) for defect in ours.defects] == [type(defect) for defect in theirs.defects]
    for policy in (WIRE_POLICY, MAIL_POLICY, SMTP, default):
        assert policy.fold_binary("Subject", ours) == EmailPolicy.fold_binary(policy, "Subject", theirs)
    for policy in (SMTPUTF8, WIRE_POLICY.clone(utf8=True)):
        assert ours.fold(policy=policy) == theirs.fold(policy=policy)


def test_a_composed_subject_reads_back_whole():
    kamer = KamerContact(kamer_id="grou", name="Dorpskamer Grou", email="grou@example.org", language="fy")
    data = {"assignment_id": "as-1", "request_id": "6f1c2b9e-0d3a-4c55-9a43-0c6f1e0a7b11", "volunteer_id": "vo-7",
            "kamer_id": "grou", "region": "leeuwarden", "distance_km": 1.2, "explanation": {}}
    (n,) = notifications_for("assignment.review_requested", "ev-1", OCC, data, kamer, email_enabled=True,
                             public_url="http://127.0.0.1:8000")
    message = MessageComposer("m@localhost").compose(n)
    expected = "In foarstel stiet klear foar beoardieling – helpfraach 6f1c2b9e-0d3a-4c55-9a43-0c6f1e0a7b11"
    assert message["Subject"] == expected
    wire = message.as_bytes(policy=WIRE_POLICY)
    assert b"\r\n 6f1c2b9e-0d3a-4c55-9a43-0c6f1e0a7b11\r\n" in wire  # the id on a continuation line
    assert message_from_bytes(wire, policy=default)["Subject"] == expected


@pytest.mark.parametrize("subject", ["one\r\nBcc: x@example.org", "one\ntwo"])
def test_a_subject_with_a_line_break_is_refused(subject):
    with pytest.raises(ValueError):
        MAIL_POLICY.header_store_parse("Subject", subject)




"""The messages after the match in nl, fy and en: every sentence from the catalogue, in
all three languages with the same placeholders, and each message rendered whole."""

import re
import string
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from mienskip_notify.adapters.composer import MessageComposer
from mienskip_notify.adapters.wording import catalogue
from mienskip_notify.domain.after_match import (
    HeldReview,
    ScheduledItem,
    attention_digest_message,
    review_digest_messages,
    scheduled_messages,
    visit_not_done_messages,
)
from mienskip_notify.domain.channels import Channels
from mienskip_notify.domain.contacts import KamerContact, Known, ResidentContact, Task, VolunteerContact
from mienskip_notify.domain.schedule import FOLLOW_UP, HOW_DID_IT_GO, REMINDER, REVIEW_DIGEST

TEMPLATES = Path(__file__).resolve().parents[3] / "services/notify/mienskip_notify/templates"
NEW_MESSAGES = ("volunteer_reminder", "resident_reminder", "visit_question", "resident_follow_up",
                "follow_up_by_phone", "visit_not_done", "attention_digest", "review_digest")
LANGUAGES = ("nl", "fy", "en")
RAW_KEY = re.compile(r"\b(after_match|reminder|visit|follow_up|follow_up_by_phone|not_done|attention|review_digest)"
                     r"\.[a-z_.]+\b")
START, END = datetime(2026, 12, 1, 9, 0, tzinfo=UTC), datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def keys_used() -> set[str]:
    found = set()
    for name in NEW_MESSAGES:
        for path in TEMPLATES.glob(f"{name}.*.j2"):
            found |= set(re.findall(r'say\("([a-z_.]+)"', path.read_text(encoding="utf-8")))
    return found | {"after_match.age_hour", "after_match.age_hours", "after_match.age_days"}  # worded in code


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_every_sentence_is_in_the_catalogue_in_nl_fy_and_en_with_the_same_placeholders():
    words = catalogue()
    used = keys_used()
    assert len(used) > 50
    for key in sorted(used):
        texts = {lang: words._texts[lang].get(key) for lang in LANGUAGES}
        assert all(texts.values()), (key, texts)
        assert placeholders(texts["nl"]) == placeholders(texts["fy"]) == placeholders(texts["en"]), key


def test_frisian_is_frisian_not_dutch():
    words = catalogue()
    sentences = [k for k in keys_used() if len(words.text("nl", k).split()) > 3]
    assert sentences and all(words.text("fy", k) != words.text("nl", k) for k in sentences)


KAMER = KamerContact("grou", "Dorpskamer Grou", email="grou@example.org", language="nl")
KNOWN = Known(kamer=KAMER, volunteers={"vo-7": VolunteerContact("vo-7", "grou", "Hiltsje", email="h@example.org")},
              resident=ResidentContact("rq-1", "grou", "Durk", phone="+31612345678", address="Tsjerkepaed 3"),
              task=Task("rq-1", "pets", START, END))


def messages(language: str):
    """One of each new message, in ``language`` (every reader's language set to it)."""
    item = dict(subject_id="as-1", kamer_id="grou", request_id="rq-1", assignment_id="as-1",
                volunteer_id="vo-7", category="pets", start=START, end=END)
    found = []
    for kind in (REMINDER, HOW_DID_IT_GO, FOLLOW_UP):
        found += scheduled_messages(ScheduledItem(kind=kind, due_at=END, **item), KNOWN, Channels(email=True, sms=True),
                                    "https://m.example", sign_visit=lambda *a: "vl1.t", sign_follow_up=lambda *a: "fl1.t")
    no_channel = Known(kamer=KAMER, resident=ResidentContact("rq-1", "grou", "Durk"))
    found += scheduled_messages(ScheduledItem(kind=FOLLOW_UP, due_at=END, **item), no_channel, Channels(email=True),
                                "https://m.example", sign_visit=lambda *a: "", sign_follow_up=lambda *a: "fl1.t")
    found += visit_not_done_messages("ev-1", END, {"request_id": "rq-1", "kamer_id": "grou", "volunteer_id": "vo-7",
                                                   "assignment_id": "as-1", "done": False, "reason": "ziek"},
                                     KNOWN, Channels(email=True), "https://m.example")
    found.append(attention_digest_message("ev-2", {
        "region": "leeuwarden", "email": "co@example.org", "language": language, "week": date(2026, 11, 30),
        "link": "https://m.example/review/attention",
        "counts": {"proposals_unreviewed": 3, "offers_unanswered": 1, "referrals_unanswered": 0,
                   "visits_unrecorded": 2, "follow_ups_open": 1, "oldest_hours": 80.0}}, email_enabled=True))
    found += review_digest_messages(ScheduledItem(kind=REVIEW_DIGEST, subject_id="dg-1", kamer_id="grou", due_at=END),
                                    KNOWN, Channels(email=True), "https://m.example",
                                    [HeldReview("rq-1", "pets", START), HeldReview("rq-2", None, START + timedelta(minutes=2)),
                                     HeldReview("rq-3", "pets", START + timedelta(minutes=3))])
    return [n.__class__(**{**n.__dict__, "language": language}) for n in found]


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_new_message_renders_whole_in_each_language(language):
    composer = MessageComposer("mienskip@localhost")
    planned = messages(language)
    assert {n.template for n in planned} == set(NEW_MESSAGES)
    for n in planned:
        content = composer.compose(n)
        texts = [content] if isinstance(content, str) else [content["Subject"]] + [
            part.get_content() for part in content.iter_parts()]
        for text in texts:
            assert not RAW_KEY.search(text), (n.template, language, text)


EXPECTED = {  # a sentence of each message, as its reader reads it
    "nl": {"volunteer_reminder": "Een herinnering aan je taak", "resident_reminder": "Hiltsje komt u helpen",
           "visit_question": "hoeveel km je gereden hebt", "resident_follow_up": "Is de hulp gekomen?",
           "follow_up_by_phone": "Wilt u bellen", "visit_not_done": "Reden: ziek",
           "attention_digest": "Het oudste wacht al 3 dagen.", "review_digest": "Er staan 3 nieuwe voorstellen klaar voor beoordeling"},
    "fy": {"volunteer_reminder": "In oantinken oan dyn taak", "resident_reminder": "Hiltsje komt jo helpen",
           "visit_question": "hoefolle km asto riden hast", "resident_follow_up": "Is de help kommen?",
           "follow_up_by_phone": "Wolle jo belje", "visit_not_done": "Reden: ziek",
           "attention_digest": "It âldste wachtet al 3 dagen.", "review_digest": "Der steane 3 nije foarstellen klear"},
    "en": {"volunteer_reminder": "A reminder of your task", "resident_reminder": "Hiltsje is coming to help you",
           "visit_question": "how many km you drove", "resident_follow_up": "Did the help come?",
           "follow_up_by_phone": "Could you call them", "visit_not_done": "Reason: ziek",
           "attention_digest": "The oldest has waited 3 days.", "review_digest": "3 new proposals are ready for your review"},
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_message_says_it_in_the_readers_words(language):
    composer = MessageComposer("mienskip@localhost")
    for n in messages(language):
        content = composer.compose(n)
        text = content if isinstance(content, str) else content.get_body(("plain",)).get_content()
        if n.channel == "sms":
            continue
        assert EXPECTED[language][n.template] in " ".join(text.split()), (n.template, text)

"""Intake's catalogue: every word in nl, fy and en, and words for every code it shows."""

import re
from pathlib import Path

import pytest

from mienskip_intake.catalogue import DIRECTORY, catalogue
from mienskip_intake.domain.model import AssignmentStatus, Note, Status
from mienskip_intake.entrypoints.errors import CODES
from mienskip_intake.entrypoints.wording import conflict_why, history_note, runner_up_why, unmatched_words
from mienskip_shared.contracts.vocabulary import (
    CATEGORIES,
    CHANNELS,
    RECIPIENT_KINDS,
    RULES,
    RUNNER_UP_CAUSES,
    URGENCIES,
)
from mienskip_shared.i18n import LANGUAGES

INTAKE = Path(DIRECTORY).parent
# a whole key in quotes, then "," or ")": not a prefix such as _('attention.next_failed_' ~ kind)
LITERAL_KEYS = re.compile(r"""(?:\b_\(|words\()\s*['"]([a-z_0-9]+(?:\.[a-z_0-9]+)+)['"]\s*[,)]""")


def _used_keys() -> set[str]:
    """Keys the pages and views name literally: ``_('flash.approved')``, ``words("flash.bulk", ...)``."""
    files = [*INTAKE.glob("web/templates/**/*.html"), *INTAKE.glob("entrypoints/**/*.py")]
    return {key for path in files for key in LITERAL_KEYS.findall(path.read_text(encoding="utf-8"))}


def test_every_key_is_worded_in_every_language():
    words = catalogue()
    keys = {language: words.keys(language) for language in LANGUAGES}
    assert len(keys["nl"]) > 200
    for language in LANGUAGES:
        assert keys[language] == keys["nl"], (language, keys[language] ^ keys["nl"])


def test_the_placeholders_are_the_same_in_every_language():
    words = catalogue()
    for key in words.keys("nl"):
        names = {language: set(re.findall(r"{(\w+)}", words.text(language, key))) for language in LANGUAGES}
        assert names["fy"] == names["nl"] == names["en"], (key, names)


def test_every_key_the_pages_name_has_words():
    used = _used_keys()
    assert "flash.approved" in used and "nav.proposals" in used  # the pattern finds them
    assert used - catalogue().keys("nl") == set()


@pytest.mark.parametrize("family, codes", [
    ("reason", (*RULES, "taken")),
    ("cause", RUNNER_UP_CAUSES),
    ("summary", ("no_region", "no_skill", "one_skilled", "skilled", "count")),
    ("cat", CATEGORIES),
    ("urgency", URGENCIES),
    ("status", tuple({*Status, *AssignmentStatus})),
    ("history", tuple(Note)),
    ("recipient", RECIPIENT_KINDS),
    ("channel", CHANNELS),
    ("api.error", (*map(str, CODES), "409_because", "409_idempotency", "other")),
    ("conflict", ("transition", "race", "ended")),
])
def test_every_code_shown_has_words(family, codes):
    words = catalogue()
    for code in codes:
        for language in LANGUAGES:
            assert f"{family}.{code}" in words.keys(language), (family, code, language)


def test_frisian_and_english_are_not_dutch():
    words = catalogue()
    assert words.text("fy", "nav.proposals") == "Foarstellen"
    assert words.text("en", "nav.proposals") == "Proposals"
    assert words.text("nl", "nav.proposals") == "Voorstellen"
    assert words.text("de", "nav.proposals") == "Voorstellen"  # a language we do not write in: Dutch


@pytest.mark.parametrize("language, runner_up, words", [
    ("fy", {"reason": {"code": "further", "km": 1.25}, "rule": None}, "1,2 km fierder"),
    ("en", {"reason": {"code": "further_than_continuity", "km": 0.4}, "rule": None},
     "helped last time, but 0.4 km further"),
    ("nl", {"reason": {"code": "taken"}, "rule": None}, "nodig voor een andere hulpvraag"),
    ("fy", {"reason": {"code": "distance"}, "rule": "distance"}, "te fier fuort"),
    ("fy", {"reason": {"code": "reserved_for_series"}, "rule": "reserved_for_series"},
     "frijhâlden foar in fêste wyklikse helpfraach"),
    ("nl", {"why": "1.2 km verder / 1.2 km further", "rule": None}, "1.2 km verder / 1.2 km further"),  # stored before codes
])
def test_a_runner_up_is_worded_from_its_codes(language, runner_up, words):
    assert runner_up_why(catalogue(), language, runner_up) == words


def test_an_unmatched_request_is_summarised_in_the_readers_language():
    reasons = {"region": 4, "skills": 3, "distance": 2, "availability": 1}
    assert unmatched_words(catalogue(), "nl", reasons, 10) == (
        "3 vrijwilligers hebben de vaardigheid; 2 × te ver weg, 1 × niet beschikbaar")
    assert unmatched_words(catalogue(), "fy", {"region": 1, "skills": 1}, 2) == "gjin frijwilliger hat de feardichheid"
    assert unmatched_words(catalogue(), "en", {"skills": 3}, None) == "3 × lacks the skill"  # an older matching


@pytest.mark.parametrize("code, params", [
    ("transition", {"current": "cancelled", "wanted": "approved"}), ("race", {}), ("ended", {"status": "rejected"})])
def test_every_conflict_is_worded_with_its_statuses(code, params):
    for language in LANGUAGES:
        words = conflict_why(catalogue(), language, code, params)
        assert "{" not in words and "status." not in words and "_" not in words, (language, words)


def test_a_conflict_names_the_status_in_the_readers_words():
    assert conflict_why(catalogue(), "fy", "ended", {"status": "rejected"}) == (
        "dit foarstel is ôfwiisd; de helpfraach is fierder gien")


NOTE_PARAMS = {  # what intake stores with each code (service_layer), as the pages and the API read it back
    Note.VOLUNTEER_ERASED_CLOSED: {"assignment_status": "proposed", "assignment_id": "a-1"},
    Note.REASSIGNED: {"volunteer_id": "v-2"},
    Note.SERIES_CONTINUED: {"follows": "r-1"},
    Note.FOLLOW_UP_ANSWERED: {"answer": "more"},
    Note.REFERRAL_CLOSED: {"provider_id": "p-1", "referral_id": "rf-1", "was": "declined"},
    Note.TRANSITION_IGNORED: {"wanted": "proposed", "current": "cancelled"},
    Note.DECISION_OVERTAKEN: {"decision": 3},
    Note.UNMATCHED: {"reasons": {"skills": 2, "distance": 1}, "considered": 5},
    Note.NOTIFICATION_SENT: {"template": "volunteer_offer", "recipient_kind": "volunteer", "channel": "sms"},
    Note.NOTIFICATION_FAILED: {"template": "please_call", "recipient_kind": "kamer", "channel": "email", "attempts": 5},
}


@pytest.mark.parametrize("code", list(Note))
def test_every_history_note_is_worded_with_its_parameters(code):
    for language in LANGUAGES:
        words = history_note(catalogue(), language, code.value, NOTE_PARAMS.get(code), None)
        assert words and "{" not in words and "history." not in words and "_" not in words, (language, words)


def test_a_history_note_words_its_codes_and_keeps_what_a_person_typed():
    assert history_note(catalogue(), "fy", "transition_ignored", NOTE_PARAMS[Note.TRANSITION_IGNORED], None) == (
        "negearre: foarsteld, mar de helpfraach wie al annulearre")
    assert history_note(catalogue(), "en", "unmatched", NOTE_PARAMS[Note.UNMATCHED], None) == (
        "unmatched: 3 volunteers have the skill; 1 × too far")
    assert history_note(catalogue(), "nl", "notification_sent", NOTE_PARAMS[Note.NOTIFICATION_SENT], None) == (
        "aanbod per sms verstuurd aan vrijwilliger")
    assert history_note(catalogue(), "nl", "late_decline", None, "ziek") == "binnen 48 uur: urgent — ziek"
    assert history_note(catalogue(), "en", None, None, "kent de bewoner") == "kent de bewoner"  # typed: as typed
    assert history_note(catalogue(), "en", None, None, None) == ""

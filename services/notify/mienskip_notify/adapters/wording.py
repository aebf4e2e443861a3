"""Words at the edge: a message's facts (``domain.facts``) in the reader's language.

Dates, times and numbers as a reader in Leeuwarden expects them: Babel's CLDR formats for
Dutch, Western Frisian and English (as written in Britain: day before month, a 24-hour
clock, a decimal point), on the clock in Europe/Amsterdam. Matching's reasons travel as
codes with parameters (``{"code": "further", "km": 1.3}``); their words are notify's own,
from its catalogue (``catalogue/<lang>.po``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_interval, format_time, get_datetime_format, get_day_names
from babel.numbers import format_decimal

from mienskip_shared.contracts.matching import runner_up_phrase, unmatched_summary
from mienskip_shared.contracts.vocabulary import DAYS
from mienskip_shared.i18n import Catalogue, as_written

from ..domain.after_match import Age, CategoryCounts, ReviewList
from ..domain.facts import (
    LOCAL_TIME,
    Category,
    DeclineReason,
    Distance,
    ProposalReasons,
    RuleCounts,
    TaskTime,
    UnmatchedSummary,
    Urgency,
)
from ..domain.languages import message_language

CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue"
LOCALES = {"nl": Locale("nl", "NL"), "fy": Locale("fy", "NL"), "en": Locale("en", "GB")}

# After a time span, as people write it: "10:00–11:00 uur", "10:00–11:00 oere", "10:00–11:00".
HOUR_WORD = {"nl": " uur", "fy": " oere", "en": ""}

# DOMAIN.md's categories as a volunteer or resident would name the task.
CATEGORY_NAMES = {
    "nl": {"transport": "vervoer", "buddy": "gezelschap", "shopping": "boodschappen", "odd_jobs": "klusjes",
           "paperwork": "papierwerk", "garden": "tuinwerk", "digital": "digitale hulp", "pets": "huisdieren",
           "language": "taalhulp", "respite": "respijtzorg", "meals": "maaltijden", "other": "hulp"},
    "fy": {"transport": "ferfier", "buddy": "selskip", "shopping": "boadskippen", "odd_jobs": "klusjes",
           "paperwork": "papierwurk", "garden": "túnwurk", "digital": "digitale help", "pets": "húsdieren",
           "language": "taalhelp", "respite": "respiitsoarch", "meals": "mielen", "other": "help"},
    "en": {"transport": "a lift", "buddy": "company", "shopping": "shopping", "odd_jobs": "odd jobs",
           "paperwork": "paperwork", "garden": "gardening", "digital": "digital help", "pets": "pet care",
           "language": "language help", "respite": "respite care", "meals": "meals", "other": "help"},
}


@functools.cache
def catalogue() -> Catalogue:
    return Catalogue(CATALOGUE_DIR)


def worded(context: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A template's values: every fact in ``context`` in words, everything else as it is."""
    lang = message_language(language)
    return {name: _word(value, lang) for name, value in context.items()}


def template_values(context: Mapping[str, Any], language: str) -> dict[str, Any]:
    """:func:`worded`, and ``say(key, **params)``: a catalogue sentence in the reader's
    language, for the templates that serve every language."""
    lang = message_language(language)
    return {**worded(context, lang), "say": functools.partial(say, lang)}


def _word(value: Any, lang: str) -> Any:
    return _WORDS[type(value)](value, lang) if type(value) in _WORDS else value


def say(language: str, key: str, **params: Any) -> str:
    """The catalogue's sentence ``key`` with its parameters (facts worded first)."""
    return catalogue().text(language, key, **{name: _word(value, language) for name, value in params.items()})


@functools.lru_cache(maxsize=1024)  # a link's last day, a task's day: shared by many messages
def _date_text(value: date, lang: str) -> str:
    return as_written(format_date(value, "full", locale=LOCALES[lang]), lang)


def _summary_text(value: UnmatchedSummary, lang: str) -> str:
    return catalogue().phrases(lang, unmatched_summary(value.reasons, value.considered))


def _rule_counts(value: RuleCounts, lang: str) -> list[tuple[str, int]]:
    words = catalogue()
    return [(words.text(lang, f"reason.{code}"), count) for code, count in value.counts]


# -- dates, times and numbers ---------------------------------------------------------------

def local_datetime_text(moment: datetime, language: str) -> str:
    """``dinsdag 1 december 2026, 10:00``: the day in full and the time, on the clock in
    Leeuwarden, joined as the locale joins them.

    Raises ``ValueError`` for a naive datetime: without a zone we cannot know the hour.
    """
    local = _local(moment)
    return _minute_text(local.replace(second=0, microsecond=0), message_language(language))


@functools.lru_cache(maxsize=4096)  # the words depend on the local minute alone; Babel's patterns cost
def _minute_text(local: datetime, lang: str) -> str:
    locale = LOCALES[lang]
    return _join(locale, _full_date(local, locale), format_time(local, "short", locale=locale))


@functools.lru_cache(maxsize=4096)  # tasks share their time slots; worded once per slot and language
def local_window_text(start: datetime, end: datetime | None, language: str) -> str:
    """A task's time: ``dinsdag 1 december 2026, 10:00–11:00 uur`` (Frisian: ``oere``);
    across midnight both ends in full, joined by an en dash."""
    if end is None:
        return local_datetime_text(start, language)
    locale, lang = _locale(language), message_language(language)
    first, last = _local(start), _local(end)
    if first.date() != last.date():
        return f"{local_datetime_text(start, lang)} – {local_datetime_text(end, lang)}"
    hours = format_interval(first, last, "Hm", tzinfo=LOCAL_TIME, locale=locale)
    return _join(locale, _full_date(first, locale), hours) + HOUR_WORD[lang]


def category_text(category: str | None, language: str) -> str:
    """The category as a reader says it (``boadskippen``); the generic word when unknown."""
    names = CATEGORY_NAMES[message_language(language)]
    return names.get(category or "", names["other"])


def distance_text(km: float, language: str) -> str:
    """``2,4 km`` in Dutch and Frisian, ``2.4 km`` in English."""
    return f"{format_decimal(km, '#,##0.0', locale=_locale(language))} km"


def _locale(language: str) -> Locale:
    return LOCALES[message_language(language)]


def _full_date(local: datetime, locale: Locale) -> str:
    """Babel's full date; Frisian months in lower case (``1 desimber``), as Frisian writes
    them: CLDR capitalises them."""
    return as_written(format_date(local, "full", locale=locale), locale.language)


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("need a timezone-aware datetime")
    return moment.astimezone(LOCAL_TIME)


def _join(locale: Locale, date_text: str, time_text: str) -> str:
    """A date and a time as the locale writes them together (``{1}, {0}``)."""
    return get_datetime_format("full", locale=locale).replace("{1}", date_text).replace("{0}", time_text)


# -- matching's reasons -----------------------------------------------------------------------

def why_lines(explanation: Mapping[str, Any], language: str) -> list[str]:
    """Distance, skills, the weekly slot, this week's load, continuity and the runner-up,
    each a line in the reader's language; what the explanation leaves out is left out."""
    lang = message_language(language)
    words = catalogue()
    lines = []
    if explanation.get("distance_km") is not None:
        lines.append(words.text(lang, "why.distance", km=float(explanation["distance_km"])))
    if explanation.get("skills_matched"):
        skills = ", ".join(category_text(skill, lang) for skill in explanation["skills_matched"])
        lines.append(words.text(lang, "why.skills", skills=skills))
    if explanation.get("availability"):
        lines.append(words.text(lang, "why.available", slot=_slot_text(explanation["availability"], lang)))
    if explanation.get("max_tasks_per_week"):
        lines.append(words.text(lang, "why.load", n=int(explanation.get("load_this_week") or 0),
                                max=int(explanation["max_tasks_per_week"])))
    if "continuity" in explanation:
        lines.append(words.text(lang, "why.continuity" if explanation["continuity"] else "why.no_continuity"))
    if "runner_up" in explanation:
        lines.append(_runner_up_line(explanation["runner_up"], lang))
    return lines


def _runner_up_line(runner_up: Mapping[str, Any] | None, lang: str) -> str:
    words = catalogue()
    if not runner_up:
        return words.text(lang, "why.no_runner_up")
    phrase = runner_up_phrase(runner_up)
    cause = words.text(lang, phrase[0], **phrase[1]) if phrase else ""
    return words.text(lang, "why.runner_up", km=float(runner_up.get("distance_km") or 0.0), cause=cause)


def _slot_text(label: str, lang: str) -> str:
    """Matching's ``"tue 09:00-12:00"`` with the day in the reader's language."""
    day, _sep, hours = label.partition(" ")
    if day not in DAYS:
        return label
    name = get_day_names("wide", locale=lang)[DAYS.index(day)]
    return f"{name} {hours.replace('-', '–')}"


# -- after the match -------------------------------------------------------------------------

def age_text(value: Age, lang: str) -> str:
    """How long something waited: hours up to two days, then days (``3 dagen``)."""
    hours = round(value.hours)
    if hours < 48:
        return catalogue().text(lang, "after_match.age_hour" if hours == 1 else "after_match.age_hours", n=hours)
    return catalogue().text(lang, "after_match.age_days", n=round(value.hours / 24))


def _review_list(value: ReviewList, lang: str) -> list[tuple[str, str, str]]:
    """Each proposal as (time of day, request id, category), on the clock in Leeuwarden."""
    return [(format_time(_local(r.proposed_at), "short", locale=_locale(lang)), r.request_id,
             category_text(r.category, lang)) for r in value.reviews]


# Each kind of fact and how it reads, by exact type (a dict lookup per value: most values
# are words already). Anything else (a name, an id, a link, a flag) is left as it is.
_WORDS = {
    datetime: local_datetime_text,
    date: _date_text,
    TaskTime: lambda value, lang: local_window_text(value.start, value.end, lang),
    Category: lambda value, lang: category_text(value.code, lang),
    Distance: lambda value, lang: distance_text(value.km, lang),
    ProposalReasons: lambda value, lang: why_lines(value.explanation, lang),
    UnmatchedSummary: _summary_text,
    RuleCounts: _rule_counts,
    DeclineReason: lambda value, lang: catalogue().text(lang, f"decline.{value.code}"),
    Urgency: lambda value, lang: catalogue().text(lang, f"urgency.{value.code}"),
    Age: age_text,
    CategoryCounts: lambda value, lang: [(category_text(code, lang), n) for code, n in value.counts],
    ReviewList: _review_list,
}

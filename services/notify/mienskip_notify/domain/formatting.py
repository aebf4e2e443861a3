"""Dates, times and numbers as a reader in Leeuwarden expects them, in their language:
Babel's CLDR formats for Dutch, Western Frisian and English (as written in Britain: day
before month, a 24-hour clock, a decimal point), on the clock in Europe/Amsterdam.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_interval, format_time, get_datetime_format
from babel.numbers import format_decimal

from .languages import message_language

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
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


def local_datetime_text(moment: datetime, language: str) -> str:
    """``dinsdag 1 december 2026, 10:00``: the day in full and the time, on the clock in
    Leeuwarden, joined as the locale joins them.

    Raises ``ValueError`` for a naive datetime: without a zone we cannot know the hour.
    """
    locale = _locale(language)
    local = _local(moment)
    return _join(locale, format_date(local, "full", locale=locale), format_time(local, "short", locale=locale))


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
    return _join(locale, format_date(first, "full", locale=locale), hours) + HOUR_WORD[lang]


def local_date_text(moment: datetime, language: str) -> str:
    """``dinsdag 1 december 2026``: the day only."""
    return format_date(_local(moment), "full", locale=_locale(language))


def category_text(category: str | None, language: str) -> str:
    """The category as a reader says it (``boadskippen``); the generic word when unknown."""
    names = CATEGORY_NAMES[message_language(language)]
    return names.get(category or "", names["other"])


def distance_text(km: float, language: str) -> str:
    """``2,4 km`` in Dutch and Frisian, ``2.4 km`` in English."""
    return f"{format_decimal(km, '#,##0.0', locale=_locale(language))} km"


def _locale(language: str) -> Locale:
    return LOCALES[message_language(language)]


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("need a timezone-aware datetime")
    return moment.astimezone(LOCAL_TIME)


def _join(locale: Locale, date_text: str, time_text: str) -> str:
    """A date and a time as the locale writes them together (``{1}, {0}``)."""
    return get_datetime_format("full", locale=locale).replace("{1}", date_text).replace("{0}", time_text)

"""Dates, times and numbers as a reader in Leeuwarden expects them, per language.

Small name tables instead of Babel: three languages, and Frisian is not in every
locale database.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .languages import message_language

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")

# Monday first, like datetime.weekday().
DAY_NAMES = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "fy": ("moandei", "tiisdei", "woansdei", "tongersdei", "freed", "sneon", "snein"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTH_NAMES = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "fy": ("jannewaris", "febrewaris", "maart", "april", "maaie", "juny", "july", "augustus",
           "septimber", "oktober", "novimber", "desimber"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}

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
    """``dinsdag 1 december 2026 10:00``: the moment on the clock in Leeuwarden.

    Raises ``ValueError`` for a naive datetime: without a zone we cannot know the hour.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("need a timezone-aware datetime")
    lang = message_language(language)
    local = moment.astimezone(LOCAL_TIME)
    day = DAY_NAMES[lang][local.weekday()]
    month = MONTH_NAMES[lang][local.month - 1]
    return f"{day} {local.day} {month} {local.year} {local:%H:%M}"


def local_window_text(start: datetime, end: datetime | None, language: str) -> str:
    """A task's time: ``dinsdag 1 december 2026, 10:00–11:00 uur`` (Frisian: ``oere``);
    across midnight both ends in full, joined by an en dash."""
    lang = message_language(language)
    if end is None:
        return local_datetime_text(start, lang)
    first, last = start.astimezone(LOCAL_TIME), end.astimezone(LOCAL_TIME)
    if first.date() != last.date():
        return f"{local_datetime_text(start, lang)} – {local_datetime_text(end, lang)}"
    day = local_datetime_text(start, lang).rsplit(" ", 1)[0]
    return f"{day}, {first:%H:%M}–{last:%H:%M}{HOUR_WORD[lang]}"


def local_date_text(moment: datetime, language: str) -> str:
    """``dinsdag 1 december 2026``: the day only."""
    return local_datetime_text(moment, language).rsplit(" ", 1)[0]


def category_text(category: str | None, language: str) -> str:
    """The category as a reader says it (``boadskippen``); the generic word when unknown."""
    names = CATEGORY_NAMES[message_language(language)]
    return names.get(category or "", names["other"])


def distance_text(km: float, language: str) -> str:
    """``2,4 km`` in Dutch and Frisian, ``2.4 km`` in English."""
    text = f"{km:.1f}"
    if message_language(language) in ("nl", "fy"):
        text = text.replace(".", ",")
    return f"{text} km"

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


def distance_text(km: float, language: str) -> str:
    """``2,4 km`` in Dutch and Frisian, ``2.4 km`` in English."""
    text = f"{km:.1f}"
    if message_language(language) in ("nl", "fy"):
        text = text.replace(".", ",")
    return f"{text} km"

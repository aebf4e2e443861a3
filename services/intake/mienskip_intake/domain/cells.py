"""What a cell of a kamer's spreadsheet says, read the way people write it there: kinds
of help, languages, yes or no, dates, numbers, phone numbers, times and availability.
Stdlib only.

A sheet holds free text typed over years; each reader accepts the usual Dutch, Frisian
and English ways of writing a value and otherwise raises :class:`CellError` with a code
(``import.problem.<code>`` in the catalogue) and the word it could not read.

Availability is written as slots separated by ``,`` or ``;``; a slot is one or more days
(``ma``, ``maandag``, ``tiisdei``, ``wed``; a range ``ma-vr``; ``werkdagen``, ``weekend``)
and then a time ``09:00-12:00`` (or ``9-12``) or a part of the day: ``ochtend``
09:00-12:00, ``middag`` 12:00-17:00, ``avond`` 18:00-21:00; a day alone is 09:00-17:00.
So ``ma, wo ochtend; di 13:00-16:00`` is Monday 09-17, Wednesday 09-12, Tuesday 13-16.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date

from mienskip_shared.contracts.vocabulary import CATEGORIES, DAYS


def plain(text: str) -> str:
    """A word as the readers compare it: lower case, no accents, letters and digits only
    (``"Hûsnûmer"`` -> ``"husnumer"``, ``"E-mail"`` -> ``"email"``)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)).casefold()


def word_table(mapping: Mapping[str, Iterable[str]]) -> dict[str, str]:
    return {plain(word): target for target, words in mapping.items() for word in words}


# -- one cell at a time --------------------------------------------------------------------------

_SKILLS = word_table({
    "transport": ("vervoer", "rijden", "autorijden", "chauffeur", "vervoeren", "rijdienst", "transport", "ride",
                  "rides", "driving", "driver", "ferfier", "riden", "autoride"),
    "buddy": ("maatje", "buddy", "gezelschap", "bezoek", "bezoekjes", "wandelen", "maatsje", "company",
              "visiting", "visits", "selskip"),
    "shopping": ("boodschappen", "boodschap", "winkelen", "shopping", "groceries", "boadskippen", "boadskip"),
    "odd_jobs": ("klusjes", "klussen", "klus", "reparaties", "odd jobs", "oddjobs", "diy", "repairs", "klusses"),
    "paperwork": ("papierwerk", "administratie", "formulieren", "post", "paperwork", "forms", "papierwurk",
                  "administraasje"),
    "garden": ("tuin", "tuinieren", "tuinwerk", "garden", "gardening", "tún", "túnwurk"),
    "digital": ("digitaal", "computer", "computerhulp", "tablet", "smartphone", "ict", "digital", "digitale hulp"),
    "pets": ("huisdieren", "huisdier", "hond", "honden", "hond uitlaten", "dieren", "pets", "dogs", "dog walking",
             "húsdieren", "hûn"),
    "language": ("taal", "taalhulp", "taalmaatje", "nederlandse les", "language", "language help", "taalmaatsje"),
    "respite": ("respijtzorg", "respijt", "mantelzorg", "respite", "respite care", "respytsoarch",
                "mantelsoarch"),
    "meals": ("maaltijden", "maaltijd", "koken", "eten", "meals", "cooking", "mielen", "miel", "iten", "siede"),
    "other": ("overig", "anders", "overige", "other", "oars"),
}) | {plain(code): code for code in CATEGORIES}

_LANGUAGES = word_table({
    "nl": ("nl", "nederlands", "dutch", "hollands", "nederlandsk", "nederlânsk"),
    "fy": ("fy", "fries", "frysk", "frisian", "friesch"),
    "en": ("en", "engels", "english", "ingelsk"),
    "de": ("de", "duits", "german", "deutsch", "dútsk"),
    "ar": ("ar", "arabisch", "arabic", "arabysk"),
    "tr": ("tr", "turks", "turkish", "turksk"),
    "pl": ("pl", "pools", "polish", "poalsk"),
    "uk": ("uk", "oekraiens", "ukrainian", "oekraynsk"),
})

_TRUE = frozenset(plain(w) for w in ("ja", "j", "yes", "y", "x", "1", "true", "waar", "wis", "jawis", "✓"))
_FALSE = frozenset(plain(w) for w in ("nee", "n", "no", "0", "false", "onwaar", "net", "-"))

_LIST_SEPARATORS = re.compile(r"\s*(?:[,;/|+&\n]|\s(?:en|and|of|or|oan)\s)\s*", re.IGNORECASE)
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")  # an XLSX date-time: its day
_NUMBER = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(?:km)?$", re.IGNORECASE)
_DUTCH_MOBILE = re.compile(r"^6\d{8}$")


class CellError(ValueError):
    """A value the readers cannot read: ``code`` (``import.problem.<code>``) and parameters."""

    def __init__(self, code: str, **params: str):
        super().__init__(code)
        self.code, self.params = code, params


def split_list(text: str) -> list[str]:
    return [part for part in _LIST_SEPARATORS.split(text.strip()) if part]


def read_choices(text: str, words: Mapping[str, str], code: str) -> list[str]:
    """Codes for a list of words (``"Boodschappen, rijden"`` -> ``["shopping", "transport"]``)."""
    found: list[str] = []
    for part in split_list(text):
        known = words.get(plain(part))
        if known is None:
            raise CellError(code, word=part)
        if known not in found:
            found.append(known)
    return found


def read_skills(text: str) -> list[str]:
    return read_choices(text, _SKILLS, "unknown_skill")


def read_languages(text: str) -> list[str]:
    return read_choices(text, _LANGUAGES, "unknown_language")


def read_language(text: str) -> str:
    known = _LANGUAGES.get(plain(text))
    if known is None:
        raise CellError("unknown_language", word=text.strip())
    return known


def read_yes_no(text: str) -> bool:
    word = plain(text)
    if word in _TRUE or text.strip() == "✓":
        return True
    if word in _FALSE or text.strip() == "-":
        return False
    raise CellError("not_yes_no", word=text.strip())


def read_date(text: str) -> str:
    """An ISO date (``2024-03-01``; XLSX dates arrive so) or a Dutch one (``1-3-2024``, ``01/03/2024``)."""
    text = text.strip()
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_DMY, (2, 1, 0))):
        match = pattern.match(text)
        if match:
            parts = match.groups()
            try:
                return date(int(parts[order[0]]), int(parts[order[1]]), int(parts[order[2]])).isoformat()
            except ValueError:
                break
    raise CellError("not_a_date", word=text)


def read_number(text: str) -> str:
    """``"2"``, ``"2,5"``, ``"10 km"`` -> ``"2"``, ``"2.5"``, ``"10"`` (the schema checks the range)."""
    match = _NUMBER.match(text.strip())
    if match is None:
        raise CellError("not_a_number", word=text.strip())
    return match.group(1).replace(",", ".")


def read_phone(text: str) -> str:
    """A phone number as typed; a Dutch mobile number a spreadsheet stored as a number
    (``612345678``, the leading 0 lost) gets its 0 back."""
    text = text.strip()
    return "0" + text if _DUTCH_MOBILE.match(text) else text


# -- availability --------------------------------------------------------------------------------

_DAYS = word_table({
    "mon": ("ma", "maandag", "mo", "moandei", "mon", "monday"),
    "tue": ("di", "dinsdag", "ti", "tiisdei", "tue", "tues", "tuesday"),
    "wed": ("wo", "woensdag", "woansdei", "wed", "wednesday"),
    "thu": ("do", "donderdag", "to", "tongersdei", "thu", "thur", "thurs", "thursday"),
    "fri": ("vr", "vrijdag", "fr", "freed", "fri", "friday"),
    "sat": ("za", "zaterdag", "sn", "sneon", "sat", "saturday"),
    "sun": ("zo", "zondag", "si", "snein", "sun", "sunday"),
})
_DAY_GROUPS = word_table({
    "mon tue wed thu fri": ("werkdagen", "doordeweeks", "weekdays", "wurkdagen", "trochdewiks"),
    "sat sun": ("weekend", "wykein", "wykeinen", "weekends"),
    "mon tue wed thu fri sat sun": ("elke dag", "iedere dag", "dagelijks", "alle dagen", "every day", "daily",
                                    "alle dagen", "eltse dei", "deistich"),
})
_PARTS_OF_DAY = word_table({
    "09:00-12:00": ("ochtend", "ochtends", "morgen", "morgens", "sochtends", "morning", "mornings", "moarn",
                    "moarns", "temoarn"),
    "12:00-17:00": ("middag", "middags", "smiddags", "afternoon", "afternoons", "middei", "middeis"),
    "18:00-21:00": ("avond", "avonds", "savonds", "evening", "evenings", "jun", "juns", "jûn", "jûns"),
    "09:00-17:00": ("dag", "hele dag", "overdag", "day", "all day", "daytime", "hiele dei", "oerdei", "dei"),
})
WHOLE_DAY = "09:00-17:00"
_TIME_RANGE = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(?:u|h|uur)?\s*(?:-|–|tot|to|oant)\s*"
                         r"(\d{1,2})(?:[:.](\d{2}))?\s*(?:u|h|uur)?$", re.IGNORECASE)
_DAY_RANGE = re.compile(r"^([^\s\-–]+)\s*[-–]\s*([^\s\-–]+)$")


def _clock(hours: str, minutes: str | None) -> str:
    if int(hours) > 23 or int(minutes or 0) > 59:
        raise ValueError("no time of day")
    return f"{int(hours):02d}:{minutes or '00'}"


def _time_range(text: str) -> str | None:
    """``"09:00-12:00"``, ``"9-12"``, ``"9.30 tot 12 uur"`` or a part of the day -> ``"HH:MM-HH:MM"``."""
    part = _PARTS_OF_DAY.get(plain(text))
    if part is not None:
        return part
    match = _TIME_RANGE.match(text.strip())
    if match is None:
        return None
    try:
        return f"{_clock(match.group(1), match.group(2))}-{_clock(match.group(3), match.group(4))}"
    except ValueError:
        return None


def _days(text: str) -> list[str] | None:
    """``"ma"``, ``"ma-vr"``, ``"werkdagen"`` -> day codes; None if it is no day."""
    word = plain(text)
    if word in _DAYS:
        return [_DAYS[word]]
    if word in _DAY_GROUPS:
        return _DAY_GROUPS[word].split()
    match = _DAY_RANGE.match(text.strip())
    if match and plain(match.group(1)) in _DAYS and plain(match.group(2)) in _DAYS:
        first, last = DAYS.index(_DAYS[plain(match.group(1))]), DAYS.index(_DAYS[plain(match.group(2))])
        if first <= last:
            return list(DAYS[first:last + 1])
    return None


def read_availability(text: str) -> list[dict[str, str]]:
    """Slots as the API takes them (``{"day", "from", "to"}``), from the format in this
    module's docstring; :class:`CellError` ``not_availability`` naming the part not understood."""
    slots: list[dict[str, str]] = []
    for item in (part.strip() for part in re.split(r"[,;\n]", text) if part.strip()):
        tokens = item.split()
        days: list[str] = []
        index = 0
        while index < len(tokens):  # days first, each token or a two-token group ("hele dag" is no day)
            found = _days(tokens[index])
            if found is None and index + 1 < len(tokens):
                found = _days(f"{tokens[index]} {tokens[index + 1]}")
                if found is not None:
                    index += 1
            if found is None:
                break
            days.extend(day for day in found if day not in days)
            index += 1
        rest = " ".join(tokens[index:])
        hours = _time_range(rest) if rest else WHOLE_DAY
        if not days or hours is None:
            raise CellError("not_availability", word=item)
        start, end = hours.split("-")
        for day in days:
            slot = {"day": day, "from": start, "to": end}
            if slot not in slots:
                slots.append(slot)
    return slots


# -- times and urgency of a request -------------------------------------------------------------

_URGENCIES = word_table({
    "low": ("laag", "low", "leech", "geen haast"),
    "normal": ("normaal", "normal", "gewoon", "gewoan"),
    "high": ("hoog", "high", "heech"),
    "urgent": ("spoed", "urgent", "dringend", "haast", "urginsje"),
})
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(?::\d{2})?\s*(?:u|h|uur)?$", re.IGNORECASE)


def read_time(text: str) -> str:
    """``"9"``, ``"9.30"``, ``"09:30"``, ``"14 uur"`` -> ``"HH:MM"``."""
    match = _TIME.match(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        return _clock(match.group(1), match.group(2))
    except ValueError:
        raise CellError("not_a_time", word=text.strip()) from None


def read_urgency(text: str) -> str:
    """``spoed`` -> ``urgent``; the API's four urgencies in Dutch, Frisian or English."""
    urgency = _URGENCIES.get(plain(text))
    if urgency is None:
        raise CellError("unknown_urgency", word=text.strip())
    return urgency

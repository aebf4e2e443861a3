"""Importing a kamer's existing volunteer list from a spreadsheet: which column means
what, and how a cell's words become a volunteer's fields. Stdlib only.

What a kamer's sheet holds is free text typed over years; each reader here accepts the
usual Dutch, Frisian and English ways of writing a value and otherwise names the
problem as a code (``import.problem.<code>`` in the catalogue). The rules a volunteer
must meet are not here: the row, once read, goes through the API's own volunteer schema.

Availability is written as slots separated by ``,`` or ``;``; a slot is one or more days
(``ma``, ``maandag``, ``tiisdei``, ``wed``; a range ``ma-vr``; ``werkdagen``, ``weekend``)
and then a time ``09:00-12:00`` (or ``9-12``) or a part of the day: ``ochtend``
09:00-12:00, ``middag`` 12:00-17:00, ``avond`` 18:00-21:00; a day alone is 09:00-17:00.
So ``ma, wo ochtend; di 13:00-16:00`` is Monday 09-17, Wednesday 09-12, Tuesday 13-16.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

DUTCH_TIME = ZoneInfo("Europe/Amsterdam")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
MAX_COLUMNS = 50
MAX_CELL = 1000  # characters: longer is no list of volunteers

# What a column may be, in the order the preview offers them.
VOLUNTEER_TARGETS = (
    "name", "first_name", "last_name", "phone", "email", "postcode", "house_number", "addition", "lat", "lon",
    "language", "languages", "skills", "has_car", "vog_checked_on", "availability", "max_tasks_per_week",
    "max_distance_km",
)

# ... and for a sheet of open requests (one resident's request a row).
REQUEST_TARGETS = (
    "name", "first_name", "last_name", "phone", "email", "language", "postcode", "house_number", "addition",
    "lat", "lon", "category", "date", "time_from", "time_to", "notes", "urgency",
)
KINDS = ("volunteers", "requests")

CATEGORY_CODES = ("transport", "buddy", "shopping", "odd_jobs", "paperwork", "garden", "digital", "pets",
                  "language", "respite", "meals", "other")
LANGUAGE_CODES = ("nl", "fy", "en", "de", "ar", "tr", "pl", "uk")
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Sheet:
    """A spreadsheet's first sheet as text: the header row and the rows under it, blank
    ones left out; ``numbers``: each row's number as the spreadsheet shows it."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class Problem:
    """What is wrong with one value of a row: ``field`` (a target or a volunteer field),
    ``code`` (worded as ``import.problem.<code>``) and its parameters."""

    field: str
    code: str
    params: Mapping[str, str] = field(default_factory=dict)


def plain(text: str) -> str:
    """A word as the readers compare it: lower case, no accents, letters and digits only
    (``"Hûsnûmer"`` -> ``"husnumer"``, ``"E-mail"`` -> ``"email"``)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)).casefold()


def _words(mapping: Mapping[str, Iterable[str]]) -> dict[str, str]:
    return {plain(word): target for target, words in mapping.items() for word in words}


# -- the header row ---------------------------------------------------------------------------

_HEADERS = _words({
    "name": ("naam", "name", "namme", "volledige naam", "full name", "folsleine namme", "naam vrijwilliger",
             "vrijwilliger", "volunteer"),
    "first_name": ("voornaam", "first name", "given name", "foarnamme", "roepnaam"),
    "last_name": ("achternaam", "last name", "surname", "family name", "efternamme", "famyljenamme"),
    "phone": ("telefoon", "telefoonnummer", "tel", "telnr", "mobiel", "mobiel nummer", "mobielnummer", "gsm",
              "phone", "phone number", "mobile", "tillefoan", "tillefoannûmer", "mobyl"),
    "email": ("e-mail", "email", "e-mailadres", "emailadres", "mail", "e-mail address", "email address",
              "e-postadres"),
    "postcode": ("postcode", "post code", "postal code", "zip", "zip code", "pc"),
    "house_number": ("huisnummer", "huisnr", "nr", "nummer", "house number", "number", "hûsnûmer", "hûsnr"),
    "addition": ("toevoeging", "huisnummertoevoeging", "huisletter", "addition", "suffix", "tafoeging"),
    "lat": ("lat", "latitude", "breedtegraad"),
    "lon": ("lon", "lng", "long", "longitude", "lengtegraad"),
    "language": ("taal", "language", "voorkeurstaal", "preferred language", "memmetaal", "moedertaal"),
    "languages": ("talen", "languages", "spreekt", "spreekt talen", "other languages", "oare talen",
                  "andere talen"),
    "skills": ("vaardigheden", "skills", "help met", "helpt met", "hulp", "soort hulp", "help with",
               "feardichheden", "helpt mei", "help mei", "categorie", "categorieen", "categories", "taken"),
    "has_car": ("auto", "car", "heeft auto", "eigen auto", "has car", "eigen vervoer", "hat auto"),
    "vog_checked_on": ("vog", "vog-datum", "vog datum", "datum vog", "vog date", "vog checked", "vog sinds"),
    "availability": ("beschikbaarheid", "beschikbaar", "availability", "available", "beskikberens", "beskikber",
                     "wanneer"),
    "max_tasks_per_week": ("max taken per week", "taken per week", "max taken", "maximaal taken per week",
                           "max tasks per week", "tasks per week", "max taken de wike", "taken de wike"),
    "max_distance_km": ("max afstand", "max afstand km", "maximale afstand", "afstand", "max distance",
                        "max distance km", "distance", "max ôfstân", "ôfstân", "km"),
})


_REQUEST_HEADERS = {word: target for word, target in _HEADERS.items() if target in REQUEST_TARGETS} | _words({
    "name": ("bewoner", "naam bewoner", "resident", "hulpvrager", "bewenner", "namme bewenner", "client", "klant"),
    "category": ("categorie", "soort hulp", "hulpvraag", "vraag", "hulp", "help met", "category", "kind of help",
                 "help", "soarte help", "helpfraach", "wat"),
    "date": ("datum", "date", "dag", "wanneer", "op", "dei", "wannear"),
    "time_from": ("van", "vanaf", "begintijd", "begin", "start", "from", "start time", "fan", "begjintiid"),
    "time_to": ("tot", "eindtijd", "einde", "eind", "to", "end", "end time", "until", "oant", "eintiid"),
    "notes": ("opmerkingen", "opmerking", "notities", "notitie", "toelichting", "bijzonderheden", "notes",
              "remarks", "opmerkings", "notysjes", "taljochting"),
    "urgency": ("urgentie", "spoed", "prioriteit", "urgency", "priority", "haast", "urginsje"),
})


def suggest_mapping(headers: Sequence[str], kind: str = "volunteers") -> list[str | None]:
    """The target each column most likely means, by its header (None: ignore it); each
    target at most once, the first column that names it."""
    words = _REQUEST_HEADERS if kind == "requests" else _HEADERS
    taken: set[str] = set()
    mapping: list[str | None] = []
    for header in headers:
        target = words.get(plain(header))
        if target in taken:
            target = None
        if target is not None:
            taken.add(target)
        mapping.append(target)
    return mapping


def targets_of(kind: str) -> tuple[str, ...]:
    return REQUEST_TARGETS if kind == "requests" else VOLUNTEER_TARGETS


def check_mapping(mapping: Sequence[str | None], targets: Sequence[str] = VOLUNTEER_TARGETS) -> list[str]:
    """The targets given to more than one column (a mapping must name each at most once);
    ValueError for a target that does not exist."""
    seen: set[str] = set()
    twice: list[str] = []
    for target in mapping:
        if target is None:
            continue
        if target not in targets:
            raise ValueError(f"no such column meaning: {target!r}")
        if target in seen and target not in twice:
            twice.append(target)
        seen.add(target)
    return twice


# -- one cell at a time --------------------------------------------------------------------------

_SKILLS = _words({
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
}) | {plain(code): code for code in CATEGORY_CODES}

_LANGUAGES = _words({
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
_NUMBER_WITH_ADDITION = re.compile(r"^(\d{1,5})(?:\s*[-/ ]\s*([A-Za-z0-9]{1,4})|\s*([A-Za-z][A-Za-z0-9]{0,3}))$")


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

_DAYS = _words({
    "mon": ("ma", "maandag", "mo", "moandei", "mon", "monday"),
    "tue": ("di", "dinsdag", "ti", "tiisdei", "tue", "tues", "tuesday"),
    "wed": ("wo", "woensdag", "woansdei", "wed", "wednesday"),
    "thu": ("do", "donderdag", "to", "tongersdei", "thu", "thur", "thurs", "thursday"),
    "fri": ("vr", "vrijdag", "fr", "freed", "fri", "friday"),
    "sat": ("za", "zaterdag", "sn", "sneon", "sat", "saturday"),
    "sun": ("zo", "zondag", "si", "snein", "sun", "sunday"),
})
_DAY_GROUPS = _words({
    "mon tue wed thu fri": ("werkdagen", "doordeweeks", "weekdays", "wurkdagen", "trochdewiks"),
    "sat sun": ("weekend", "wykein", "wykeinen", "weekends"),
    "mon tue wed thu fri sat sun": ("elke dag", "iedere dag", "dagelijks", "alle dagen", "every day", "daily",
                                    "alle dagen", "eltse dei", "deistich"),
})
_PARTS_OF_DAY = _words({
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
        first, last = DAY_CODES.index(_DAYS[plain(match.group(1))]), DAY_CODES.index(_DAYS[plain(match.group(2))])
        if first <= last:
            return list(DAY_CODES[first:last + 1])
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


# -- a row ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One row read: ``body`` in the API's shape (a volunteer's or a request's), before its
    schema checks it; ``given``: the body's fields the row really holds (a merge changes
    only those)."""

    number: int  # the row's number as the spreadsheet shows it (the header is row 1)
    body: dict[str, object]
    given: frozenset[str]
    problems: tuple[Problem, ...]

    @property
    def name(self) -> str:
        return str(self.body.get("name") or "")


_READERS = {
    "phone": read_phone, "language": read_language, "languages": read_languages, "skills": read_skills,
    "has_car": read_yes_no, "vog_checked_on": read_date, "availability": read_availability,
    "max_tasks_per_week": read_number, "max_distance_km": read_number,
}


def _values(cells: Sequence[str], mapping: Sequence[str | None]) -> dict[str, str]:
    return {target: (cells[i] if i < len(cells) else "").strip() for i, target in enumerate(mapping) if target is not None}


def _name(values: Mapping[str, str]) -> str:
    return values.get("name") or " ".join(v for v in (values.get("first_name"), values.get("last_name")) if v)


def _house(values: Mapping[str, str]) -> dict[str, str | None]:
    """Postcode, house number and addition; ``12a`` in one cell is number and addition."""
    house, addition = values.get("house_number", ""), values.get("addition") or None
    together = _NUMBER_WITH_ADDITION.match(house)
    if together and addition is None:  # "12a", "12-2", "12 bis": one cell in many lists
        house, addition = together.group(1), together.group(2) or together.group(3)
    return {"postcode": values.get("postcode", ""), "house_number": house, "addition": addition}


def read_volunteer_row(number: int, cells: Sequence[str], mapping: Sequence[str | None]) -> Row:
    """A row's cells, by the column mapping, into a volunteer body; what cannot be read is
    a :class:`Problem` each, and the rest is still read (every problem at once)."""
    values = _values(cells, mapping)
    body: dict[str, object] = {}
    problems: list[Problem] = []
    name = _name(values)
    if name:
        body["name"] = " ".join(name.split())
    if values.get("email"):
        body["email"] = values["email"]
    for target, reader in _READERS.items():
        if not values.get(target):
            continue
        try:
            value = reader(values[target])
        except CellError as exc:
            problems.append(Problem(target, exc.code, exc.params))
            continue
        if target == "max_distance_km":
            value = float(value)
        elif target == "max_tasks_per_week":  # "2.5" stays text: the schema's whole-number rule names it
            value = int(float(value)) if float(value).is_integer() else value
        body[target] = value
    body.setdefault("availability", [])
    if values.get("lat") or values.get("lon"):
        try:
            body["home"] = {"lat": float(read_number(values.get("lat", ""))),
                            "lon": float(read_number(values.get("lon", "")))}
        except CellError:
            problems.append(Problem("home", "not_a_place", {"word": f"{values.get('lat', '')} {values.get('lon', '')}"}))
    elif values.get("postcode") or values.get("house_number"):
        body["home_address"] = _house(values)
    else:
        problems.append(Problem("home", "no_address"))
    given = frozenset(name for name in body if name != "availability" or values.get("availability"))
    return Row(number, body, given, tuple(problems))


def is_blank(cells: Sequence[str]) -> bool:
    return not any(cell.strip() for cell in cells)


@dataclass(frozen=True)
class StagedImport:
    """An uploaded sheet waiting for its import (``staged``), or the counts of one done
    (``imported``: the rows are gone). Only the person who uploaded it sees it."""

    id: str
    kamer_id: str
    token_id: str
    kind: str
    status: str
    sheet: Sheet | None
    mapping: tuple[str | None, ...]
    result: Mapping[str, int] | None
    created_at: object  # datetime; the domain compares it only through the repository


# -- a row of open requests --------------------------------------------------------------------

_URGENCIES = _words({
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


def read_request_row(number: int, cells: Sequence[str], mapping: Sequence[str | None]) -> Row:
    """A row of a sheet of open requests into ``POST /v1/requests``'s body: the resident,
    where (``address`` or ``location``), the kind of help (the first word is the category,
    any others its skills), the day and times in Dutch time, notes and urgency."""
    values = _values(cells, mapping)
    problems: list[Problem] = []
    resident: dict[str, object] = {}
    if _name(values):
        resident["name"] = " ".join(_name(values).split())
    for target, reader in (("phone", read_phone), ("language", read_language)):
        if values.get(target):
            try:
                resident[target] = reader(values[target])
            except CellError as exc:
                problems.append(Problem(target, exc.code, exc.params))
    if values.get("email"):
        resident["email"] = values["email"]
    body: dict[str, object] = {"resident": resident}
    if values.get("category"):
        try:
            kinds = read_skills(values["category"])
            body["category"], body["skills"] = kinds[0], kinds[1:]
        except CellError as exc:
            problems.append(Problem("category", exc.code, exc.params))
    else:
        problems.append(Problem("category", "no_category"))
    window = _window(values, problems)
    if window is not None:
        body["window"] = window
    if values.get("notes"):
        body["notes"] = values["notes"]
    if values.get("urgency"):
        urgency = _URGENCIES.get(plain(values["urgency"]))
        if urgency is None:
            problems.append(Problem("urgency", "unknown_urgency", {"word": values["urgency"]}))
        else:
            body["urgency"] = urgency
    if values.get("lat") or values.get("lon"):
        try:
            body["location"] = {"lat": float(read_number(values.get("lat", ""))),
                                "lon": float(read_number(values.get("lon", "")))}
        except CellError:
            problems.append(Problem("address", "not_a_place",
                                    {"word": f"{values.get('lat', '')} {values.get('lon', '')}"}))
    elif values.get("postcode") or values.get("house_number"):
        body["address"] = _house(values)
    else:
        problems.append(Problem("address", "no_address"))
    return Row(number, body, frozenset(body), tuple(problems))


def _window(values: Mapping[str, str], problems: list[Problem]) -> dict[str, str] | None:
    """``{start, end}`` as ISO 8601 with the Dutch offset of that day, or the problems."""
    found: dict[str, str] = {}
    for target, reader, missing in (("date", read_date, "no_date"), ("time_from", read_time, "no_time"),
                                    ("time_to", read_time, "no_time")):
        if not values.get(target):
            problems.append(Problem(target, missing))
            continue
        try:
            found[target] = reader(values[target])
        except CellError as exc:
            problems.append(Problem(target, exc.code, exc.params))
    if len(found) < 3:
        return None
    day = date.fromisoformat(found["date"])
    start, end = (datetime.combine(day, time.fromisoformat(found[t]), tzinfo=DUTCH_TIME)
                  for t in ("time_from", "time_to"))
    return {"start": start.isoformat(), "end": end.isoformat()}

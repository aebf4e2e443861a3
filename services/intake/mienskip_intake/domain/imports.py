"""Importing a kamer's volunteer list (or its open requests) from a spreadsheet: the
limits, which column means what, and how a row becomes the API's body. Stdlib only.

A cell's words are read by :mod:`.cells` (whose docstring gives the availability
format); a problem is a code (``import.problem.<code>`` in the catalogue). The rules a
volunteer or request must meet are not here: the row, once read, goes through the API's
own schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from .cells import (
    CellError,
    plain,
    read_availability,
    read_date,
    read_language,
    read_languages,
    read_number,
    read_phone,
    read_skills,
    read_time,
    read_urgency,
    read_yes_no,
    word_table,
)

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


_NUMBER_WITH_ADDITION = re.compile(r"^(\d{1,5})(?:\s*[-/ ]\s*([A-Za-z0-9]{1,4})|\s*([A-Za-z][A-Za-z0-9]{0,3}))$")


# -- the header row ---------------------------------------------------------------------------

_HEADERS = word_table({
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


_REQUEST_HEADERS = {word: target for word, target in _HEADERS.items() if target in REQUEST_TARGETS} | word_table({
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
    uploaded_by: str  # the person or token (``Principal.credential``): only they see it
    kind: str
    status: str
    sheet: Sheet | None
    mapping: tuple[str | None, ...]
    result: Mapping[str, int] | None
    created_at: datetime  # an upload older than an hour counts as gone


# -- a row of open requests --------------------------------------------------------------------


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
        try:
            body["urgency"] = read_urgency(values["urgency"])
        except CellError as exc:
            problems.append(Problem("urgency", exc.code, exc.params))
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

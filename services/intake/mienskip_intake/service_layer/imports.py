"""Importing a kamer's existing volunteer list (or its open requests) from a
spreadsheet: keep the uploaded sheet for its preview, show each row as it will be stored
(its problems, and whom or which request it likely already is), then import every row or none.

A sheet of open requests goes the same way: each row through the request schema, placed
as ``POST /v1/requests`` places one, its window still to come, stored as a submission
stores one (:func:`handlers.store_request_in`), with the same events.

The rules a volunteer must meet are the API's: ``check`` is the volunteer schema's
load, handed in by the page (one place for them). Likely duplicates, against the
kamer's own volunteers or open requests and the rows above, are found by
:mod:`.import_duplicates`; a duplicate is skipped unless the person imports it anyway
(or merges a volunteer). A row becomes a volunteer exactly as ``POST /v1/volunteers``
makes one (:func:`handlers.add_volunteer_in`); a merge changes the existing one as ``PATCH`` does
(:func:`volunteers.change_volunteer_in`), only in the fields the row holds.

An upload lives for an hour at most (:data:`KEEP_UPLOADS`) and is seen only by the
person who made it; its rows go at the import, its counts stay to answer a resend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from mienskip_shared.clock import utcnow

from ..domain import commands
from ..domain.addresses import AddressError, DutchAddress, Located
from ..domain.imports import (
    KINDS,
    Problem,
    Row,
    StagedImport,
    check_mapping,
    read_request_row,
    read_volunteer_row,
    suggest_mapping,
    targets_of,
)
from ..domain.model import InvalidRequest, Principal, Role, WindowError, check_window
from . import geocoding, handlers, volunteers
from .common import NotFound, audit, new_id
from .geocoding import AddressLookup, GeocoderUnavailable, UnknownAddress
from .import_duplicates import Match, RequestMatch, request_duplicates, volunteer_duplicates
from .unit_of_work import UnitOfWork

KEEP_UPLOADS = timedelta(hours=1)
SKIP, ADD, MERGE = "skip", "add", "merge"
ADDRESS_PARTS = frozenset({"postcode", "house_number", "addition"})

# The API's schema for a kind of row: (the loaded body, or None; problems by field path).
Check = Callable[[dict[str, Any]], tuple[dict[str, Any] | None, dict[str, list[str]]]]
Checks = Mapping[str, Check]  # per kind: volunteers, requests


class ImportBlocked(Exception):
    """Some row still has a problem (or the columns do: a meaning given twice): nothing was imported."""

    def __init__(self, preview: Preview):
        super().__init__(f"{preview.rows_with_problems} rows with problems")
        self.preview = preview


@dataclass(frozen=True)
class PreviewRow:
    number: int
    data: dict[str, Any] | None  # as it will be stored (the schema's loaded body); None while it has problems
    shown: dict[str, Any]  # what the row said, read, for the page
    place: str | None  # the home address in words, when placed by postcode
    precision: str | None
    problems: tuple[Problem, ...]
    matches: tuple[Match, ...] = ()  # the kamer's volunteers it likely is
    same_as_row: int | None = None  # an earlier row of the file it likely is
    request_matches: tuple[RequestMatch, ...] = ()  # the kamer's open requests it is likely the same as
    given: frozenset[str] = frozenset()
    placement: geocoding.Placement | None = None  # a request's place, as the submission stores it

    @property
    def is_duplicate(self) -> bool:
        return bool(self.matches) or bool(self.request_matches) or self.same_as_row is not None


@dataclass(frozen=True)
class Preview:
    import_id: str
    kind: str
    headers: tuple[str, ...]
    mapping: tuple[str | None, ...]
    rows: tuple[PreviewRow, ...]
    mapped_twice: tuple[str, ...] = ()

    @property
    def rows_with_problems(self) -> int:
        return sum(1 for row in self.rows if row.problems)

    @property
    def duplicates(self) -> int:
        return sum(1 for row in self.rows if row.is_duplicate)

    @property
    def importable(self) -> bool:
        return not self.rows_with_problems and not self.mapped_twice


@dataclass(frozen=True)
class ImportResult:
    import_id: str
    kind: str
    imported: int
    merged: int
    skipped: int


def _kamer_staff(principal: Principal) -> None:
    if principal.role is not Role.KAMER:
        raise PermissionError("only kamer staff import their volunteers")


def _load(uow: UnitOfWork, principal: Principal, import_id: str) -> StagedImport:
    staged = uow.imports.get(import_id, kamer_id=principal.kamer_id, uploaded_by=principal.credential,
                             since=utcnow() - KEEP_UPLOADS)
    if staged is None:
        raise NotFound(import_id)
    return staged


def _result(staged: StagedImport) -> ImportResult:
    counts = staged.result or {}
    return ImportResult(staged.id, staged.kind, counts.get("imported", 0), counts.get("merged", 0),
                        counts.get("skipped", 0))


# -- the use cases ------------------------------------------------------------------------------

def stage_import(cmd: commands.StageImport, uow: UnitOfWork) -> str:
    """Keep the sheet with the suggested column meanings; uploads older than an hour go now."""
    _kamer_staff(cmd.principal)
    if cmd.kind not in KINDS:
        raise ValueError(f"no such kind of sheet: {cmd.kind!r}")
    now = utcnow()
    with uow:
        uow.imports.delete_before(now - KEEP_UPLOADS)
        staged = StagedImport(id=new_id(), kamer_id=cmd.principal.kamer_id,
                              uploaded_by=cmd.principal.credential,
                              kind=cmd.kind, status="staged", sheet=cmd.sheet,
                              mapping=tuple(suggest_mapping(cmd.sheet.headers, cmd.kind)), result=None,
                              created_at=now)
        uow.imports.add(staged)
        uow.commit()
    return staged.id


def map_columns(cmd: commands.MapColumns, uow: UnitOfWork) -> None:
    """The person's column meanings (ValueError for an unknown one or the wrong count)."""
    _kamer_staff(cmd.principal)
    with uow:
        staged = _load(uow, cmd.principal, cmd.import_id)
        if staged.sheet is None:
            return  # imported already: nothing left to map
        if len(cmd.mapping) != len(staged.sheet.headers):
            raise ValueError("one meaning per column")
        check_mapping(cmd.mapping, targets_of(staged.kind))
        uow.imports.set_mapping(staged.id, cmd.mapping)
        uow.commit()


def preview_import(cmd: commands.PreviewImport, uow: UnitOfWork, addresses: AddressLookup | None,
                   check: Checks) -> Preview | ImportResult:
    """Each row as it will be stored, its problems and likely duplicates; the result
    instead if it was imported already."""
    _kamer_staff(cmd.principal)
    with uow:
        staged = _load(uow, cmd.principal, cmd.import_id)
    if staged.sheet is None:
        return _result(staged)
    rows = _read_rows(staged, addresses, check)
    with uow:
        preview = _preview(uow, staged, rows)
        for volunteer_id in {match.volunteer_id for row in preview.rows for match in row.matches}:
            audit(uow, cmd.principal, "list", "volunteer", volunteer_id)  # shown by name, as a list shows them
        for request_id in {match.request_id for row in preview.rows for match in row.request_matches}:
            audit(uow, cmd.principal, "list", "request", request_id)
        uow.commit()
    return preview


def confirm_import(cmd: commands.ConfirmImport, uow: UnitOfWork, addresses: AddressLookup | None,
                   check: Checks) -> ImportResult:
    """Every row in one transaction, or none (:class:`ImportBlocked`). A resend or a
    second click finds it done and answers the same counts."""
    _kamer_staff(cmd.principal)
    with uow:
        staged = _load(uow, cmd.principal, cmd.import_id)
    if staged.sheet is None:
        return _result(staged)
    rows = _read_rows(staged, addresses, check)  # geocoding: before the transaction, not inside it
    with uow:
        if not uow.imports.claim(staged.id):
            return _result(_load(uow, cmd.principal, cmd.import_id))
        preview = _preview(uow, staged, rows)
        if not preview.importable:
            raise ImportBlocked(preview)  # left uncommitted: the claim is undone too
        kamer = uow.kamers.get(cmd.principal.kamer_id)
        if kamer is None:
            raise LookupError(f"the token's kamer {cmd.principal.kamer_id} is gone")
        counts = {"imported": 0, "merged": 0, "skipped": 0}
        for row in preview.rows:
            choice = _choice(row, cmd.choices.get(row.number))
            if choice == SKIP:
                counts["skipped"] += 1
            elif staged.kind == "requests":
                handlers.store_request_in(uow, kamer, cmd.principal, row.data, row.placement, staged.id)
                counts["imported"] += 1
            elif choice == ADD:
                handlers.add_volunteer_in(uow, kamer, cmd.principal, row.data, correlation_id=staged.id)
                counts["imported"] += 1
            else:
                changes = {name: value for name, value in row.data.items() if name in row.given}
                volunteers.change_volunteer_in(uow, cmd.principal, choice, changes, correlation_id=staged.id)
                counts["merged"] += 1
        uow.imports.finish(staged.id, counts, utcnow())
        uow.commit()
    return ImportResult(staged.id, staged.kind, **counts)


def forget_old_imports(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Uploads older than an hour go, imported or not: personal data must not linger."""
    with uow:
        gone = uow.imports.delete_before((now or utcnow()) - KEEP_UPLOADS)
        uow.commit()
    return gone


# -- reading and checking rows ------------------------------------------------------------------

def _choice(row: PreviewRow, wanted: str | None) -> str:
    """What becomes of a row: a new volunteer unless it is a likely duplicate, which is
    skipped unless the person chose to add it anyway or merge it into the one it matches."""
    if not row.is_duplicate:
        return ADD
    if wanted == ADD:
        return ADD
    if wanted and wanted.startswith(MERGE + ":"):
        volunteer_id = wanted.split(":", 1)[1]
        if volunteer_id in {match.volunteer_id for match in row.matches}:
            return volunteer_id
    return SKIP


class SheetLookup:
    """One sheet's address lookups. Once the outside geocoder proved away, the rest of the
    sheet goes straight to the approximate fallback (marked as such) instead of waiting for
    its timeout row after row: 2,000 rows must not take 2,000 timeouts."""

    def __init__(self, addresses: AddressLookup):
        self._addresses = addresses
        self._away = False

    def locate(self, address: DutchAddress) -> Located:
        fallback = self._addresses.fallback
        if self._away and fallback is not None:
            try:
                return replace(fallback.locate(address), retry_exact=True)
            except UnknownAddress as exc:  # as AddressLookup says it: the outside service might know it
                raise GeocoderUnavailable(f"away, and {address.postcode4} is no area we know") from exc
        located = self._addresses.locate(address)
        self._away = self._away or located.retry_exact
        return located


def _read_rows(staged: StagedImport, addresses: AddressLookup | None, checks: Checks) -> list[PreviewRow]:
    sheet = staged.sheet
    lookup = SheetLookup(addresses) if addresses is not None else None
    rows = zip(sheet.numbers, sheet.rows, strict=True)
    if staged.kind == "requests":
        now = utcnow()
        return [_read_request(read_request_row(number, cells, staged.mapping), lookup, checks["requests"], now)
                for number, cells in rows]
    return [_read_row(read_volunteer_row(number, cells, staged.mapping), lookup, checks["volunteers"])
            for number, cells in rows]


# Where a request body's field paths show on the page: the sheet's own columns.
_REQUEST_FIELDS = {"resident.name": "name", "resident.phone": "phone", "resident.email": "email",
                   "resident.language": "language", "window": "date", "window.start": "date",
                   "window.end": "time_to", "location": "address", "location.lat": "address",
                   "location.lon": "address", "address": "address", "skills": "category"}


def _read_request(row: Row, addresses: AddressLookup | SheetLookup | None, check: Check,
                  now: datetime) -> PreviewRow:
    """A row of open requests through the request schema, placed, its window still to come."""
    problems = list(row.problems)
    data, errors = check(dict(row.body))
    known = {problem.field for problem in problems}
    for path in errors:
        head, _, part = path.partition(".")
        if head == "address" and part.split(".")[0] in ADDRESS_PARTS:
            field, code = part.split(".")[0], f"bad_{part.split('.')[0]}"
        else:
            field, code = _REQUEST_FIELDS.get(path, _REQUEST_FIELDS.get(head, head)), "invalid"
        if field not in known:
            problems.append(Problem(field, code))
            known.add(field)
    placement = None
    if data is not None:
        try:
            check_window(data["window"]["start"], data["window"]["end"], now)
        except WindowError:
            problems.append(Problem("date", "in_the_past"))
        try:
            placement = geocoding.place(data, addresses, text=data["resident"].get("address"))
        except InvalidRequest:
            problems.append(Problem("postcode", "unknown_address", {"word": geocoding.as_address(
                data["address"]).postcode}))
        except GeocoderUnavailable:
            problems.append(Problem("postcode", "geocoder_unavailable"))
    return PreviewRow(number=row.number, data=None if problems else data, shown=row.body,
                      place=_address_text(row.body.get("address")),
                      precision=placement.precision.value if placement else None, problems=tuple(problems),
                      given=row.given, placement=placement)


def _read_row(row: Row, addresses: AddressLookup | SheetLookup | None, check: Check) -> PreviewRow:
    """The row through the API's schema, its home placed as ``POST /v1/volunteers`` places one
    (:func:`volunteers.with_home_placed`); every problem at once."""
    problems = list(row.problems)
    data, errors = check(dict(row.body))
    known = {problem.field for problem in problems}
    for path in errors:
        field, _, part = path.partition(".")
        if field == "home_address" and part.split(".")[0] in ADDRESS_PARTS:
            field, code = part.split(".")[0], f"bad_{part.split('.')[0]}"
        else:
            code = "invalid"
        if field not in known:
            problems.append(Problem(field, code))
            known.add(field)
    placed = None
    if not known & (ADDRESS_PARTS | {"home", "home_address"}):
        placed = _placed(data if data is not None else {"home": row.body.get("home"),
                                                        "home_address": row.body.get("home_address")},
                         addresses, problems)
    if data is not None and placed is not None and not problems:
        data = {**{k: v for k, v in data.items() if k != "home_address"}, **placed}
    given = row.given | ({"home", "home_precision", "home_exact_lookup"} if "home_address" in row.given
                         else frozenset())
    return PreviewRow(number=row.number, data=None if problems else data, shown=row.body,
                      place=_address_text(row.body.get("home_address")),
                      precision=placed["home_precision"] if placed else None, problems=tuple(problems),
                      given=given)


def _placed(data: Mapping[str, Any], addresses: AddressLookup | SheetLookup | None,
            problems: list[Problem]) -> dict[str, Any] | None:
    """``home`` and ``home_precision``, or the problem why not."""
    try:
        placed = volunteers.with_home_placed(dict(data), addresses)
    except InvalidRequest:
        problems.append(Problem("postcode", "unknown_address", {"word": geocoding.as_address(
            data["home_address"]).postcode}))
        return None
    except GeocoderUnavailable:
        problems.append(Problem("postcode", "geocoder_unavailable"))
        return None
    return {"home": placed["home"], "home_precision": placed["home_precision"],
            "home_exact_lookup": placed.get("home_exact_lookup")}


def _address_text(address: Mapping[str, Any] | None) -> str | None:
    if not address:
        return None
    try:
        dutch = geocoding.as_address(address)
    except AddressError:
        return None
    return " ".join(part for part in (dutch.postcode, dutch.house_number, dutch.addition) if part)


def _preview(uow: UnitOfWork, staged: StagedImport, rows: list[PreviewRow]) -> Preview:
    """The rows with their likely duplicates (:mod:`.import_duplicates`)."""
    twice = tuple(check_mapping(staged.mapping, targets_of(staged.kind)))
    flag = request_duplicates if staged.kind == "requests" else volunteer_duplicates
    return Preview(staged.id, staged.kind, staged.sheet.headers, staged.mapping,
                   tuple(flag(uow, staged.kamer_id, rows)), twice)

"""The import's use cases (service_layer/imports.py) on the in-memory unit of work: all or
none, duplicates, merges, a resend, whose upload it is, and how long it stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from intake_fakes import FakeUnitOfWork

from mienskip_intake.domain import commands
from mienskip_intake.domain.addresses import Located, Precision
from mienskip_intake.domain.imports import Sheet
from mienskip_intake.domain.model import Principal, Role
from mienskip_intake.entrypoints.web.desk_import import CHECKS
from mienskip_intake.service_layer import handlers, imports
from mienskip_intake.service_layer.common import NotFound
from mienskip_intake.service_layer.geocoding import AddressLookup, UnknownAddress
from mienskip_shared.clock import utcnow

HEADERS = ("Naam", "Telefoon", "Postcode", "Huisnummer", "Vaardigheden")


class _Leeuwarden:
    def locate(self, address):
        if address.postcode4 != "8911":
            raise UnknownAddress(address.postcode4)
        return Located(lat=53.2, lon=5.8, precision=Precision.POSTCODE4, postcode=address.postcode)


ADDRESSES = AddressLookup(_Leeuwarden())


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def kamer(uow):
    kamer_id = handlers.register_kamer(commands.RegisterKamer("Buurtkamer Bilgaard", 53.2155, 5.7957), uow)
    _, token = handlers.issue_token(commands.IssueToken(Role.KAMER, kamer_id=kamer_id), uow)
    return handlers.authenticate(token, uow)


def _stage(uow, kamer, *rows) -> str:
    return imports.stage_import(commands.StageImport(kamer, Sheet(HEADERS, rows, tuple(range(2, 2 + len(rows))))),
                                uow)


def _confirm(uow, kamer, import_id, choices=None):
    return imports.confirm_import(commands.ConfirmImport(kamer, import_id, choices or {}), uow, ADDRESSES, CHECKS)


def test_every_row_or_none(uow, kamer):
    bad = _stage(uow, kamer, ("Sjoerd Kingma", "0612345678", "8911 AB", "3", "boodschappen"),
                 ("Anna de Vries", "", "1011 AB", "1", "tuin"))  # a postcode nobody knows
    with pytest.raises(imports.ImportBlocked) as blocked:
        _confirm(uow, kamer, bad)
    assert [(p.field, p.code) for p in blocked.value.preview.rows[1].problems] == [("postcode", "unknown_address")]
    assert uow.store.volunteers == {} and uow.events == ["kamer.registered"]
    assert uow.store.imports[bad].status == "staged"  # the claim went back with the rest

    good = _stage(uow, kamer, ("Sjoerd Kingma", "0612345678", "8911 AB", "3", "boodschappen"),
                  ("Anna de Vries", "", "8911 AB", "1", "tuin"))
    result = _confirm(uow, kamer, good)
    assert (result.imported, result.merged, result.skipped) == (2, 0, 0)
    assert uow.events.count("volunteer.registered") == 2 and uow.events.count("contact.volunteer") == 2
    assert uow.store.imports[good].sheet is None  # the rows are gone
    assert _confirm(uow, kamer, good) == result and uow.events.count("volunteer.registered") == 2  # a resend


def test_duplicates_are_skipped_unless_merged_or_added(uow, kamer):
    first = _stage(uow, kamer, ("Sjoerd Kingma", "0612345678", "8911 AB", "3", "boodschappen"))
    _confirm(uow, kamer, first)
    (existing,) = uow.store.volunteers
    again = _stage(uow, kamer, ("SJOERD KINGMA", "+31 6 1234 5678", "8911 AB", "3", "vervoer"),
                   ("Sjoerd Kingma", "06-12345678", "8911 AB", "3", "tuin"))
    preview = imports.preview_import(commands.PreviewImport(kamer, again), uow, ADDRESSES, CHECKS)
    assert [m.volunteer_id for m in preview.rows[0].matches] == [existing]
    assert preview.rows[1].same_as_row == 2
    result = _confirm(uow, kamer, again, {2: f"merge:{existing}", 3: "merge:someone-else"})
    assert (result.imported, result.merged, result.skipped) == (0, 1, 1)  # a merge into no match is a skip
    assert uow.store.volunteers[existing].skills == ["transport"]
    assert uow.events.count("volunteer.updated") == 1


def test_only_the_person_who_uploaded_sees_it_and_only_for_an_hour(uow, kamer):
    import_id = _stage(uow, kamer, ("Sjoerd Kingma", "0612345678", "8911 AB", "3", "boodschappen"))
    colleague = Principal(token_id="another-token", role=Role.KAMER, kamer_id=kamer.kamer_id)
    with pytest.raises(NotFound):
        imports.preview_import(commands.PreviewImport(colleague, import_id), uow, ADDRESSES, CHECKS)
    with pytest.raises(PermissionError):
        imports.stage_import(commands.StageImport(Principal("c", Role.COORDINATOR, region="leeuwarden"),
                                                  Sheet(HEADERS, (), ())), uow)
    assert imports.forget_old_imports(uow, now=utcnow() + timedelta(minutes=59)) == 0
    assert imports.forget_old_imports(uow, now=utcnow() + timedelta(minutes=61)) == 1
    with pytest.raises(NotFound):
        _confirm(uow, kamer, import_id)


def test_a_mapping_names_each_meaning_once_and_one_per_column(uow, kamer):
    import_id = _stage(uow, kamer, ("Sjoerd Kingma", "0612345678", "8911 AB", "3", "boodschappen"))
    with pytest.raises(ValueError):
        imports.map_columns(commands.MapColumns(kamer, import_id, ("name",)), uow)
    with pytest.raises(ValueError):
        imports.map_columns(commands.MapColumns(kamer, import_id, ("name", "date", None, None, None)), uow)
    imports.map_columns(commands.MapColumns(kamer, import_id, ("name", "name", "postcode", "house_number", "skills")),
                        uow)
    preview = imports.preview_import(commands.PreviewImport(kamer, import_id), uow, ADDRESSES, CHECKS)
    assert preview.mapped_twice == ("name",) and not preview.importable


def test_a_person_signed_in_without_a_token_owns_their_upload(uow, kamer):
    person = Principal(token_id=None, role=Role.KAMER, kamer_id=kamer.kamer_id, user_id="u-1")
    colleague = Principal(token_id=None, role=Role.KAMER, kamer_id=kamer.kamer_id, user_id="u-2")
    import_id = _stage(uow, person, ("Sjoerd Kingma", "0612345678", "8911 AB", "3", "boodschappen"))
    assert uow.store.imports[import_id].uploaded_by == "user:u-1"
    with pytest.raises(NotFound):
        imports.preview_import(commands.PreviewImport(colleague, import_id), uow, ADDRESSES, CHECKS)
    assert _confirm(uow, person, import_id).imported == 1

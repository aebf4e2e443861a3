"""Who notify can reach: kamers, care providers, volunteers and residents, copied from intake's events.

Volunteers' and residents' contacts are personal data: kept only until erasure, never logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Table, delete, insert, select, update
from sqlalchemy.engine import Connection

from mienskip_shared.db import one_of, upsert

from ..domain.contacts import VOLUNTEER, KamerContact, ProviderContact, ResidentContact, VolunteerContact
from . import tables


class ContactRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    # -- kamers -----------------------------------------------------------------------------
    def save_kamer(self, kamer: KamerContact, as_of: datetime) -> bool:
        """Insert or update a kamer's contact; False if a newer version is already stored."""
        t = tables.kamers
        return self._save_newer(t, t.c.kamer_id, kamer.kamer_id, {
            "name": kamer.name, "email": kamer.email, "webhook_url": kamer.webhook_url, "language": kamer.language,
            "phone": kamer.phone,
        }, as_of)

    def kamer(self, kamer_id: str) -> KamerContact | None:
        return self.kamers([kamer_id]).get(kamer_id)

    def kamers(self, kamer_ids: Iterable[str]) -> dict[str, KamerContact]:
        t = tables.kamers
        rows = self.conn.execute(select(t).where(one_of(self.conn, t.c.kamer_id, set(kamer_ids)))).all()
        return {row.kamer_id: KamerContact(kamer_id=row.kamer_id, name=row.name, email=row.email,
                                           webhook_url=row.webhook_url, language=row.language, phone=row.phone)
                for row in rows}

    # -- care providers ---------------------------------------------------------------------
    def save_provider(self, provider: ProviderContact, as_of: datetime) -> bool:
        """Insert or update a provider's contact; False if a higher revision (or the same
        revision from a later event) is already stored."""
        t = tables.providers
        stored = self.conn.execute(select(t.c.revision, t.c.as_of).where(t.c.provider_id == provider.provider_id)
                                   ).one_or_none()
        values = {"name": provider.name, "email": provider.email, "phone": provider.phone,
                  "webhook_url": provider.webhook_url, "language": provider.language, "active": provider.active,
                  "revision": provider.revision, "as_of": as_of.astimezone(UTC)}
        if stored is None:
            self.conn.execute(insert(t).values(provider_id=provider.provider_id, **values))
            return True
        if (stored.revision, stored.as_of) > (provider.revision, as_of):
            return False  # provider.updated events may overtake each other
        self.conn.execute(update(t).where(t.c.provider_id == provider.provider_id).values(**values))
        return True

    def providers(self, provider_ids: Iterable[str]) -> dict[str, ProviderContact]:
        t = tables.providers
        ids = set(provider_ids)
        if not ids:
            return {}
        rows = self.conn.execute(select(t).where(one_of(self.conn, t.c.provider_id, ids))).all()
        return {r.provider_id: ProviderContact(provider_id=r.provider_id, name=r.name, email=r.email, phone=r.phone,
                                               webhook_url=r.webhook_url, language=r.language, active=r.active,
                                               revision=r.revision) for r in rows}

    # -- people ---------------------------------------------------------------------------------
    def save_volunteers(self, contacts: Sequence[tuple[VolunteerContact, datetime]]) -> None:
        """Insert or update these volunteers' contacts, each ``(contact, as_of)``: a row stored
        from a newer event stays as it is. One statement for a batch."""
        self._save_newest(tables.volunteers, "volunteer_id", [({
            "volunteer_id": c.volunteer_id, "kamer_id": c.kamer_id, "first_name": c.first_name, "email": c.email,
            "phone": c.phone, "language": c.language}, as_of) for c, as_of in contacts])

    def save_residents(self, contacts: Sequence[tuple[ResidentContact, datetime]]) -> None:
        """As :meth:`save_volunteers`, for residents (known by their request)."""
        self._save_newest(tables.residents, "request_id", [({
            "request_id": c.request_id, "kamer_id": c.kamer_id, "first_name": c.first_name, "phone": c.phone,
            "language": c.language, "address": c.address, "neighbourhood": c.neighbourhood}, as_of)
            for c, as_of in contacts])

    def volunteers(self, volunteer_ids: Iterable[str]) -> dict[str, VolunteerContact]:
        t = tables.volunteers
        ids = set(volunteer_ids)
        if not ids:
            return {}
        rows = self.conn.execute(select(t).where(one_of(self.conn, t.c.volunteer_id, ids))).all()
        return {r.volunteer_id: VolunteerContact(volunteer_id=r.volunteer_id, kamer_id=r.kamer_id,
                                                 first_name=r.first_name, email=r.email, phone=r.phone,
                                                 language=r.language) for r in rows}

    def residents(self, request_ids: Iterable[str]) -> dict[str, ResidentContact]:
        t = tables.residents
        ids = set(request_ids)
        if not ids:
            return {}
        rows = self.conn.execute(select(t).where(one_of(self.conn, t.c.request_id, ids))).all()
        return {r.request_id: ResidentContact(request_id=r.request_id, kamer_id=r.kamer_id, first_name=r.first_name,
                                              phone=r.phone, language=r.language, address=r.address,
                                              neighbourhood=r.neighbourhood) for r in rows}

    def forget(self, kind: str, subject_id: str) -> None:
        """Delete a person's contact (erasure): a volunteer by id, a resident by request id."""
        if kind == VOLUNTEER:
            self.conn.execute(delete(tables.volunteers).where(tables.volunteers.c.volunteer_id == subject_id))
        else:
            self.conn.execute(delete(tables.residents).where(tables.residents.c.request_id == subject_id))

    def _save_newest(self, table: Table, key: str, rows: Sequence[tuple[dict[str, Any], datetime]]) -> None:
        """Upsert rows keyed by ``key`` where nothing newer is stored (``as_of``: the later or
        equal event wins, as in :meth:`_save_newer`). Of one key twice in ``rows``, the newest
        counts (the later of two equal): one statement may touch a row only once."""
        newest: dict[str, dict[str, Any]] = {}
        for values, as_of in rows:
            stamped = {**values, "as_of": as_of.astimezone(UTC)}
            kept = newest.get(values[key])
            if kept is None or kept["as_of"] <= stamped["as_of"]:
                newest[values[key]] = stamped
        if newest:
            self.conn.execute(_newest_upsert(self.conn, table, key), list(newest.values()))

    def _save_newer(self, table: Table, key_column: Column, key: str, values: dict[str, Any],
                    as_of: datetime) -> bool:
        """Insert or update one row keyed by ``key``; False if a newer version is already stored."""
        values = {**values, "as_of": as_of.astimezone(UTC)}
        stored = self.conn.execute(select(table.c.as_of).where(key_column == key)).scalar_one_or_none()
        if stored is None:
            self.conn.execute(insert(table).values({key_column.name: key, **values}))
            return True
        if stored > as_of:
            return False  # events from one source may overtake each other
        self.conn.execute(update(table).where(key_column == key).values(**values))
        return True


_NEWEST_UPSERTS: dict[tuple[str, str, str], Any] = {}


def _newest_upsert(conn: Connection, table: Table, key: str):
    """The statement of :meth:`ContactRepository._save_newest`, built once per dialect,
    table and key: the rows go as parameters (an executemany), not as a multi-row VALUES that
    SQLAlchemy compiles again for every batch."""
    cache_key = (conn.dialect.name, table.name, key)
    statement = _NEWEST_UPSERTS.get(cache_key)
    if statement is None:
        insert_ = upsert(conn, table)
        statement = _NEWEST_UPSERTS[cache_key] = insert_.on_conflict_do_update(
            index_elements=[table.c[key]], where=table.c.as_of <= insert_.excluded.as_of,
            set_={c.name: insert_.excluded[c.name] for c in table.columns if c.name != key})
    return statement

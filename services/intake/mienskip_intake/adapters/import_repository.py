"""Uploaded spreadsheets between their preview and their import (``intake_imports``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from ..domain.imports import Sheet, StagedImport
from . import tables as t


class ImportRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, staged: StagedImport) -> None:
        sheet = staged.sheet
        self.conn.execute(insert(t.imports).values(
            id=staged.id, kamer_id=staged.kamer_id, uploaded_by=staged.uploaded_by, kind=staged.kind,
            status=staged.status, headers=list(sheet.headers) if sheet else None,
            rows=[[n, *row] for n, row in zip(sheet.numbers, sheet.rows, strict=True)] if sheet else None, mapping=list(staged.mapping),
            result=None, created_at=staged.created_at))

    def get(self, import_id: str, *, kamer_id: str | None, uploaded_by: str, since: datetime) -> StagedImport | None:
        """The person's own upload of this kamer, if made after ``since`` (older ones count as gone)."""
        i = t.imports
        row = self.conn.execute(select(i).where(i.c.id == import_id, i.c.kamer_id == kamer_id,
                                                i.c.uploaded_by == uploaded_by, i.c.created_at >= since)).first()
        if row is None:
            return None
        sheet = None if row.rows is None else Sheet(tuple(row.headers), tuple(tuple(r[1:]) for r in row.rows),
                                                    tuple(r[0] for r in row.rows))
        return StagedImport(id=row.id, kamer_id=row.kamer_id, uploaded_by=row.uploaded_by, kind=row.kind,
                            status=row.status, sheet=sheet, mapping=tuple(row.mapping or ()),
                            result=row.result, created_at=row.created_at)

    def set_mapping(self, import_id: str, mapping: Sequence[str | None]) -> None:
        i = t.imports
        self.conn.execute(update(i).where(i.c.id == import_id, i.c.status == "staged").values(mapping=list(mapping)))

    def claim(self, import_id: str) -> bool:
        """Take a staged upload for its import: False if another confirm took it first (a
        resend or a double click), which then waited here for that one's commit."""
        i = t.imports
        result = self.conn.execute(update(i).where(i.c.id == import_id, i.c.status == "staged")
                                   .values(status="importing"))
        return result.rowcount == 1

    def finish(self, import_id: str, result: Mapping[str, int], at: datetime) -> None:
        """Imported: the rows go, the counts stay (for a resend's answer) until the hour is up."""
        i = t.imports
        self.conn.execute(update(i).where(i.c.id == import_id).values(
            status="imported", headers=None, rows=None, result=dict(result), finished_at=at))

    def delete_before(self, cutoff: datetime) -> int:
        """Every upload made before ``cutoff``, done or not."""
        i = t.imports
        return self.conn.execute(delete(i).where(i.c.created_at < cutoff)).rowcount

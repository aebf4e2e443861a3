"""Reading a kamer's spreadsheet into a :class:`domain.imports.Sheet`: CSV or XLSX.

CSV: UTF-8 with or without BOM, else Windows-1252 (Excel's "CSV" on a Dutch Windows);
the delimiter is the one of ``;`` (Dutch Excel), tab and ``,`` the header line uses most.
XLSX: the first sheet through openpyxl in read-only mode with cached values, so a formula
is read as the value Excel last computed, never evaluated here. Cells become text a
person would type: dates as ISO dates, whole numbers without ``.0``.

Anything else, or more than the limits (2 MB, 2,000 rows, 50 columns), is an
:class:`UnreadableSpreadsheet` with a code the page words (``import.unreadable.<code>``).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from ..domain.imports import MAX_BYTES, MAX_CELL, MAX_COLUMNS, MAX_ROWS, Sheet, is_blank

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
MAX_UNPACKED = 64 * 1024 * 1024
MAX_TEXT = 4 * MAX_BYTES  # characters in all cells together: what is kept between preview and import  # an XLSX of 2 MB that unpacks to more is no volunteer list
DELIMITERS = (";", "\t", ",")
MAX_SHEET_ROWS = 20 * MAX_ROWS  # blank rows included: a sheet formatted to the last row is refused, not read


class UnreadableSpreadsheet(ValueError):
    """``code``: ``too_large``, ``too_many_rows``, ``too_many_columns``, ``empty``, ``xls`` or ``not_a_spreadsheet``."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def read_spreadsheet(data: bytes) -> Sheet:
    """The file's first sheet; what it is comes from its bytes, not its name."""
    if len(data) > MAX_BYTES:
        raise UnreadableSpreadsheet("too_large")
    if data.startswith(ZIP_MAGIC):
        rows = _xlsx_rows(data)
    elif data.startswith(OLE_MAGIC):
        raise UnreadableSpreadsheet("xls")
    else:
        rows = _csv_rows(data)
    return _sheet(rows)


def _sheet(rows: Iterable[Sequence[str]]) -> Sheet:
    """The first non-blank row is the header; blank rows are left out (their numbers
    kept); each row as wide as the header."""
    headers: tuple[str, ...] | None = None
    body: list[tuple[str, ...]] = []
    numbers: list[int] = []
    text = 0
    for number, row in enumerate(rows, start=1):
        cells = [_clip(cell) for cell in row]
        if is_blank(cells):
            continue
        text += sum(len(cell) for cell in cells)
        if text > MAX_TEXT:  # an XLSX repeating one long shared string: small file, huge sheet
            raise UnreadableSpreadsheet("too_large")
        if len(cells) > MAX_COLUMNS and any(cell.strip() for cell in cells[MAX_COLUMNS:]):
            raise UnreadableSpreadsheet("too_many_columns")
        cells = cells[:MAX_COLUMNS]
        if headers is None:
            while cells and not cells[-1].strip():
                cells.pop()
            headers = tuple(cell.strip() for cell in cells)
            continue
        if len(body) == MAX_ROWS:
            raise UnreadableSpreadsheet("too_many_rows")
        body.append(tuple((cells + [""] * len(headers))[:len(headers)]))
        numbers.append(number)
    if headers is None or not body:
        raise UnreadableSpreadsheet("empty")
    return Sheet(headers, tuple(body), tuple(numbers))


def _clip(value: str) -> str:
    return value[:MAX_CELL]


# -- CSV -------------------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise UnreadableSpreadsheet("not_a_spreadsheet")  # UTF-16 or a binary file
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:  # five bytes cp1252 leaves undefined
            raise UnreadableSpreadsheet("not_a_spreadsheet") from exc


def sniff_delimiter(first_line: str) -> str:
    """The delimiter the header line uses most (``;`` on a tie: Dutch Excel's)."""
    return max(DELIMITERS, key=lambda d: (first_line.count(d), -DELIMITERS.index(d)))


def _csv_rows(data: bytes) -> list[list[str]]:
    text = _decode(data)
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text[:4096]):
        raise UnreadableSpreadsheet("not_a_spreadsheet")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line)))
    except csv.Error as exc:
        raise UnreadableSpreadsheet("not_a_spreadsheet") from exc


# -- XLSX ------------------------------------------------------------------------------------

def cell_text(value: object) -> str:
    """A cell's value as a person would type it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _xlsx_rows(data: bytes) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(member.file_size for member in archive.infolist()) > MAX_UNPACKED:
                raise UnreadableSpreadsheet("too_large")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except UnreadableSpreadsheet:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, TypeError) as exc:
        raise UnreadableSpreadsheet("not_a_spreadsheet") from exc
    try:
        if not workbook.worksheets:
            raise UnreadableSpreadsheet("empty")
        rows: list[list[str]] = []  # blank ones too: the row numbers are the sheet's
        filled = 0
        for values in workbook.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS + 1):
            cells = [cell_text(value) for value in values]
            rows.append(cells)
            filled += not is_blank(cells)
            if filled > MAX_ROWS + 1 or len(rows) > MAX_SHEET_ROWS:
                raise UnreadableSpreadsheet("too_many_rows")
        return rows
    except UnreadableSpreadsheet:
        raise
    except (KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise UnreadableSpreadsheet("not_a_spreadsheet") from exc
    finally:
        workbook.close()

"""The monthly report as a table for a spreadsheet: CSV (the API's and the page's), its
header, and XLSX (openpyxl); a kamer's name never runs as a formula (:func:`.desk.csv_cell`)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from mienskip_shared.contracts.vocabulary import CATEGORIES

from ...domain import reports
from .desk import csv_cell


def report_csv(shown: dict, headers: list[str], total_label: str) -> str:
    """The report as CSV: ``headers`` name the columns (kamer, COLUMNS, categories); a
    kamer's name never runs as a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in reports.table(shown, CATEGORIES):
        writer.writerow([total_label if row[0] is None else csv_cell(row[0]), *row[1:]])
    return out.getvalue()


def csv_headers() -> list[str]:
    """The API's CSV header: codes, as the JSON names them."""
    return ["kamer", *reports.COLUMNS, *(f"category.{c}" for c in CATEGORIES)]


def report_xlsx(shown: dict, headers: list[str], total_label: str, note: str) -> bytes:
    """The report as one sheet named after its month: a bold header, a row per kamer, the
    total, then ``note`` (what "< 5" means). Cells hold numbers, or the text "< 5"."""
    book = Workbook()
    sheet = book.active
    sheet.title = shown["month"]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in reports.table(shown, CATEGORIES):
        sheet.append([total_label if row[0] is None else csv_cell(row[0]), *row[1:]])
    sheet.append([])
    sheet.append([note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

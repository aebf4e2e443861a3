"""Reading a kamer's volunteer list: CSV and XLSX into text (adapters/spreadsheets.py),
the header row into column meanings and cells into a volunteer's fields
(domain/imports.py). No database."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from mienskip_intake.adapters.spreadsheets import UnreadableSpreadsheet, read_spreadsheet, sniff_delimiter
from mienskip_intake.domain.addresses import DutchAddress, Located, Precision
from mienskip_intake.domain.imports import (
    MAX_BYTES,
    MAX_ROWS,
    CellError,
    check_mapping,
    read_availability,
    read_date,
    read_language,
    read_languages,
    read_request_row,
    read_skills,
    read_volunteer_row,
    read_yes_no,
    suggest_mapping,
)
from mienskip_intake.service_layer.geocoding import AddressLookup, GeocoderUnavailable, UnknownAddress
from mienskip_intake.service_layer.imports import SheetLookup


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# -- CSV ---------------------------------------------------------------------------------------

def test_a_dutch_excel_csv_with_semicolons_and_a_bom_reads_as_text():
    data = "\ufeffNaam;Telefoon;Plaats\nSjoerd Kingma;06-12345678;Grou\n;;\nAnna de Vries;;\"Ljouwert; sintrum\"\n"
    sheet = read_spreadsheet(data.encode("utf-8"))
    assert sheet.headers == ("Naam", "Telefoon", "Plaats")  # no BOM left on the first header
    assert sheet.rows == (("Sjoerd Kingma", "06-12345678", "Grou"), ("Anna de Vries", "", "Ljouwert; sintrum"))
    assert sheet.numbers == (2, 4)  # the blank row 3 is left out, the numbers stay the sheet's


def test_windows_1252_is_read_when_the_file_is_not_utf8():
    data = "naam,plaats\nSjoerd Kingma,Fryslân\nDoutzen Tjoelker,Ljouwert\n".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the test is about a file that really is not UTF-8
    sheet = read_spreadsheet(data)
    assert sheet.rows[0] == ("Sjoerd Kingma", "Fryslân")


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_the_delimiter_is_the_one_the_header_line_uses(delimiter):
    data = delimiter.join(["naam", "telefoon", "e-mail"]) + "\n" + delimiter.join(["Anna", "0612345678", "a@b.nl"])
    assert read_spreadsheet(data.encode()).rows == (("Anna", "0612345678", "a@b.nl"),)


def test_a_tie_between_delimiters_goes_to_the_dutch_semicolon():
    assert sniff_delimiter("naam;adres, plaats") == ";"
    assert sniff_delimiter("naam") == ";"


def test_short_rows_are_padded_to_the_header_and_formulas_in_a_csv_stay_text():
    sheet = read_spreadsheet(b"naam;telefoon;notitie\nAnna\n=HYPERLINK(\"x\");1;2\n")
    assert sheet.rows == (("Anna", "", ""), ('=HYPERLINK("x")', "1", "2"))


# -- XLSX --------------------------------------------------------------------------------------

def test_an_xlsx_sheet_reads_dates_as_iso_and_whole_numbers_without_point_zero():
    data = _xlsx([
        ["Naam", "Telefoon", "VOG-datum", "Max taken per week", "Max afstand", "Auto", "Som"],
        ["Sjoerd Kingma", 612345678, datetime(2024, 3, 1), 2.0, 7.5, True, "=1+1"],
        [None, None, None, None, None, None, None],
        ["Anna de Vries", "06 1234 5678", date(2023, 11, 30), 1, 10, False, None],
    ])
    sheet = read_spreadsheet(data)
    assert sheet.headers == ("Naam", "Telefoon", "VOG-datum", "Max taken per week", "Max afstand", "Auto", "Som")
    # The formula has no value Excel computed (openpyxl saved it): it reads empty, never evaluated by us.
    assert sheet.rows[0] == ("Sjoerd Kingma", "612345678", "2024-03-01", "2", "7.5", "ja", "")
    assert sheet.rows[1] == ("Anna de Vries", "06 1234 5678", "2023-11-30", "1", "10", "nee", "")
    assert sheet.numbers == (2, 4)


def test_an_xlsx_formula_is_read_as_the_value_excel_stored():
    data = _xlsx([["naam", "som"], ["Anna", "=1+1"]])
    # Put a cached value beside the formula, as Excel does when it saves.
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
                assert b"<v>2</v>" in content
            target.writestr(item, content)
    assert read_spreadsheet(out.getvalue()).rows == (("Anna", "2"),)


# -- what is not a volunteer list ----------------------------------------------------------------

@pytest.mark.parametrize(("data", "code"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "xls"),
    (b"PK\x03\x04 this is no zip", "not_a_spreadsheet"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_a_spreadsheet"),
    (b"", "empty"),
    (b"naam;telefoon\n", "empty"),
    (b"x" * (MAX_BYTES + 1), "too_large"),
])
def test_anything_else_is_refused_with_a_reason(data, code):
    with pytest.raises(UnreadableSpreadsheet) as refused:
        read_spreadsheet(data)
    assert refused.value.code == code


def test_more_than_two_thousand_rows_is_refused_and_exactly_that_many_is_read():
    exactly = "naam\n" + "".join(f"Vrijwilliger {n}\n" for n in range(MAX_ROWS))
    assert len(read_spreadsheet(exactly.encode()).rows) == MAX_ROWS
    with pytest.raises(UnreadableSpreadsheet) as refused:
        read_spreadsheet((exactly + "Een te veel\n").encode())
    assert refused.value.code == "too_many_rows"
    with pytest.raises(UnreadableSpreadsheet) as refused_xlsx:
        read_spreadsheet(_xlsx([["naam"]] + [[f"V {n}"] for n in range(MAX_ROWS + 1)]))
    assert refused_xlsx.value.code == "too_many_rows"


# -- the header row ---------------------------------------------------------------------------------

def test_dutch_frisian_and_english_headers_are_recognised():
    assert suggest_mapping(["Naam", "Tillefoan", "E-mail", "Postcode", "Hûsnûmer", "Toevoeging", "Vaardigheden",
                            "Auto", "VOG-datum", "Beschikbaarheid", "Max taken per week", "Max afstand",
                            "Talen", "Opmerkingen"]) == [
        "name", "phone", "email", "postcode", "house_number", "addition", "skills", "has_car", "vog_checked_on",
        "availability", "max_tasks_per_week", "max_distance_km", "languages", None]
    assert suggest_mapping(["Voornaam", "Achternaam", "Mobiel", "House number", "Help met", "Language"]) == [
        "first_name", "last_name", "phone", "house_number", "skills", "language"]


def test_a_meaning_is_suggested_once_and_a_mapping_naming_one_twice_is_caught():
    assert suggest_mapping(["Telefoon", "Mobiel"]) == ["phone", None]
    assert check_mapping(["phone", "phone", None, "name"]) == ["phone"]
    with pytest.raises(ValueError):
        check_mapping(["shoe_size"])


# -- cells -------------------------------------------------------------------------------------------

def test_skills_in_dutch_frisian_and_english_become_category_codes():
    assert read_skills("Boodschappen, rijden / tuin en hond uitlaten") == ["shopping", "transport", "garden", "pets"]
    assert read_skills("boadskippen; ferfier; Maatsje") == ["shopping", "transport", "buddy"]
    assert read_skills("Odd jobs + digital") == ["odd_jobs", "digital"]
    with pytest.raises(CellError) as unknown:
        read_skills("boodschappen, paardrijden")
    assert unknown.value.code == "unknown_skill" and unknown.value.params == {"word": "paardrijden"}


def test_languages_yes_no_and_dates():
    assert read_language("Frysk") == "fy" and read_language("Nederlands") == "nl"
    assert read_languages("Fries, Engels en Duits") == ["fy", "en", "de"]
    assert read_yes_no("ja") and read_yes_no("X") and read_yes_no("wis") and not read_yes_no("nee")
    with pytest.raises(CellError):
        read_yes_no("soms")
    assert read_date("1-3-2024") == "2024-03-01" == read_date("01/03/2024") == read_date("2024-03-01")
    with pytest.raises(CellError):
        read_date("31-02-2024")


@pytest.mark.parametrize(("text", "slots"), [
    ("ma", [("mon", "09:00", "17:00")]),
    ("ma, wo ochtend", [("mon", "09:00", "17:00"), ("wed", "09:00", "12:00")]),
    ("di 09:00-12:00", [("tue", "09:00", "12:00")]),
    ("di 9-12; do 13.30 tot 16 uur", [("tue", "09:00", "12:00"), ("thu", "13:30", "16:00")]),
    ("ma-wo avond", [("mon", "18:00", "21:00"), ("tue", "18:00", "21:00"), ("wed", "18:00", "21:00")]),
    ("tiisdei moarns, snein middeis", [("tue", "09:00", "12:00"), ("sun", "12:00", "17:00")]),
    ("Monday morning; weekend", [("mon", "09:00", "12:00"), ("sat", "09:00", "17:00"), ("sun", "09:00", "17:00")]),
    ("ma wo hele dag", [("mon", "09:00", "17:00"), ("wed", "09:00", "17:00")]),
])
def test_availability_in_the_documented_format(text, slots):
    assert read_availability(text) == [{"day": d, "from": f, "to": t} for d, f, t in slots]


@pytest.mark.parametrize("text", ["soms", "ma 25:00-26:00", "wo na het eten", "vr-ma"])
def test_availability_that_is_not_in_the_format_names_the_part(text):
    with pytest.raises(CellError) as refused:
        read_availability(text)
    assert refused.value.code == "not_availability"


# -- a row ---------------------------------------------------------------------------------------------

MAPPING = ["first_name", "last_name", "phone", "postcode", "house_number", "skills", "has_car", "availability",
           "max_tasks_per_week", "max_distance_km", None]


def test_a_row_becomes_the_api_s_volunteer_body():
    row = read_volunteer_row(7, ["Sjoerd", "Kingma", "612345678", "8911 ab", "12a", "boodschappen", "ja",
                                 "ma ochtend", "2", "7,5 km", "ignored"], MAPPING)
    assert row.number == 7 and not row.problems
    assert row.body == {"name": "Sjoerd Kingma", "phone": "0612345678", "skills": ["shopping"], "has_car": True,
                        "availability": [{"day": "mon", "from": "09:00", "to": "12:00"}],
                        "max_tasks_per_week": 2, "max_distance_km": 7.5,
                        "home_address": {"postcode": "8911 ab", "house_number": "12", "addition": "a"}}
    assert row.given == {"name", "phone", "skills", "has_car", "availability", "max_tasks_per_week",
                         "max_distance_km", "home_address"}


def test_every_problem_of_a_row_is_named_at_once():
    row = read_volunteer_row(3, ["Anna", "", "", "", "", "paardrijden", "soms", "af en toe", "veel", "", ""], MAPPING)
    assert {(p.field, p.code) for p in row.problems} == {
        ("skills", "unknown_skill"), ("has_car", "not_yes_no"), ("availability", "not_availability"),
        ("max_tasks_per_week", "not_a_number"), ("home", "no_address")}


def test_lat_and_lon_columns_place_a_home_without_an_address():
    row = read_volunteer_row(2, ["Anna", "53,2", "5.79"], ["name", "lat", "lon"])
    assert row.body["home"] == {"lat": 53.2, "lon": 5.79} and "home_address" not in row.body and not row.problems


# -- one sheet's address lookups -----------------------------------------------------------------

class _Away:
    """An outside geocoder that times out, counting how often it was asked."""

    def __init__(self):
        self.asked = 0

    def locate(self, address):
        self.asked += 1
        raise GeocoderUnavailable("timed out")


class _Areas:
    def locate(self, address):
        if address.postcode4 != "8911":
            raise UnknownAddress(address.postcode4)
        return Located(lat=53.2, lon=5.8, precision=Precision.POSTCODE4, postcode=address.postcode)


def test_once_the_outside_geocoder_is_away_the_rest_of_the_sheet_does_not_wait_for_it():
    outside = _Away()
    lookup = SheetLookup(AddressLookup(outside, fallback=_Areas()))
    first = lookup.locate(DutchAddress.parse("8911 AB", "3"))
    rest = [lookup.locate(DutchAddress.parse("8911 AB", str(n))) for n in range(4, 20)]
    assert outside.asked == 1  # one timeout for the sheet, not one per row
    assert first.retry_exact and all(r.retry_exact and r.precision is Precision.POSTCODE4 for r in rest)
    with pytest.raises(GeocoderUnavailable):  # away, and an area the fallback does not know: no "unknown"
        lookup.locate(DutchAddress.parse("1011 AB", "1"))


# -- a sheet of open requests ----------------------------------------------------------------------

REQUEST_MAPPING = suggest_mapping(["Bewoner", "Telefoon", "Postcode", "Huisnummer", "Soort hulp", "Datum", "Van",
                                   "Tot", "Opmerkingen", "Urgentie"], "requests")


def test_request_headers_mean_a_request_s_fields():
    assert REQUEST_MAPPING == ["name", "phone", "postcode", "house_number", "category", "date", "time_from",
                               "time_to", "notes", "urgency"]
    assert suggest_mapping(["Wanneer", "Vaardigheden"], "requests") == ["date", None]  # no volunteer fields here


def test_a_request_row_becomes_the_api_s_request_body_in_dutch_time():
    winter = read_request_row(2, ["Durk Postma", "058 123 4567", "9001 AB", "3a", "boodschappen, maatje",
                                  "10-12-2026", "10", "11.30", "graag bellen", "spoed"], REQUEST_MAPPING)
    assert not winter.problems
    assert winter.body == {
        "resident": {"name": "Durk Postma", "phone": "058 123 4567"},
        "category": "shopping", "skills": ["buddy"],
        "window": {"start": "2026-12-10T10:00:00+01:00", "end": "2026-12-10T11:30:00+01:00"},
        "notes": "graag bellen", "urgency": "urgent",
        "address": {"postcode": "9001 AB", "house_number": "3", "addition": "a"}}
    summer = read_request_row(3, ["Anna", "", "9001 AB", "3", "tuin", "2027-06-01", "09:00", "10:00", "", ""],
                              REQUEST_MAPPING)
    assert summer.body["window"]["start"] == "2027-06-01T09:00:00+02:00"  # summer time


def test_a_request_row_names_what_is_missing_or_unreadable():
    row = read_request_row(4, ["Anna", "", "", "", "", "morgen", "10", "", "", "zo snel mogelijk"], REQUEST_MAPPING)
    assert {(p.field, p.code) for p in row.problems} == {
        ("category", "no_category"), ("date", "not_a_date"), ("time_to", "no_time"),
        ("urgency", "unknown_urgency"), ("address", "no_address")}


def test_a_small_xlsx_that_unpacks_into_a_huge_sheet_is_refused():
    long_text = "x" * 1000
    with pytest.raises(UnreadableSpreadsheet) as refused:
        read_spreadsheet(_xlsx([["naam"] + [f"k{n}" for n in range(49)]]
                               + [[long_text] * 50 for _ in range(400)]))
    assert refused.value.code == "too_large"

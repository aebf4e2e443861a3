"""Importing a kamer's volunteer list in a real browser (Debian's chromium, headless)
against `mienskip serve`, in Dutch: a staff member uploads a CSV as Dutch Excel writes it
(semicolons, a BOM), sees a row with a problem block the import, uploads the corrected
list, sees a volunteer the kamer already has offered to skip or merge, imports, and finds
the new volunteers through the API; the pages pass axe-core (WCAG 2.1 AA). A sheet of
open requests shows a request the kamer already has, to skip (the default) or import anyway.

Screenshot: docs/screenshots/desk-import.png (the preview)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from e2e_support import Processes, free_port, wait_until_ready
from ui_support import PHONE, SCREENSHOTS, VIEWPORT, chromium_or_skip, wcag_violations

pytestmark = pytest.mark.slow

HEADER = "Naam;Telefoon;E-mail;Postcode;Huisnummer;Vaardigheden;Auto;Beschikbaarheid;Max taken per week\n"
ROWS = ("Sjoerd Kingma;06-12345678;;8911 AB;3;boodschappen, rijden;ja;ma, wo ochtend;2\n"
        "Anna de Vries;;anna@example.org;9001 AB;12a;tuin;nee;di 09:00-12:00;1\n"
        "Hiltsje Bouma;0611122233;;9001 AB;5;maatje;nee;do middag;1\n")
WRONG = "Piet Paal;06-98765432;;8911 AB;7;paardrijden;ja;ma;1\n"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    chromium_or_skip()
    root = tmp_path_factory.mktemp("import")
    (root / "logs").mkdir()
    processes = Processes({"MIENSKIP_DATA_DIR": str(root / "data"), "MIENSKIP_LOG_LEVEL": "INFO",
                           "MIENSKIP_RATE_LIMIT": "1000 per second"}, root / "logs")
    try:
        kamer = processes.cli("kamer", "add", "--name", "Dorpskamer Grou", "--lat", "53.0946", "--lon", "5.8374",
                              "--json")
        port = free_port()
        processes.start("serve", "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, processes)
        headers = {"Authorization": f"Bearer {kamer['token']}"}
        r = requests.post(f"{base}/v1/volunteers", headers=headers, timeout=10, json={
            "name": "Hiltsje Bouma", "phone": "06 1112 2233", "language": "fy", "home": {"lat": 53.099, "lon": 5.830},
            "skills": ["buddy"], "availability": [{"day": "thu", "from": "12:00", "to": "17:00"}]})
        assert r.status_code == 201, r.text
        yield {"base": base, "token": kamer["token"], "headers": headers, "hiltsje": r.json()["id"]}
    finally:
        processes.stop_all()


def _csv(text: str) -> dict:
    return {"name": "vrijwilligers.csv", "mimeType": "text/csv", "buffer": ("\ufeff" + text).encode("utf-8")}


def test_a_kamer_imports_its_volunteer_list_in_dutch(system, new_page):
    page = new_page()
    base = system["base"]
    page.goto(f"{base}/review/login?lang=nl")
    page.get_by_label("Token").fill(system["token"])
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{base}/review/**")

    page.get_by_role("link", name="Importeren").click()
    page.wait_for_url("**/desk/import")
    assert wcag_violations(page) == []

    # A row with a kind of help nobody knows: shown, named, and nothing can be imported.
    page.get_by_label("Bestand (CSV of XLSX)").set_input_files(_csv(HEADER + ROWS + WRONG))
    page.get_by_role("button", name="Bekijken").click()
    page.wait_for_url("**/desk/import/*")
    assert "4 rijen: 1 met een probleem" in page.get_by_test_id("import-summary").inner_text()
    assert "‘paardrijden’ kennen we niet als soort hulp" in page.get_by_test_id("import-rows").inner_text()
    assert page.get_by_test_id("import-confirm").count() == 0
    page.set_viewport_size(PHONE)  # on a phone: the rows scroll inside their own box, the page does not
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    assert wcag_violations(page) == []
    page.set_viewport_size(VIEWPORT)

    # The corrected list: Hiltsje is already registered, offered to skip (the default) or merge.
    page.get_by_role("link", name="Een ander bestand uploaden").first.click()
    page.get_by_label("Bestand (CSV of XLSX)").set_input_files(_csv(HEADER + ROWS))
    page.get_by_role("button", name="Bekijken").click()
    page.wait_for_url("**/desk/import/*")
    assert "3 rijen: 0 met een probleem, 1 mogelijk al ingeschreven" in page.get_by_test_id(
        "import-summary").inner_text()
    rows = page.get_by_test_id("import-rows")
    assert "Lijkt op Hiltsje Bouma, al ingeschreven" in rows.inner_text()
    assert page.get_by_role("radio", name="Overslaan").is_checked()
    assert page.get_by_role("radio", name="Samenvoegen: Hiltsje Bouma bijwerken met deze rij").count() == 1
    assert wcag_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "desk-import.png"), full_page=True)

    page.get_by_test_id("import-confirm").click()
    page.wait_for_url("**/done")
    assert page.get_by_test_id("import-result").inner_text() == (
        "2 vrijwilligers geïmporteerd, 0 samengevoegd met bestaande, 1 overgeslagen.")
    page.go_back()  # the browser's back to the preview: the import is done, its result is shown, nothing twice
    page.wait_for_url("**/done")

    listed = requests.get(f"{base}/v1/volunteers", headers=system["headers"], timeout=10).json()["items"]
    assert sorted(v["name"] for v in listed) == ["Anna de Vries", "Hiltsje Bouma", "Sjoerd Kingma"]
    sjoerd = next(v for v in listed if v["name"] == "Sjoerd Kingma")
    assert sjoerd["skills"] == ["shopping", "transport"] and sjoerd["home"]["precision"] == "postcode4"


def test_a_request_the_kamer_already_has_is_shown_to_skip_or_import_anyway(system, new_page):
    base = system["base"]
    day = (datetime.now(ZoneInfo("Europe/Amsterdam")) + timedelta(days=7)).date()
    window = {"start": datetime.combine(day, time(10), ZoneInfo("Europe/Amsterdam")).isoformat(),
              "end": datetime.combine(day, time(11), ZoneInfo("Europe/Amsterdam")).isoformat()}
    answer = requests.post(f"{base}/v1/requests", headers=system["headers"], timeout=10, json={
        "resident": {"name": "Durk Postma", "phone": "058 123 4567", "language": "fy"},
        "address": {"postcode": "9001 AB", "house_number": "3"}, "category": "shopping", "window": window})
    assert answer.status_code == 202, answer.text
    d = day.strftime("%d-%m-%Y")
    sheet = ("Bewoner;Telefoon;Postcode;Huisnummer;Soort hulp;Datum;Van;Tot\n"
             f"durk  postma;0581234567;9001 AB;3;boodschappen;{d};10:30;11:00\n"
             f"Trijntje Hoekstra;;8911 AB;12a;tuin;{d};14:00;16:00\n"
             f"Trijntje Hoekstra;;8911 AB;12a;tuin;{d};14:00;16:00\n")
    page = new_page()
    page.goto(f"{base}/review/login?lang=nl")
    page.get_by_label("Token").fill(system["token"])
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{base}/review/**")
    page.goto(f"{base}/desk/import")
    page.get_by_label("Open hulpvragen").check()
    page.get_by_label("Bestand (CSV of XLSX)").set_input_files(
        {"name": "vragen.csv", "mimeType": "text/csv", "buffer": sheet.encode("utf-8")})
    page.get_by_role("button", name="Bekijken").click()
    page.wait_for_url("**/desk/import/*")
    assert "3 rijen: 0 met een probleem, 2 mogelijk al aangemeld." in page.get_by_test_id(
        "import-summary").inner_text()
    durk, second = page.locator('tr[data-row="2"]'), page.locator('tr[data-row="4"]')
    assert "Lijkt op de hulpvraag van Durk Postma" in durk.inner_text()
    assert "lijkt op rij 3 van dit bestand" in second.inner_text()
    assert durk.get_by_role("radio", name="Overslaan").is_checked()
    assert wcag_violations(page) == []
    second.get_by_role("radio", name="Toch importeren als nieuwe hulpvraag").check()  # two visits that day
    page.get_by_test_id("import-confirm").click()
    page.wait_for_url("**/done")
    assert page.get_by_test_id("import-result").inner_text().startswith("2 hulpvragen geïmporteerd, 1 overgeslagen")
    listed = requests.get(f"{base}/v1/requests", headers=system["headers"], timeout=10).json()["items"]
    assert len(listed) == 3

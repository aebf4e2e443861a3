"""A coordinator opens last month's report in a real browser (the demo's data: the demo
writes last calendar month) and downloads it as CSV and as XLSX; the page passes axe's
WCAG 2.1 AA checks. The screenshot goes to docs/screenshots/report.png (the README)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from e2e_support import Processes, free_port, wait_for, wait_until_ready
from openpyxl import load_workbook
from ui_support import SCREENSHOTS, chromium_or_skip, wcag_violations

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(tmp_path):
    chromium_or_skip()
    (tmp_path / "logs").mkdir()
    processes = Processes({"MIENSKIP_LOG_LEVEL": "INFO"}, tmp_path / "logs")
    port = free_port()
    try:
        processes.start("demo", "demo", "--port", str(port), "--data-dir", str(tmp_path / "demo"))
        log = tmp_path / "logs" / "demo.log"
        banner = wait_for(lambda: "curl -H" in log.read_text() and log.read_text(), timeout=90,
                          what="the demo's banner")
        address = re.search(r"(?:Review|API):\s+(http://\S+?)(?:/v1|/review/?)?\s", banner).group(1)
        coordinator = re.search(r"coordinator \(leeuwarden\)\s+(msk_\S+)", banner).group(1)
        wait_until_ready(address, processes)
        yield address, coordinator
    except BaseException:
        print(processes.logs())
        raise
    finally:
        processes.stop_all()


def test_a_coordinator_opens_the_months_report_and_downloads_it(demo, new_page):
    address, coordinator = demo
    page = new_page()
    page.goto(f"{address}/review/login")
    page.get_by_label("Token").fill(coordinator)
    page.get_by_role("button", name="Aanmelden").click()
    page.get_by_role("link", name="Rapportage").click()
    assert page.get_by_role("heading", name="Maandrapportage").is_visible()
    # last month, as the demo wrote it: four kamers and a total, with real numbers
    rows = page.get_by_test_id("report-table").locator("tbody tr")
    assert rows.count() == 5
    assert int(page.get_by_test_id("report-summary").locator(".n").first.inner_text()) >= 20
    assert page.locator("svg.chart[role=img]").count() == 2
    assert page.locator("#chart-categories rect").count() >= 5
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
    assert wcag_violations(page) == []

    with page.expect_download() as download_csv:
        page.locator("[data-export=csv]").click()
    text = download_csv.value.path().read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:2] == ["Kamer", "Hulpvragen"] and table[-1][0] == "Totaal" and len(table) == 6
    assert int(table[-1][1]) >= 20 and all(cell not in ("1", "2", "3", "4") for row in table for cell in row)

    with page.expect_download() as download_xlsx:
        page.locator("[data-export=xlsx]").click()
    sheet = load_workbook(io.BytesIO(download_xlsx.value.path().read_bytes())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows(max_row=6)]
    assert values[0][:2] == ["Kamer", "Hulpvragen"] and values[5][0] == "Totaal"
    assert [row[1] for row in values[1:]] == [int(row[1]) if row[1] not in ("< 5", "0") else row[1]
                                              for row in table[1:]]

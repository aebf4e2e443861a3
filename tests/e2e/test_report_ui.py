"""A coordinator opens last month's report in a real browser (the demo's data: the demo
writes last calendar month) and downloads it as CSV and as XLSX; a resident answers the
follow-up question on a phone and the coordinator finds it under "waiting too long". The
pages pass axe's WCAG 2.1 AA checks. The screenshot goes to docs/screenshots/report.png."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from e2e_support import Processes, free_port, wait_for, wait_until_ready
from openpyxl import load_workbook
from ui_support import PHONE, SCREENSHOTS, chromium_or_skip, wcag_violations

from mienskip_shared.links import sign_follow_up_link

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    chromium_or_skip()
    tmp_path = tmp_path_factory.mktemp("report-ui")
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
        yield address, coordinator, tmp_path / "demo"
    except BaseException:
        print(processes.logs())
        raise
    finally:
        processes.stop_all()


def sign_in(page, address: str, token: str) -> None:
    page.goto(f"{address}/review/login")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Aanmelden").click()


def test_a_coordinator_opens_the_months_report_and_downloads_it(demo, new_page):
    from playwright.sync_api import expect

    address, coordinator, _ = demo
    page = new_page()
    sign_in(page, address, coordinator)
    page.get_by_role("link", name="Rapportage").click()
    expect(page.get_by_role("heading", name="Maandrapportage")).to_be_visible()
    # last month, as the demo wrote it: four kamers and a total, with real numbers
    expect(page.get_by_test_id("report-table").locator("tbody tr")).to_have_count(5)
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


def test_a_resident_answers_on_a_phone_and_the_coordinator_sees_it_waiting(demo, new_page):
    from playwright.sync_api import expect

    address, coordinator, data_dir = demo
    api = {"Authorization": f"Bearer {coordinator}"}
    done = requests.get(f"{address}/v1/requests?status=completed&limit=50", headers=api, timeout=10).json()["items"]
    # a volunteer's visit (a provider's completed referral has no assignment to follow up)
    shown = (requests.get(f"{address}/v1/requests/{r['id']}", headers=api, timeout=10).json() for r in done)
    request_id, assignment_id = next((r["id"], r["assignment"]["id"]) for r in shown if r.get("assignment"))
    token = sign_follow_up_link((data_dir / "secret_key").read_text().strip(), request_id, assignment_id,
                                datetime.now(UTC) + timedelta(days=7))
    phone = new_page(viewport=PHONE)
    phone.goto(f"{address}/f/{token}?lang=fy")
    expect(phone.get_by_role("heading", name="Is de help kommen?")).to_be_visible()
    assert wcag_violations(phone) == []
    phone.get_by_label("Ik ha mear help nedich").check()
    phone.get_by_label("Wolle jo noch wat kwyt? (mei leech bliuwe)").fill("Ek graach help yn de tún")
    phone.get_by_role("button", name="Antwurd ferstjoere").click()
    expect(phone.get_by_test_id("follow-up-answer")).to_contain_text("Ik ha mear help nedich")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing sideways

    page = new_page()
    sign_in(page, address, coordinator)
    page.get_by_role("link", name="Aandacht nodig").click()
    item = page.locator(f"[data-waiting=follow_ups_open][data-request-id='{request_id}']")
    expect(item).to_contain_text("Ik heb meer hulp nodig")
    assert wcag_violations(page) == []
    item.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Antwoord van de bewoner op de nabelvraag")).to_be_visible()
    expect(page.locator("[data-follow-up=more]")).to_contain_text("Ek graach help yn de tún")

"""After the task, in a real browser (Debian's chromium, headless) against intake served
over HTTP with its clock moved past the task's start: a volunteer records their visit
from a phone-sized page, and a kamer approves the mileage claim it makes.

Screenshot: docs/screenshots/visit-record.png (the phone-sized visit form)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import TEST_SECRET, Kamer, issue_token, propose
from ui_support import (
    PHONE,
    SCREENSHOTS,
    VIEWPORT,
    chromium_or_skip,
    request_body,
    volunteer_body,
    wcag_violations,
)
from werkzeug.serving import make_server

from mienskip_intake.bootstrap import build
from mienskip_intake.domain.model import Role
from mienskip_intake.domain.visits import month_of
from mienskip_intake.settings import Settings
from mienskip_shared.links import sign_volunteer_link

pytestmark = pytest.mark.slow

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    chromium_or_skip()
    root = tmp_path_factory.mktemp("visits-ui")
    service = build(Settings.from_env({}, database_url=f"sqlite:///{root / 'intake.db'}", broker_url="memory://",
                                      data_dir=root, secret_key=TEST_SECRET), with_workers=False)
    app = service.wsgi_app
    app.config["MIENSKIP_CLOCK"] = lambda: START + timedelta(hours=2)  # the task has begun
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kamer = Kamer(service.engine, "Dorpskamer Grou", 53.0946, 5.8374)
    api = app.test_client()
    request_id = api.post("/v1/requests", json=request_body(START), headers=kamer.headers).get_json()["id"]
    volunteer_id = api.post("/v1/volunteers", json={**volunteer_body("Hiltsje Bouma"), "language": "fy"},
                            headers=kamer.headers).get_json()["id"]
    assignment_id = propose(service.engine, request_id, volunteer_id)
    for step in ("approve", "accept"):
        assert api.post(f"/v1/assignments/{assignment_id}/{step}", json={}, headers=kamer.headers).status_code == 200
    link = sign_volunteer_link(TEST_SECRET, assignment_id, volunteer_id, datetime.now(UTC) + timedelta(days=30))
    try:
        yield {"base": f"http://127.0.0.1:{server.server_port}", "kamer": kamer, "api": api, "link": link,
               "request_id": request_id, "engine": service.engine}
    finally:
        server.shutdown()
        service.dispose()


def _page(browser, viewport, locale):
    context = browser.new_context(viewport=viewport, locale=locale)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def test_a_volunteer_records_the_visit_from_a_phone_and_the_kamer_approves_the_mileage(system, browser):
    context, page = _page(browser, PHONE, "fy-NL")
    try:
        page.goto(f"{system['base']}/v/{system['link']}")
        form = page.get_by_test_id("visit-form")
        assert "Hoe gie it?" in form.inner_text()
        form.get_by_role("button", name="Bewarje").click()  # nothing chosen: the error sits at its field
        page.wait_for_selector("#err-visit-done")
        assert "kies ja of nee" in page.locator("#err-visit-done").inner_text()
        assert wcag_violations(page) == []
        page.goto(f"{system['base']}/v/{system['link']}")
        form = page.get_by_test_id("visit-form")
        form.get_by_label("Ja, dien").check()
        form.get_by_label("Bestege oeren").fill("1,5")
        form.get_by_label("Riden km (foar de kilometerfergoeding)").fill("12,4")
        form.get_by_label("In berjocht foar de keamer").fill("Mei Bello nei it park west. Hy wie bliid.")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # phone-sized
        assert wcag_violations(page) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        form.screenshot(path=str(SCREENSHOTS / "visit-record.png"))
        form.get_by_role("button", name="Bewarje").click()
        page.wait_for_url("**done=visit_done**")
        assert "De besite is fêstlein" in page.locator(".flash.ok").inner_text()
        recorded = page.get_by_test_id("visit-record")
        assert "1,5 oere" in recorded.inner_text() and "12,4 km" in recorded.inner_text()
        assert page.get_by_test_id("visit-form").count() == 0
    finally:
        context.close()
    status = system["api"].get(f"/v1/requests/{system['request_id']}", headers=system["kamer"].headers).get_json()
    assert status["status"] == "completed"

    context, page = _page(browser, VIEWPORT, "nl-NL")
    try:
        page.goto(f"{system['base']}/review/login")
        page.get_by_label("Token").fill(system["kamer"].token)
        page.get_by_role("button", name="Aanmelden").click()
        page.wait_for_url(f"{system['base']}/review/**")
        page.goto(f"{system['base']}/desk/mileage?month={month_of(START)}")
        claims = page.get_by_test_id("mileage")
        row = claims.locator("tbody tr").first
        assert "Hiltsje Bouma" in row.inner_text() and "€\u00a03,72" in row.inner_text()  # 12.4 km x €0.30
        row.get_by_role("button", name="Goedkeuren").click()
        page.wait_for_url("**/desk/mileage**")
        assert "Declaratie goedgekeurd" in page.locator(".flash.ok").inner_text()
        row = page.get_by_test_id("mileage").locator("tbody tr").first
        assert row.get_attribute("data-status") == "approved" and "goedgekeurd" in row.inner_text()
        row.get_by_role("button", name="Markeer als betaald").click()
        page.wait_for_url("**/desk/mileage**")
        assert page.get_by_test_id("mileage").locator("tbody tr").first.get_attribute("data-status") == "paid"
        assert wcag_violations(page) == []
    finally:
        context.close()


def test_a_coordinator_sets_the_kamers_mileage_rate_on_a_page_that_meets_wcag_21_aa(system, browser):
    _, token = issue_token(system["engine"], Role.COORDINATOR,
                           region="leeuwarden")
    context, page = _page(browser, PHONE, "nl-NL")
    try:
        page.goto(f"{system['base']}/review/login")
        page.get_by_label("Token").fill(token)
        page.get_by_role("button", name="Aanmelden").click()
        page.wait_for_url(f"{system['base']}/review/**")
        page.goto(f"{system['base']}/desk/settings?kamer={system['kamer'].id}")
        page.get_by_label("Kilometervergoeding per km (€)").fill("veel")
        page.get_by_role("button", name="Instellingen opslaan").click()
        assert "een bedrag in euro" in page.locator("#err-rate").inner_text()
        assert wcag_violations(page) == []
        page.get_by_label("Kilometervergoeding per km (€)").fill("0,28")
        page.get_by_role("button", name="Instellingen opslaan").click()
        page.wait_for_url("**/desk/settings**")
        assert "Instellingen opgeslagen" in page.locator(".flash.ok").inner_text()
        assert page.get_by_label("Kilometervergoeding per km (€)").input_value() == "0,28"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        context.close()

"""The desk's "new request" form in a real browser (Debian's chromium, headless) against
`mienskip serve`: a kamer's staff member enters a phone request by postcode and house
number, in Dutch (phone-sized, keyboard for the address step) and in Frisian (with an
unknown postcode first), confirms the place, saves, and sees it proposed.

Both pages are checked with axe-core (WCAG 2.1 AA). Screenshot: docs/screenshots/desk-new-request.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from e2e_support import Processes, free_port, wait_for, wait_until_ready
from ui_support import PHONE, SCREENSHOTS, VIEWPORT, chromium_or_skip, wcag_violations

pytestmark = pytest.mark.slow

GROU = (53.0946, 5.8374)
ALL_WEEK = [{"day": d, "from": "07:00", "to": "21:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    chromium_or_skip()
    root = tmp_path_factory.mktemp("desk")
    (root / "logs").mkdir()
    processes = Processes({"MIENSKIP_DATA_DIR": str(root / "data"), "MIENSKIP_LOG_LEVEL": "INFO",
                           "MIENSKIP_RATE_LIMIT": "1000 per second"}, root / "logs")
    try:
        kamer = processes.cli("kamer", "add", "--name", "Dorpskamer Grou", "--lat", str(GROU[0]), "--lon",
                              str(GROU[1]), "--json")
        port = free_port()
        processes.start("serve", "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, processes)
        headers = {"Authorization": f"Bearer {kamer['token']}"}
        r = requests.post(f"{base}/v1/volunteers", headers=headers, timeout=10, json={
            "name": "Hiltsje Bouma", "language": "fy", "home": {"lat": 53.099, "lon": 5.830},
            "skills": ["shopping", "buddy"], "availability": ALL_WEEK, "max_tasks_per_week": 30,
            "max_distance_km": 20})
        assert r.status_code == 201, r.text
        yield {"base": base, "token": kamer["token"], "headers": headers, "processes": processes}
    finally:
        processes.stop_all()


def _sign_in(page, base, token, button):
    page.goto(f"{base}/review/login")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(f"{base}/review/**")


def _next_week() -> str:
    return (datetime.now(UTC) + timedelta(days=7)).astimezone(ZoneInfo("Europe/Amsterdam")).date().isoformat()


def _wait_proposed(system, request_id):
    def proposed():
        body = requests.get(f"{system['base']}/v1/requests/{request_id}", headers=system["headers"],
                            timeout=10).json()
        return body if body["status"] == "proposed" else None
    try:
        return wait_for(proposed, timeout=60, what=f"request {request_id} proposed")
    except BaseException:
        print(system["processes"].logs())
        raise


def test_a_phone_request_by_postcode_in_dutch_on_a_phone(system, new_page):
    page = new_page(viewport=PHONE)
    _sign_in(page, system["base"], system["token"], "Aanmelden")
    page.goto(f"{system['base']}/desk?lang=nl")
    page.get_by_role("link", name="Nieuwe hulpvraag").click()
    page.wait_for_url("**/desk/requests/new")

    # The address step by keyboard alone: type, Tab, and Enter on "look up".
    page.get_by_label("Naam", exact=True).focus()
    page.keyboard.type("Durk Postma")
    page.keyboard.press("Tab")
    page.keyboard.type("058 123 4567")
    page.get_by_label("Postcode", exact=True).focus()
    page.keyboard.type("9001ab")
    page.keyboard.press("Tab")
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.type("a")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.action") == "look-up"
    page.keyboard.press("Enter")
    found = page.get_by_test_id("address-found")
    assert "postcodegebied 9001 (Grou)" in found.inner_text()
    assert found.get_attribute("data-precision") == "postcode4"
    assert wcag_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll

    page.get_by_label("Soort hulp").select_option("shopping")
    page.get_by_label("Datum").fill(_next_week())
    page.get_by_label("Van", exact=True).fill("10:00")
    page.get_by_label("Tot", exact=True).fill("11:00")
    page.get_by_label("Opmerkingen").fill("Boadskippen by de Poiesz")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desk-new-request.png"), full_page=True)
    save = page.get_by_role("button", name="Hulpvraag opslaan")
    save.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/review/requests/*")
    assert "Durk Postma" in page.locator("h1").inner_text()
    assert page.locator("[data-precision]").inner_text() == "bij benadering (postcodegebied)"
    request_id = page.url.rsplit("/", 1)[-1]
    assert _wait_proposed(system, request_id)["location"]["precision"] == "postcode4"


def test_a_phone_request_in_frisian_with_an_unknown_postcode_first(system, new_page):
    page = new_page(viewport=VIEWPORT)
    _sign_in(page, system["base"], system["token"], "Aanmelden")
    page.goto(f"{system['base']}/desk/requests/new?lang=fy")
    page.get_by_label("Namme", exact=True).fill("Geartsje de Jong")
    page.get_by_label("Postkoade", exact=True).fill("1012 AB")
    page.get_by_label("Hûsnûmer").fill("1")
    page.get_by_role("button", name="Adres opsykje").click()
    error = page.locator("#err-postcode")
    assert "Postkoade: dizze postkoade" in error.inner_text()
    assert page.get_by_label("Postkoade", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_role("button", name="Helpfraach bewarje").count() == 0  # no saving before a place
    assert wcag_violations(page) == []

    page.get_by_label("Postkoade", exact=True).fill("8911 KE")
    page.get_by_label("Hûsnûmer").fill("12")
    page.get_by_role("button", name="Adres opsykje").click()
    assert "postkoadegebiet 8911 (Leeuwarden)" in page.get_by_test_id("address-found").inner_text()
    page.get_by_label("Soarte help").select_option("buddy")
    page.get_by_role("radio", name="alle wiken").check()
    page.get_by_label("Dei (alle wiken)").select_option("thu")
    page.get_by_label("Fan", exact=True).fill("14:00")
    page.get_by_label("Oant", exact=True).fill("15:30")
    page.get_by_role("button", name="Helpfraach bewarje").click()
    page.wait_for_url("**/review/requests/*")
    assert "Geartsje de Jong" in page.locator("h1").inner_text()
    assert "by benadering" in page.locator("[data-precision]").inner_text()
    request_id = page.url.rsplit("/", 1)[-1]
    body = requests.get(f"{system['base']}/v1/requests/{request_id}", headers=system["headers"],
                        timeout=10).json()
    assert body["recurrence"] == "weekly"
    assert datetime.fromisoformat(body["window"]["start"]).astimezone(ZoneInfo("Europe/Amsterdam")).weekday() == 3

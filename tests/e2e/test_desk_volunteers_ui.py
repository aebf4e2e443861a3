"""The desk's volunteer pages and a volunteer's own page in a real browser (Debian's
chromium, headless) against `mienskip serve`: a kamer's staff member registers a volunteer
by postcode and house number with a weekly grid, adds an away period (and matching then
leaves them out on those days); a volunteer opens their link on a phone and changes when
they can help.

Screenshots: docs/screenshots/desk-volunteers.png, desk-volunteer-form.png,
desk-volunteer-own-page.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from e2e_support import Processes, free_port, wait_for, wait_until_ready
from ui_support import SCREENSHOTS, chromium_or_skip, wcag_violations

from mienskip_shared.links import sign_volunteer_link

pytestmark = pytest.mark.slow

GROU = (53.0946, 5.8374)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LOCAL = ZoneInfo("Europe/Amsterdam")
ALL_WEEK = [{"day": d, "from": "07:00", "to": "21:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    chromium_or_skip()
    root = tmp_path_factory.mktemp("desk-volunteers")
    (root / "logs").mkdir()
    processes = Processes({"MIENSKIP_DATA_DIR": str(root / "data"), "MIENSKIP_LOG_LEVEL": "INFO",
                           "MIENSKIP_RATE_LIMIT": "1000 per second"}, root / "logs")
    try:
        kamer = processes.cli("kamer", "add", "--name", "Dorpskamer Grou", "--lat", str(GROU[0]), "--lon",
                              str(GROU[1]), "--phone", "0566 62 12 34", "--json")
        port = free_port()
        processes.start("serve", "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, processes)
        yield {"base": base, "token": kamer["token"], "headers": {"Authorization": f"Bearer {kamer['token']}"},
               "processes": processes, "secret": (root / "data" / "secret_key").read_text().strip()}
    finally:
        processes.stop_all()


def _sign_in(page, base, token):
    page.goto(f"{base}/review/login")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{base}/review/**")


def _tuesday_in(weeks: int) -> datetime:
    now = datetime.now(LOCAL)
    day = now + timedelta(days=(1 - now.weekday()) % 7 + 7 * weeks)
    return day.replace(hour=10, minute=0, second=0, microsecond=0)


def _request(system, start: datetime) -> str:
    r = requests.post(f"{system['base']}/v1/requests", headers=system["headers"], timeout=10, json={
        "resident": {"name": "Durk Postma"}, "location": {"lat": GROU[0], "lon": GROU[1]}, "category": "pets",
        "notes": "De hûn hjit Bello", "window": {"start": start.isoformat(),
                                                 "end": (start + timedelta(hours=1)).isoformat()}})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def _decided(system, request_id):
    def done():
        body = requests.get(f"{system['base']}/v1/requests/{request_id}", headers=system["headers"],
                            timeout=10).json()
        return body if body["status"] in ("proposed", "unmatched") else None
    try:
        return wait_for(done, timeout=60, what=f"request {request_id} decided")
    except BaseException:
        print(system["processes"].logs())
        raise


def test_registering_a_volunteer_with_an_away_period(system, browser):
    context = browser.new_context(viewport=DESKTOP, locale="nl-NL")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _sign_in(page, system["base"], system["token"])
        page.get_by_role("link", name="Vrijwilligers", exact=True).click()
        page.wait_for_url("**/desk/volunteers")
        page.get_by_role("link", name="Vrijwilliger inschrijven").click()
        page.get_by_label("Naam", exact=True).fill("Hiltsje Bouma")
        page.get_by_label("Telefoon", exact=True).fill("06 12345678")
        page.get_by_label("Postcode", exact=True).fill("9001 AB")
        page.get_by_label("Huisnummer").fill("3")
        page.get_by_label("Dieren").check()
        for cell in ("dinsdag, Ochtend", "dinsdag, Middag", "donderdag, Avond"):
            page.get_by_label(cell).check()
        page.get_by_label("Hoogstens taken per week").fill("3")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "desk-volunteer-form.png"), full_page=True)
        page.get_by_role("button", name="Inschrijven").click()
        page.wait_for_url("**/desk/volunteers/*")
        volunteer_id = page.url.rsplit("/", 1)[-1]
        assert "Hiltsje Bouma is ingeschreven" in page.locator(".flashes").inner_text()

        away_week = _tuesday_in(2).date()
        page.get_by_label("Van", exact=True).fill(away_week.isoformat())
        page.get_by_label("Tot en met").fill((away_week + timedelta(days=6)).isoformat())
        page.get_by_role("button", name="Afwezigheid toevoegen").click()
        page.wait_for_url("**#away")
        assert page.get_by_test_id("away-list").locator("li").count() == 1

        body = requests.get(f"{system['base']}/v1/volunteers/{volunteer_id}", headers=system["headers"],
                            timeout=10).json()
        assert body["home"]["precision"] == "postcode4" and body["max_tasks_per_week"] == 3
        assert body["availability"][0] == {"day": "tue", "from": "08:00", "to": "12:00"}
        assert body["away"] == [{"from": away_week.isoformat(), "to": (away_week + timedelta(days=6)).isoformat()}]

        # A Tuesday in that week finds nobody (she is away); the Tuesday before, her.
        away_request = _request(system, _tuesday_in(2))
        assert _decided(system, away_request)["status"] == "unmatched"
        free_request = _request(system, _tuesday_in(1))
        proposed = _decided(system, free_request)
        assert proposed["status"] == "proposed" and proposed["assignment"]["volunteer_id"] == volunteer_id

        page.goto(f"{system['base']}/desk/volunteers")
        assert "Hiltsje Bouma" in page.get_by_test_id("desk-volunteers").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "desk-volunteers.png"), full_page=True)
    finally:
        context.close()


def test_a_volunteer_changes_when_they_can_from_their_link_on_a_phone(system, browser):
    r = requests.post(f"{system['base']}/v1/volunteers", headers=system["headers"], timeout=10, json={
        "name": "Sjoerd Wâldsma", "language": "fy", "phone": "0622222222", "home": {"lat": 53.095, "lon": 5.836},
        "skills": ["pets"], "availability": ALL_WEEK, "max_distance_km": 20, "max_tasks_per_week": 10})
    assert r.status_code == 201, r.text
    volunteer_id = r.json()["id"]
    request_id = _request(system, _tuesday_in(3) + timedelta(hours=4))
    assignment = _decided(system, request_id)["assignment"]
    assert assignment["volunteer_id"] == volunteer_id
    requests.post(f"{system['base']}/v1/assignments/{assignment['id']}/approve", headers=system["headers"],
                  timeout=10)
    link = sign_volunteer_link(system["secret"], assignment["id"], volunteer_id, datetime.now(UTC) + timedelta(days=3))

    context = browser.new_context(viewport=PHONE, locale="fy-NL")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{system['base']}/v/{link}")
        assert "De hûn hjit Bello" in page.get_by_test_id("task-notes").inner_text()
        assert "0566 62 12 34" in page.get_by_test_id("kamer-phone").inner_text()
        grid = page.get_by_test_id("own-grid")
        grid.get_by_label("moandei, Moarn").check()
        grid.get_by_label("woansdei, Jûn").check()
        for kept in page.locator("input[name=keep]").all():  # the registered 07:00-21:00: no longer
            kept.uncheck()
        page.screenshot(path=str(SCREENSHOTS / "desk-volunteer-own-page.png"), full_page=True)
        page.get_by_role("button", name="Bewarje").click()
        page.wait_for_url("**done=availability**")
        assert "Bewarre" in page.locator(".flash.ok").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # phone-sized
        body = requests.get(f"{system['base']}/v1/volunteers/{volunteer_id}", headers=system["headers"],
                            timeout=10).json()
        assert body["availability"] == [{"day": "mon", "from": "08:00", "to": "12:00"},
                                        {"day": "wed", "from": "17:00", "to": "21:00"}]
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["nl", "fy"])
def test_the_kamers_volunteer_form_fits_a_phone_and_meets_wcag_21_aa(system, browser, lang):
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _sign_in(page, system["base"], system["token"])
        listed = requests.get(f"{system['base']}/v1/volunteers", headers=system["headers"], timeout=10).json()
        paths = ["/desk/volunteers/new", "/desk/volunteers",
                 *(f"/desk/volunteers/{v['id']}" for v in listed["items"][:1])]
        for path in paths:
            page.goto(f"{system['base']}{path}?lang={lang}")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
            assert wcag_violations(page) == [], path
    finally:
        context.close()

"""A kamer's day at the desk, in a real browser (Debian's chromium) against `mienskip serve`
(real matching and notify): a staff member invited by their coordinator sets a password
and signs in, registers a volunteer with an away period, enters a phone request by
postcode + house number, sees it proposed and approves it, passes on the volunteer's
"yes" from a call, and finds the task on this week's list (and its CSV). Another kamer's
staff sees none of it, pages or API. Repeated wrong passwords lock the account. The
journey runs once in Dutch and once in Frisian (the person chooses ``fy`` on the
invitation's page; the choice sticks); the Dutch run takes the screenshots.

Each journey is timed and its clicks and keystrokes (fields filled) counted; the figures
are printed (run with ``-s``) for the issue's closing note.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from e2e_support import Processes, free_port, wait_for, wait_until_ready
from ui_support import SCREENSHOTS, VIEWPORT, chromium_or_skip

pytestmark = pytest.mark.slow

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
GROU = (53.0946, 5.8374)
BILGAARD = (53.2155, 5.7957)
PASSWORD = "Greidfûgels yn 'e maaie"
EMAIL = "sjoukje@grou.example.org"
# What the person reads on the pages, in each language the journey runs in.
WORDS = {
    "nl": {"new_password": "Nieuw wachtwoord", "repeat": "Herhaal het wachtwoord", "set": "Wachtwoord instellen",
           "email": "E-mailadres", "password": "Wachtwoord", "sign_in": "Aanmelden", "volunteers": "Vrijwilligers",
           "register_link": "Vrijwilliger inschrijven", "name": "Naam", "phone": "Telefoon", "postcode": "Postcode",
           "house_number": "Huisnummer", "shopping": "Boodschappen", "tuesday_morning": "dinsdag, Ochtend",
           "register": "Inschrijven", "from": "Van", "to_and_with": "Tot en met", "add_away": "Afwezigheid toevoegen",
           "our_requests": "Onze hulpvragen", "new_request": "Nieuwe hulpvraag", "look_up": "Adres opzoeken",
           "area": "postcodegebied 9001 (Grou)", "category": "Soort hulp", "date": "Datum", "to": "Tot",
           "save": "Hulpvraag opslaan", "approve": "Goedkeuren", "accepts": "Neemt de taak aan",
           "accepted_flash": "neemt de taak aan", "accepted": "geaccepteerd", "csv": "Downloaden (CSV)"},
    "fy": {"new_password": "Nij wachtwurd", "repeat": "Werhelje it wachtwurd", "set": "Wachtwurd ynstelle",
           "email": "E-mailadres", "password": "Wachtwurd", "sign_in": "Oanmelde", "volunteers": "Frijwilligers",
           "register_link": "Frijwilliger ynskriuwe", "name": "Namme", "phone": "Telefoan", "postcode": "Postkoade",
           "house_number": "Hûsnûmer", "shopping": "Boadskippen", "tuesday_morning": "tiisdei, Moarn",
           "register": "Ynskriuwe", "from": "Fan", "to_and_with": "Oant en mei", "add_away": "Ôfwêzigens tafoegje",
           "our_requests": "Us helpfragen", "new_request": "Nije helpfraach", "look_up": "Adres opsykje",
           "area": "postkoadegebiet 9001 (Grou)", "category": "Soarte help", "date": "Datum", "to": "Oant",
           "save": "Helpfraach bewarje", "approve": "Goedkarre", "accepts": "Nimt de taak oan",
           "accepted_flash": "nimt de taak oan", "accepted": "akseptearre", "csv": "Downloade (CSV)"},
}


class Journey:
    """Counts what a person does on a page (clicks and fields filled) and how long it takes."""

    def __init__(self, name: str, page):
        self.name, self.page, self.clicks, self.fields, self.started = name, page, 0, 0, time.monotonic()

    def click(self, locator):
        self.clicks += 1
        locator.click()

    def fill(self, locator, value: str):
        self.fields += 1
        locator.fill(value)

    def check(self, locator):
        self.clicks += 1
        locator.check()

    def select(self, locator, value: str):
        self.fields += 1
        locator.select_option(value)

    def done(self, figures: dict) -> None:
        figures[self.name] = (self.clicks, self.fields, round(time.monotonic() - self.started, 1))


@pytest.fixture(scope="module", params=["nl", "fy"])
def desk(request, tmp_path_factory):
    """A system of its own for each language's journey (the same person and data in each)."""
    chromium_or_skip()
    root = tmp_path_factory.mktemp(f"journey-{request.param}")
    (root / "logs").mkdir()
    processes = Processes({"MIENSKIP_DATA_DIR": str(root / "data"), "MIENSKIP_LOG_LEVEL": "INFO",
                           "MIENSKIP_RATE_LIMIT": "1000 per second"}, root / "logs")
    try:
        grou = processes.cli("kamer", "add", "--name", "Dorpskamer Grou", "--lat", str(GROU[0]), "--lon",
                             str(GROU[1]), "--json")
        bilgaard = processes.cli("kamer", "add", "--name", "Buurtkamer Bilgaard", "--lat", str(BILGAARD[0]),
                                 "--lon", str(BILGAARD[1]), "--json")
        invited = processes.cli("user", "invite", "--email", EMAIL, "--kamer", grou["id"], "--role", "staff",
                                "--json")
        port = free_port()
        processes.start("serve", "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, processes)
        yield {"base": base, "grou": grou, "bilgaard": bilgaard, "processes": processes, "figures": {},
               "lang": request.param,
               "invite_path": re.search(r"/account/password/[A-Za-z0-9_-]+", invited["invite_url"]).group(0)}
    finally:
        processes.stop_all()


def _tuesday_next_week() -> datetime:
    today = datetime.now(AMSTERDAM)
    days = (1 - today.weekday()) % 7 + 7
    return (today + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)


def test_a_day_at_the_desk(desk, new_page, capsys):
    base, figures, lang = desk["base"], desk["figures"], desk["lang"]
    w, screenshots = WORDS[lang], lang == "nl"
    page = new_page(viewport=VIEWPORT)

    # 1. Invited: set a password, sign in.
    first = Journey("first sign-in (invitation to desk)", page)
    page.goto(base + desk["invite_path"] + f"?lang={lang}")
    first.fill(page.get_by_label(w["new_password"]), PASSWORD)
    first.fill(page.get_by_label(w["repeat"]), PASSWORD)
    first.click(page.get_by_role("button", name=w["set"]))
    page.wait_for_url(f"{base}/login")
    first.fill(page.get_by_label(w["email"]), EMAIL)
    if screenshots:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "sign-in.png"))
    first.fill(page.get_by_label(w["password"]), PASSWORD)
    first.click(page.get_by_role("button", name=w["sign_in"]))
    page.wait_for_url(re.compile(r".*/review/$"))
    assert "Dorpskamer Grou" in page.locator("header .who").inner_text()
    first.done(figures)

    # 2. Register a volunteer, with an away period.
    tuesday = _tuesday_next_week()
    register = Journey("register a volunteer with an away period", page)
    register.click(page.get_by_role("link", name=w["volunteers"], exact=True))
    register.click(page.get_by_role("link", name=w["register_link"]))
    register.fill(page.get_by_label(w["name"], exact=True), "Hiltsje Bouma")
    register.fill(page.get_by_label(w["phone"], exact=True), "06 12345678")
    register.fill(page.get_by_label(w["postcode"], exact=True), "9001 AB")
    register.fill(page.get_by_label(w["house_number"]), "5")
    register.check(page.get_by_label(w["shopping"]))
    register.check(page.get_by_label(w["tuesday_morning"]))
    register.click(page.get_by_role("button", name=w["register"]))
    page.wait_for_url(re.compile(r".*/desk/volunteers/[0-9a-f-]+$"))
    volunteer_id = page.url.rsplit("/", 1)[-1]
    away = (tuesday + timedelta(days=14)).date()
    register.fill(page.get_by_label(w["from"], exact=True), away.isoformat())
    register.fill(page.get_by_label(w["to_and_with"]), (away + timedelta(days=6)).isoformat())
    register.click(page.get_by_role("button", name=w["add_away"]))
    page.wait_for_url("**#away")
    assert page.get_by_test_id("away-list").locator("li").count() == 1
    register.done(figures)

    # 3. A resident phones: a request by postcode and house number.
    phone = Journey("a phone request by postcode", page)
    phone.click(page.get_by_role("link", name=w["our_requests"]))
    phone.click(page.get_by_role("link", name=w["new_request"]))
    phone.fill(page.get_by_label(w["name"], exact=True), "Durk Postma")
    phone.fill(page.get_by_label(w["phone"], exact=True), "058 123 4567")
    phone.fill(page.get_by_label(w["postcode"], exact=True), "9001 AB")
    phone.fill(page.get_by_label(w["house_number"]), "3")
    phone.click(page.get_by_role("button", name=w["look_up"]))
    assert w["area"] in page.get_by_test_id("address-found").inner_text()
    phone.select(page.get_by_label(w["category"]), "shopping")
    phone.fill(page.get_by_label(w["date"]), tuesday.date().isoformat())
    phone.fill(page.get_by_label(w["from"], exact=True), "10:00")
    phone.fill(page.get_by_label(w["to"], exact=True), "11:00")
    phone.click(page.get_by_role("button", name=w["save"]))
    page.wait_for_url(re.compile(r".*/review/requests/[0-9a-f-]+$"))
    request_id = page.url.rsplit("/", 1)[-1]
    phone.done(figures)

    # 4. Matching proposes Hiltsje; the kamer approves; she phones to say yes.
    def proposed():
        page.reload()
        return page.get_by_role("button", name=w["approve"]).count() == 1
    wait_for(proposed, timeout=60, interval=1, what="the proposal on the request's page")
    answer = Journey("approve, and pass on a volunteer's yes", page)
    answer.click(page.get_by_role("button", name=w["approve"]))
    answer.click(page.get_by_role("button", name=w["accepts"]))
    assert w["accepted_flash"] in page.locator(".flash.ok").inner_text()
    answer.done(figures)

    # 5. This week's list (the week of the task), printable and as CSV.
    week = Journey("this week's tasks, and the CSV", page)
    page.goto(f"{base}/desk/week?week={tuesday.date().isoformat()}")
    task = page.get_by_test_id("desk-week").locator(f'li:has(a[href$="{request_id}"])')
    assert "Hiltsje Bouma" in task.inner_text() and w["accepted"] in task.inner_text().lower()
    with page.expect_download() as download:
        week.click(page.get_by_role("link", name=w["csv"]))
    assert "Hiltsje Bouma" in download.value.path().read_text(encoding="utf-8-sig")
    week.done(figures)
    if screenshots:
        page.screenshot(path=str(SCREENSHOTS / "desk-week.png"), full_page=True)
    page.goto(f"{base}/desk")
    assert request_id in page.get_by_test_id("desk-requests").inner_html()
    if screenshots:
        page.screenshot(path=str(SCREENSHOTS / "desk-requests.png"))

    # 6. Another kamer's staff sees none of it.
    other = new_page(viewport=VIEWPORT)
    other.goto(f"{base}/review/login?lang={lang}")
    other.get_by_label("Token").fill(desk["bilgaard"]["token"])
    other.get_by_role("button", name=w["sign_in"]).click()
    other.wait_for_url(re.compile(r".*/review/$"))
    assert other.goto(f"{base}/review/requests/{request_id}").status == 404
    assert other.goto(f"{base}/desk/volunteers/{volunteer_id}").status == 404
    other.goto(f"{base}/desk")
    assert request_id not in other.content() and "Durk" not in other.content()
    other.goto(f"{base}/desk/week?week={tuesday.date().isoformat()}")
    assert "Hiltsje" not in other.content()
    headers = {"Authorization": f"Bearer {desk['bilgaard']['token']}"}
    assert requests.get(f"{base}/v1/requests/{request_id}", headers=headers, timeout=10).status_code == 404
    assert requests.get(f"{base}/v1/volunteers/{volunteer_id}", headers=headers, timeout=10).status_code == 404
    assert request_id not in requests.get(f"{base}/v1/requests", headers=headers, timeout=10).text

    # 7. Wrong passwords lock the account; then even the right one is refused, with the same words.
    stranger = new_page(viewport=VIEWPORT)
    stranger.goto(f"{base}/login?lang={lang}")
    for _ in range(5):
        stranger.get_by_label(w["email"]).fill(EMAIL)
        stranger.get_by_label(w["password"]).fill("raden-raden-raden")
        stranger.get_by_role("button", name=w["sign_in"]).click()
        refused = stranger.locator("[role=alert], .flash.error, .error").first.inner_text()
    stranger.get_by_label(w["email"]).fill(EMAIL)
    stranger.get_by_label(w["password"]).fill(PASSWORD)
    stranger.get_by_role("button", name=w["sign_in"]).click()
    assert stranger.url.startswith(f"{base}/login")
    assert stranger.locator("[role=alert], .flash.error, .error").first.inner_text() == refused

    with capsys.disabled():
        print(f"\nJourneys at the desk in {lang} (clicks, fields filled, seconds in the browser):")
        for name, (clicks, fields, seconds) in figures.items():
            print(f"  {name:<42} {clicks:>3} clicks {fields:>3} fields {seconds:>6.1f} s")

"""The review pages in a real browser (Debian's chromium, headless) against real processes:
`mienskip serve` with kamers and tokens from the CLI, volunteers and requests over HTTP,
matching and notify doing their work. Also `mienskip demo` as a newcomer meets it.

Screenshots of the main pages go to docs/screenshots/ (shown in the README)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
import requests
from e2e_support import Processes, free_port, wait_for, wait_until_ready
from ui_support import SCREENSHOTS, chromium_or_skip

from mienskip_shared.links import sign_volunteer_link

pytestmark = pytest.mark.slow

BILGAARD = (53.2155, 5.7957)
MANTGUM = (53.1287, 5.7192)
VIEWPORT = {"width": 1280, "height": 900}
ALL_WEEK = [{"day": d, "from": "07:00", "to": "21:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]


class System:
    """One `mienskip serve` with two kamers, a coordinator and a few volunteers."""

    def __init__(self, processes: Processes, data_dir: Path):
        self.processes, self.data_dir = processes, data_dir
        self.kamer_a = processes.cli("kamer", "add", "--name", "Buurtkamer Bilgaard", "--lat", str(BILGAARD[0]),
                                     "--lon", str(BILGAARD[1]), "--json")
        self.kamer_b = processes.cli("kamer", "add", "--name", "Dorpskamer De Wjukken", "--lat", str(MANTGUM[0]),
                                     "--lon", str(MANTGUM[1]), "--json")
        self.coordinator = processes.cli("token", "add", "--role", "coordinator", "--json")["token"]
        port = free_port()
        processes.start("serve", "serve", "--port", str(port))
        self.base = f"http://127.0.0.1:{port}"
        wait_until_ready(self.base, processes)
        self._slots = itertools.count()
        self.anna = self.volunteer(self.kamer_a, "Anna de Vries", 53.2170, 5.7990)
        self.baukje = self.volunteer(self.kamer_a, "Baukje Bouma", 53.2100, 5.8080)
        self.durk = self.volunteer(self.kamer_b, "Durk Postma", 53.1300, 5.7220)

    def headers(self, token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}

    def volunteer(self, kamer: dict, name: str, lat: float, lon: float) -> str:
        r = requests.post(f"{self.base}/v1/volunteers", headers=self.headers(kamer["token"]), timeout=10, json={
            "name": name, "language": "nl", "phone": "+31612345678", "home": {"lat": lat, "lon": lon},
            "skills": ["pets", "shopping", "buddy"], "availability": ALL_WEEK, "max_tasks_per_week": 30,
            "max_distance_km": 20})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def submit(self, kamer: dict, *, category: str = "shopping", start: datetime | None = None,
               name: str = "Jan Hoekstra", at: tuple[float, float] = BILGAARD) -> str:
        """A request at its own hour, so no volunteer ever has two at once."""
        if start is None:
            n = next(self._slots)
            start = (datetime.now(UTC) + timedelta(days=3 + n // 6)).replace(hour=8 + n % 6, minute=0, second=0,
                                                                              microsecond=0)
        r = requests.post(f"{self.base}/v1/requests", headers=self.headers(kamer["token"]), timeout=10, json={
            "resident": {"name": name, "phone": "+31587123456", "address": "De Hooidollen 17, 8918 HV Leeuwarden"},
            "location": {"lat": at[0], "lon": at[1]}, "category": category,
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}})
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def request(self, request_id: str) -> dict:
        return requests.get(f"{self.base}/v1/requests/{request_id}", headers=self.headers(self.coordinator),
                            timeout=10).json()

    def wait_status(self, request_id: str, *statuses: str, what: str = "") -> dict:
        def reached():
            body = self.request(request_id)
            return body if body["status"] in statuses else None
        try:
            return wait_for(reached, timeout=60, what=what or f"request {request_id} to be {statuses}")
        except BaseException:
            print(self.processes.logs())
            raise

    def wait_proposed(self, request_id: str) -> dict:
        return self.wait_status(request_id, "proposed")["assignment"]

    def approve_by_api(self, assignment_id: str) -> None:
        r = requests.post(f"{self.base}/v1/assignments/{assignment_id}/approve", json={},
                          headers=self.headers(self.coordinator), timeout=10)
        assert r.status_code == 200, r.text

    def volunteer_link(self, assignment: dict) -> str:
        secret = (self.data_dir / "secret_key").read_text().strip()
        token = sign_volunteer_link(secret, assignment["id"], assignment["volunteer_id"],
                                    datetime.now(UTC) + timedelta(days=3))
        return f"{self.base}/v/{token}"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    chromium_or_skip()  # before starting anything
    root = tmp_path_factory.mktemp("ui")
    (root / "logs").mkdir()
    processes = Processes({"MIENSKIP_DATA_DIR": str(root / "data"), "MIENSKIP_LOG_LEVEL": "INFO",
                           "MIENSKIP_RATE_LIMIT": "1000 per second"}, root / "logs")
    try:
        yield System(processes, root / "data")
    finally:
        processes.stop_all()


def sign_in(page, base: str, token: str) -> None:
    page.goto(f"{base}/review/login")  # the token sign-in (the demo's); people sign in at /login
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{base}/review/")


def card(page, request_id: str):
    return page.locator(f'article.proposal[data-request-id="{request_id}"]')


def reload_until(page, condition, what: str, timeout: float = 60):
    """The proposals page does not refresh itself: reload until ``condition()`` holds."""
    def check():
        page.reload()
        return condition()
    return wait_for(check, timeout=timeout, interval=0.5, what=what)


def shoot(page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


# -- the workflow in the browser ------------------------------------------------------------------

def test_sign_in_and_approve_a_proposal(system, new_page):
    request_id = system.submit(system.kamer_a)
    assignment = system.wait_proposed(request_id)
    page = new_page()
    sign_in(page, system.base, system.coordinator)
    proposal = card(page, request_id)
    proposal.get_by_role("button", name="Goedkeuren").click()
    page.wait_for_url(f"{system.base}/review/**")
    assert "goedgekeurd" in page.locator(".flash.ok").inner_text()
    assert system.request(request_id)["status"] == "approved"
    assert card(page, request_id).count() == 0
    assert assignment["volunteer_id"] in (system.anna, system.baukje)


def test_reject_one_and_see_the_rematch_appear(system, new_page):
    request_id = system.submit(system.kamer_a, category="pets")
    first = system.wait_proposed(request_id)["volunteer_id"]
    page = new_page()
    sign_in(page, system.base, system.coordinator)
    proposal = card(page, request_id)
    proposal.locator("summary", has_text="Afwijzen").click()
    proposal.get_by_label("Reden").fill("kent de bewoner niet")
    proposal.get_by_role("button", name="Afwijzen", exact=True).click()
    assert "afgewezen" in page.locator(".flash.ok").inner_text()
    other = {system.anna, system.baukje} - {first}
    reload_until(page, lambda: card(page, request_id).count() == 1 and card(page, request_id).locator(
        ".volunteer").get_attribute("data-volunteer-id") in other, what="the re-match without the rejected one")
    history = [h["status"] for h in system.request(request_id)["history"] if h["status"]]
    assert "rejected" in history and history[-1] == "proposed"


def test_reassign_to_the_runner_up(system, new_page):
    request_id = system.submit(system.kamer_a, category="buddy")
    first = system.wait_proposed(request_id)
    runner_up = first["explanation"]["runner_up"]
    assert runner_up and runner_up["rule"] is None, first["explanation"]
    page = new_page()
    sign_in(page, system.base, system.coordinator)
    card(page, request_id).locator('button[data-action="reassign"]').click()
    assert "Andere vrijwilliger gevraagd" in page.locator(".flash.ok").inner_text()
    reload_until(page, lambda: card(page, request_id).count() == 1 and card(page, request_id).locator(
        ".volunteer").get_attribute("data-volunteer-id") == runner_up["volunteer_id"],
        what="the proposal for the runner-up")


def test_bulk_approve(system, new_page):
    ids = [system.submit(system.kamer_a) for _ in range(2)]
    for request_id in ids:
        system.wait_proposed(request_id)
    page = new_page()
    sign_in(page, system.base, system.coordinator)
    for request_id in ids:
        card(page, request_id).get_by_role("checkbox").check()
    page.get_by_role("button", name="Selectie goedkeuren").click()
    assert "2 goedgekeurd" in page.locator(".flash").inner_text()
    assert [system.request(i)["status"] for i in ids] == ["approved", "approved"]


def test_a_kamer_sees_only_its_own_proposals(system, new_page):
    theirs = system.submit(system.kamer_a)
    mine = system.submit(system.kamer_b, at=MANTGUM, name="Sjoukje Dijkstra")
    system.wait_proposed(theirs)
    system.wait_proposed(mine)
    page = new_page()
    sign_in(page, system.base, system.kamer_b["token"])
    assert card(page, mine).count() == 1 and card(page, theirs).count() == 0
    assert "Buurtkamer Bilgaard" not in page.content()
    response = page.goto(f"{system.base}/review/requests/{theirs}")
    assert response.status == 404 and page.get_by_role("heading", name="Niet gevonden").is_visible()
    page.goto(f"{system.base}/review/map")
    assert theirs not in page.content() and mine in page.content()


def test_keyboard_only_approve(system, new_page):
    request_id = system.submit(system.kamer_a)
    system.wait_proposed(request_id)
    page = new_page()
    page.goto(f"{system.base}/review/login")
    page.keyboard.press("Tab")  # the skip link comes first
    focused = ""
    for _ in range(20):  # to the token field, type, Enter
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        if focused == "token":
            break
    assert focused == "token"
    page.keyboard.type(system.coordinator)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{system.base}/review/")
    target = f"{request_id}:approve"
    for _ in range(400):
        page.keyboard.press("Tab")
        here = page.evaluate("(e => (e.closest('article') || {dataset: {}}).dataset.requestId + ':' "
                             "+ e.dataset.action)(document.activeElement)")
        if here == target:
            break
    assert here == target, "Tab never reached the approve button"
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    system.wait_status(request_id, "approved")


def test_needs_attention_and_the_volunteers_link_page(system, new_page):
    tomorrow_noon = (datetime.now(UTC) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    late = system.submit(system.kamer_a, start=tomorrow_noon, name="Tjitske Visser")  # 12 to 36 hours away
    lonely = system.submit(system.kamer_a, category="paperwork", name="Gerrit Kingma")
    assignment = system.wait_proposed(late)
    system.wait_status(lonely, "unmatched")
    system.approve_by_api(assignment["id"])

    volunteer = new_page()
    volunteer.goto(system.volunteer_link(assignment))
    assert volunteer.get_by_role("heading", name="Wilt u helpen?").is_visible()
    assert "Tjitske" in volunteer.content() and "Visser" not in volunteer.content()
    assert "De Hooidollen" not in volunteer.content()  # the address only after accepting
    shoot(volunteer, "volunteer-link.png")
    volunteer.locator("summary", has_text="Nee, nu niet").click()
    volunteer.get_by_role("button", name="Afzeggen").click()
    assert "De kamer zoekt iemand anders" in volunteer.locator(".flash").inner_text()
    system.wait_status(late, "declined")  # within 48 hours: urgent, the coordinator decides (below)

    page = new_page()
    sign_in(page, system.base, system.coordinator)
    page.get_by_role("link", name="Aandacht nodig").click()
    urgent = page.locator(f'.issue.is-urgent[data-request-id="{late}"]')
    assert "kies nu zelf een andere vrijwilliger" in urgent.inner_text()
    unmatched = page.locator(f'.issue[data-request-id="{lonely}"]')
    assert "Waarom geen match: geen vrijwilliger heeft de vaardigheid" in unmatched.inner_text()  # codes, worded
    shoot(page, "attention.png", full_page=True)
    urgent.get_by_role("link", name="Vrijwilliger kiezen").click()
    page.get_by_role("button", name="Deze vrijwilliger vragen").click()
    system.wait_status(late, "proposed", what="a new proposal after the coordinator chose")


# -- the newcomer's path: `make demo`, open the address, sign in, approve ---------------------------

def test_the_demo_as_a_newcomer_meets_it(tmp_path, new_page):
    (tmp_path / "logs").mkdir()
    data_dir = tmp_path / "demo"
    processes = Processes({"MIENSKIP_LOG_LEVEL": "INFO"}, tmp_path / "logs")
    port = free_port()
    try:
        processes.start("demo", "demo", "--port", str(port), "--data-dir", str(data_dir))
        log = tmp_path / "logs" / "demo.log"
        banner = wait_for(lambda: "curl -H" in log.read_text() and log.read_text(), timeout=90,
                          what="the demo's banner")
        address = re.search(r"(?:Review|API):\s+(http://\S+?)(?:/v1|/review/?)?\s", banner).group(1)
        coordinator = re.search(r"coordinator \(leeuwarden\)\s+(msk_\S+)", banner).group(1)  # the token, not the e-mail
        wait_until_ready(address, processes)
        api = {"Authorization": f"Bearer {coordinator}"}

        def proposals():
            return requests.get(f"{address}/v1/assignments?status=proposed", headers=api, timeout=10).json()["items"]
        wait_for(lambda: len(proposals()) >= 8, timeout=90, what="the demo's proposals")

        page = new_page()
        sign_in(page, address, coordinator)
        shoot(page, "proposals.png")
        first = page.locator("article.proposal").first
        request_id = first.get_attribute("data-request-id")
        first.get_by_role("button", name="Goedkeuren").click()
        assert "goedgekeurd" in page.locator(".flash.ok").inner_text()
        approved = requests.get(f"{address}/v1/requests/{request_id}", headers=api, timeout=10).json()
        assert approved["status"] == "approved"

        page.get_by_role("link", name="Kaart").click()
        page.wait_for_url("**/review/map**")  # the click starts the navigation; count() would not wait for it
        assert page.locator("svg.region-map circle.req").count() >= 8
        shoot(page, "map.png")
        page.get_by_role("link", name="Overzicht").click()
        page.wait_for_url("**/review/dashboard**")
        shoot(page, "dashboard.png")
        page.goto(f"{address}/review/")
        page.locator("article.proposal h2 a").first.click()
        page.wait_for_url("**/review/requests/**")
        assert page.get_by_role("heading", name="Geschiedenis").is_visible()
        shoot(page, "request-detail.png", full_page=True)
        page.goto(f"{address}/review/?lang=en")
        assert page.get_by_role("heading", name="Proposals").is_visible()

        tablet = new_page(viewport={"width": 1024, "height": 768})
        sign_in(tablet, address, coordinator)
        shoot(tablet, "proposals-tablet.png")
    except BaseException:
        print(processes.logs())
        raise
    finally:
        processes.stop_all()


# -- a person's own account: invited, sets a password, signs in and out ---------------------------------

def invitation_link(system: System, email: str) -> str:
    """The link in the invitation notify put in the mailbox, pointing at this server."""
    def arrived():
        for path in (system.data_dir / "mailbox" / "accounts").glob("*.eml"):
            message = message_from_bytes(path.read_bytes(), policy=default)
            if message["To"] == email:
                return message.get_body(("plain",)).get_content()
        return None
    text = wait_for(arrived, timeout=60, what=f"the invitation e-mail to {email}")
    link = re.search(r"https?://\S+?(/account/password/[A-Za-z0-9_-]+)", text).group(1)
    return system.base + link


def test_an_invited_person_sets_a_password_signs_in_and_out_and_a_copy_stays_out(system, new_page):
    coordinator = new_page()
    sign_in(coordinator, system.base, system.coordinator)
    coordinator.get_by_role("link", name="Uitnodigen").click()
    coordinator.get_by_label("E-mailadres").fill("hiltsje@example.org")
    coordinator.get_by_label("Kamer").select_option(label="Buurtkamer Bilgaard")
    coordinator.get_by_label("Taal van de uitnodiging").select_option("fy")
    coordinator.get_by_role("button", name="Uitnodigen").click()
    assert "verstuurd" in coordinator.locator(".flash.ok").inner_text()

    page = new_page()
    page.goto(invitation_link(system, "hiltsje@example.org"))
    page.get_by_label("Nieuw wachtwoord").fill("Wachtwoord1234")  # long enough for the browser, too common for us
    page.get_by_label("Herhaal het wachtwoord").fill("Wachtwoord1234")
    page.get_by_role("button", name="Wachtwoord instellen").click()
    assert "veel gebruikt" in page.locator("#password-problems").inner_text()
    page.get_by_label("Nieuw wachtwoord").fill("Greidfûgels yn 'e maaie")
    page.get_by_label("Herhaal het wachtwoord").fill("Greidfûgels yn 'e maaie")
    page.get_by_role("button", name="Wachtwoord instellen").click()
    page.wait_for_url(f"{system.base}/login")
    page.get_by_label("E-mailadres").fill("hiltsje@example.org")
    page.get_by_label("Wachtwoord").fill("Greidfûgels yn 'e maaie")
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{system.base}/review/")
    assert "Buurtkamer Bilgaard" in page.locator("header .who").inner_text()
    copied = page.context.cookies()

    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(f"{system.base}/login")
    page.go_back()  # the page before sign-out is not shown from a cache: the server says sign in
    page.wait_for_url(re.compile(r".*/login.*"))
    assert page.get_by_label("Wachtwoord").is_visible()

    thief = new_page()
    thief.context.add_cookies(copied)  # the cookie as it was before sign-out
    thief.goto(f"{system.base}/review/")
    assert re.search(r"/login\?next=", thief.url)
    assert thief.get_by_label("Wachtwoord").is_visible()

"""Staff of several kamers and the people page, in a real browser (Debian's chromium,
headless) against `mienskip serve`, in Dutch: a kamer lead of two kamers opens a request
of the other kamer from a link and finds the pages switched to it, then chooses the
first kamer again in the header; the coordinator deactivates a staff member on the
people page, whose open page then sends her to sign in, and reactivates her; the
pages pass axe-core (WCAG 2.1 AA).

Screenshots: docs/screenshots/account-sessions.png and account-invite.png (the
coordinator's sessions and invitation pages)."""

from __future__ import annotations

import re

import pytest
import requests
from e2e_support import Processes, free_port, wait_until_ready
from ui_support import PHONE, SCREENSHOTS, VIEWPORT, chromium_or_skip, request_body, wcag_violations

pytestmark = pytest.mark.slow

PASSWORD = "Greidfûgels yn 'e maaie"
LEAD = "lead@grou.example.org"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    chromium_or_skip()
    root = tmp_path_factory.mktemp("people")
    (root / "logs").mkdir()
    processes = Processes({"MIENSKIP_DATA_DIR": str(root / "data"), "MIENSKIP_LOG_LEVEL": "INFO",
                           "MIENSKIP_RATE_LIMIT": "1000 per second"}, root / "logs")
    try:
        grou = processes.cli("kamer", "add", "--name", "Dorpskamer Grou", "--lat", "53.0946", "--lon", "5.8374",
                             "--json")
        bilgaard = processes.cli("kamer", "add", "--name", "Buurtkamer Bilgaard", "--lat", "53.2155", "--lon",
                                 "5.7957", "--json")
        invites = {email: processes.cli("user", "invite", "--email", email, *args, "--json") for email, args in (
            (LEAD, ("--kamer", grou["id"], "--kamer", bilgaard["id"], "--role", "staff", "--lead")),
            ("sjoukje@grou.example.org", ("--kamer", grou["id"], "--role", "staff")),
            ("coordinator@example.org", ("--region", "leeuwarden", "--role", "coordinator")))}
        port = free_port()
        processes.start("serve", "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, processes)
        yield {"base": base, "grou": grou, "bilgaard": bilgaard, "invites": invites}
    finally:
        processes.stop_all()


def signed_in(system, new_page, email: str):
    """The person's password set from their invitation, and signed in: their page."""
    page = new_page(viewport=VIEWPORT)
    base = system["base"]
    page.goto(base + re.search(r"/account/password/[A-Za-z0-9_-]+", system["invites"][email]["invite_url"]).group(0))
    page.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
    page.get_by_label("Herhaal het wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Wachtwoord instellen").click()
    page.wait_for_url(f"{base}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(re.compile(r".*/review/$"))
    return page


def test_a_lead_of_two_kamers_is_switched_by_a_link_and_chooses_in_the_header(system, new_page):
    base = system["base"]
    headers = {"Authorization": f"Bearer {system['bilgaard']['token']}"}
    answer = requests.post(f"{base}/v1/requests", json=request_body(), headers=headers, timeout=10)
    assert answer.status_code == 202, answer.text
    request_id = answer.json()["id"]
    page = signed_in(system, new_page, LEAD)
    chooser = page.get_by_label("Kamer", exact=True)
    assert chooser.locator("option:checked").inner_text() == "Dorpskamer Grou"
    assert wcag_violations(page) == []

    page.goto(f"{base}/review/requests/{request_id}")  # as from a kamer e-mail of Bilgaard
    assert page.url == f"{base}/review/requests/{request_id}"
    assert "u werkt nu voor Buurtkamer Bilgaard" in page.locator(".flash.ok").inner_text()
    assert chooser.locator("option:checked").inner_text() == "Buurtkamer Bilgaard"
    assert "Buurtkamer Bilgaard" in page.locator("header .who").inner_text()

    page.get_by_role("link", name="Deze week").click()
    page.wait_for_url("**/desk/week")
    chooser.select_option(label="Dorpskamer Grou")
    page.get_by_role("button", name="Wissel").click()
    page.wait_for_url("**/desk/week")  # the same page, now for Grou
    assert "U werkt nu voor Dorpskamer Grou." in page.locator(".flash.ok").inner_text()
    assert "Dorpskamer Grou" in page.locator("header .who").inner_text()
    page.goto(f"{base}/desk")
    assert request_id not in page.content()
    page.set_viewport_size(PHONE)  # on a phone the chooser fits the header: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    assert chooser.is_visible() and page.get_by_role("button", name="Afmelden").is_visible()
    assert wcag_violations(page) == []


def test_a_coordinator_deactivates_and_reactivates_a_staff_member(system, new_page):
    base = system["base"]
    staff = signed_in(system, new_page, "sjoukje@grou.example.org")
    boss = signed_in(system, new_page, "coordinator@example.org")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    boss.get_by_role("link", name="Mijn sessies").click()
    boss.wait_for_url("**/account/sessions")
    assert "deze browser" in boss.locator("main").inner_text()
    assert wcag_violations(boss) == []
    boss.screenshot(path=str(SCREENSHOTS / "account-sessions.png"))
    boss.get_by_role("link", name="Uitnodigen").click()
    boss.wait_for_url("**/account/invite")
    boss.get_by_label("E-mailadres").fill("baukje@grou.example.org")
    assert wcag_violations(boss) == []
    boss.screenshot(path=str(SCREENSHOTS / "account-invite.png"))
    boss.get_by_role("link", name="Mensen").click()
    boss.wait_for_url("**/account/people")
    row = boss.locator('tr[data-email="sjoukje@grou.example.org"]')
    assert "Dorpskamer Grou" in row.inner_text() and "ja" in row.inner_text()
    assert boss.locator('tr[data-email="coordinator@example.org"]').get_by_role("button").count() == 0
    assert wcag_violations(boss) == []

    row.get_by_role("button", name="sjoukje@grou.example.org deactiveren").click()
    boss.wait_for_url("**/account/people")
    assert "is gedeactiveerd en overal afgemeld" in boss.locator(".flash.ok").inner_text()
    assert "nee" in row.inner_text()
    staff.get_by_role("link", name="Onze hulpvragen").click()  # her open page: signed out at once
    staff.wait_for_url(re.compile(r".*/login\?next=.*"))

    row.get_by_role("button", name="sjoukje@grou.example.org heractiveren").click()
    boss.wait_for_url("**/account/people")
    assert "kan zich weer aanmelden" in boss.locator(".flash.ok").inner_text()
    staff.get_by_label("E-mailadres").fill("sjoukje@grou.example.org")
    staff.get_by_label("Wachtwoord").fill(PASSWORD)
    staff.get_by_role("button", name="Aanmelden").click()
    staff.wait_for_url(f"{base}/desk")

"""Referrals in a real browser (Debian's chromium, headless) against `mienskip serve`
(issue 13): a coordinator registers a care provider, refers a request matching left
unmatched, the provider accepts on its link page /p/<token> on a phone, and the
coordinator sees it accepted. The link is signed here with the shared signer, as notify
would sign it.

Screenshots: docs/screenshots/provider-referral.png (the provider's page) and
review-providers.png (the coordinator's provider list)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from e2e_support import Processes, free_port, wait_for, wait_until_ready
from ui_support import PHONE, SCREENSHOTS, VIEWPORT, chromium_or_skip, wcag_violations

from mienskip_shared.links import sign_referral_link

pytestmark = pytest.mark.slow

SECRET = "e2e-secret-for-referral-links"
BILGAARD = (53.2155, 5.7957)


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    chromium_or_skip()
    root = tmp_path_factory.mktemp("referrals")
    (root / "logs").mkdir()
    processes = Processes({"MIENSKIP_DATA_DIR": str(root / "data"), "MIENSKIP_LOG_LEVEL": "INFO",
                           "MIENSKIP_RATE_LIMIT": "1000 per second", "MIENSKIP_SECRET_KEY": SECRET}, root / "logs")
    try:
        kamer = processes.cli("kamer", "add", "--name", "Buurtkamer Bilgaard", "--lat", str(BILGAARD[0]),
                              "--lon", str(BILGAARD[1]), "--phone", "058 215 0000", "--json")
        coordinator = processes.cli("token", "add", "--role", "coordinator", "--json")["token"]
        port = free_port()
        processes.start("serve", "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, processes)
        yield {"base": base, "kamer": {"Authorization": f"Bearer {kamer['token']}"}, "coordinator": coordinator,
               "coordinator_headers": {"Authorization": f"Bearer {coordinator}"}, "processes": processes}
    finally:
        processes.stop_all()


def _unmatched_request(system) -> str:
    """A garden job no volunteer takes: matching leaves it unmatched."""
    start = (datetime.now(UTC) + timedelta(days=4)).replace(hour=9, minute=0, second=0, microsecond=0)
    r = requests.post(f"{system['base']}/v1/requests", headers=system["kamer"], timeout=10, json={
        "resident": {"name": "Tryntsje Visser", "phone": "+31587123456",
                     "address": "De Hooidollen 17, 8918 HV Leeuwarden"},
        "location": {"lat": 53.217, "lon": 5.799}, "category": "garden",
        "window": {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}})
    assert r.status_code == 202, r.text
    request_id = r.json()["id"]

    def unmatched():
        body = requests.get(f"{system['base']}/v1/requests/{request_id}", headers=system["kamer"], timeout=10).json()
        return body["status"] == "unmatched"

    try:
        wait_for(unmatched, timeout=60, what=f"request {request_id} unmatched")
    except BaseException:
        print(system["processes"].logs())
        raise
    return request_id


def test_a_coordinator_refers_an_unmatched_request_and_the_provider_accepts_on_its_page(system, new_page):
    base = system["base"]
    request_id = _unmatched_request(system)
    desk = new_page(viewport=VIEWPORT)
    desk.goto(f"{base}/review/login?lang=nl")
    desk.get_by_label("Token").fill(system["coordinator"])
    desk.get_by_role("button", name="Aanmelden").click()
    desk.wait_for_url(f"{base}/review/**")

    # Register a provider on the page.
    desk.goto(f"{base}/review/providers")
    desk.get_by_role("link", name="Zorgaanbieder toevoegen").click()
    desk.get_by_label("Naam", exact=True).fill("Sociaal Wijkteam Leeuwarden-Oost")
    desk.get_by_label("Soort", exact=True).select_option("wijkteam")
    desk.get_by_label("E-mail").fill("wijkteam-oost@example.org")
    desk.get_by_label("Telefoon").fill("058 233 4400")
    for category in ("Tuin", "Maatje"):
        desk.get_by_label(category, exact=True).check()
    assert wcag_violations(desk) == []
    desk.get_by_role("button", name="Opslaan").click()
    desk.wait_for_url(f"{base}/review/providers")
    assert "Sociaal Wijkteam Leeuwarden-Oost" in desk.get_by_test_id("providers").inner_text()

    # Refer the unmatched request from its page.
    desk.goto(f"{base}/review/requests/{request_id}")
    part = desk.get_by_test_id("referral-part")
    part.get_by_label("Doorverwijzen naar").select_option(label="Sociaal Wijkteam Leeuwarden-Oost · sociaal wijkteam")
    part.get_by_label("Bericht voor de zorgaanbieder").fill("Mevrouw is slecht ter been; graag eerst bellen.")
    part.get_by_role("button", name="Doorverwijzen").click()
    desk.wait_for_url(f"**/review/requests/{request_id}")
    assert "Sociaal Wijkteam Leeuwarden-Oost" in desk.get_by_test_id("referral-provider").inner_text()
    shown = requests.get(f"{base}/v1/requests/{request_id}", headers=system["coordinator_headers"], timeout=10).json()
    referral = shown["referral"]
    assert referral["status"] == "sent"

    # The provider's page on a phone, through the link notify would send.
    token = sign_referral_link(SECRET, referral["id"], referral["provider_id"], datetime.now(UTC) + timedelta(days=14))
    phone = new_page(viewport=PHONE)
    phone.goto(f"{base}/p/{token}")
    assert phone.get_by_test_id("referral-note").inner_text() == "Mevrouw is slecht ter been; graag eerst bellen."
    assert "Tryntsje" in phone.get_by_test_id("referral").inner_text()
    assert phone.get_by_test_id("address").count() == 0  # only after accepting
    assert wcag_violations(phone) == []
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.get_by_label("Wie komt er").fill("Marrit Hoekstra")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "provider-referral.png"), full_page=True)
    phone.get_by_role("button", name="Ja, wij nemen dit aan").click()
    phone.wait_for_url("**done=accepted**")
    assert "De Hooidollen 17" in phone.get_by_test_id("address").inner_text()

    # The coordinator sees it accepted.
    desk.goto(f"{base}/review/requests/{request_id}")
    assert "Marrit Hoekstra" in desk.get_by_test_id("referral-who").inner_text()
    desk.goto(f"{base}/review/providers")
    row = desk.locator("[data-provider-id]").first
    assert row.locator("[data-stat=accepted]").inner_text() == "1"
    desk.screenshot(path=str(SCREENSHOTS / "review-providers.png"), full_page=True)

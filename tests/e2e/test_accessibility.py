"""Every page, checked with axe-core in headless chromium against WCAG 2.1 A and AA, at a
desktop and a phone size, in Dutch and Frisian; on a phone the header stays small and no
page is wider than the screen (tables scroll inside their own box).

Pages other areas add are checked by adding their address to ``pages``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from e2e_support import Processes, free_port, wait_for, wait_until_ready
from ui_support import PHONE, VIEWPORT, chromium_or_skip, wcag_violations

from mienskip_shared.links import sign_volunteer_link

pytestmark = pytest.mark.slow

ALL_WEEK = [{"day": d, "from": "07:00", "to": "21:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`mienskip serve` with a kamer, a coordinator, a volunteer and a proposed request."""
    chromium_or_skip()
    root = tmp_path_factory.mktemp("a11y")
    (root / "logs").mkdir()
    processes = Processes({"MIENSKIP_DATA_DIR": str(root / "data"), "MIENSKIP_LOG_LEVEL": "WARNING",
                           "MIENSKIP_RATE_LIMIT": "1000 per second"}, root / "logs")
    try:
        kamer = processes.cli("kamer", "add", "--name", "Buurtkamer Bilgaard", "--lat", "53.2155", "--lon",
                              "5.7957", "--json")
        coordinator = processes.cli("token", "add", "--role", "coordinator", "--json")["token"]
        port = free_port()
        processes.start("serve", "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, processes)
        headers = {"Authorization": f"Bearer {kamer['token']}"}
        volunteer = requests.post(f"{base}/v1/volunteers", headers=headers, timeout=10, json={
            "name": "Anna de Vries", "language": "nl", "phone": "+31612345678",
            "home": {"lat": 53.2170, "lon": 5.7990}, "skills": ["shopping"], "availability": ALL_WEEK,
            "max_tasks_per_week": 5}).json()["id"]
        start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
        request_id = requests.post(f"{base}/v1/requests", headers=headers, timeout=10, json={
            "resident": {"name": "Jan Hoekstra", "phone": "+31587123456"},
            "location": {"lat": 53.2155, "lon": 5.7957}, "category": "shopping", "notes": "Boodschappen",
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}).json()["id"]

        def proposed():
            body = requests.get(f"{base}/v1/requests/{request_id}", headers=headers, timeout=10).json()
            return body if body["status"] == "proposed" else None
        assignment_id = wait_for(proposed, timeout=60, what="a proposal")["assignment"]["id"]
        secret = (root / "data" / "secret_key").read_text().strip()
        yield {"base": base, "kamer": kamer, "coordinator": coordinator, "request": request_id,
               "volunteer": volunteer, "kamer_id": kamer["id"],
               "link": sign_volunteer_link(secret, assignment_id, volunteer, datetime.now(UTC) + timedelta(days=3))}
    finally:
        processes.stop_all()


def pages(site) -> list[str]:
    return ["/review/", f"/review/requests/{site['request']}", f"/review/volunteers/{site['volunteer']}",
            "/review/map", "/review/attention", "/review/dashboard", "/review/audit",
            f"/review/policy/{site['kamer_id']}", "/desk", "/desk/week",
            "/desk/volunteers", "/desk/volunteers/new", f"/desk/volunteers/{site['volunteer']}",
            "/desk/mileage", "/desk/settings"]


def _sign_in(page, base: str, token: str) -> None:
    page.goto(f"{base}/review/login")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{base}/review/")


def _too_wide(page) -> str | None:
    width = page.evaluate("document.documentElement.scrollWidth")
    return f"{page.url}: {width}px wide on a {PHONE['width']}px screen" if width > PHONE["width"] + 1 else None


@pytest.mark.parametrize("lang", ["nl", "fy"])
@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["desktop", "phone"])
def test_every_page_meets_wcag_21_aa(site, new_page, lang, viewport):
    page = new_page(viewport=viewport)
    problems = []
    _sign_in(page, site["base"], site["coordinator"])
    page.goto(f"{site['base']}/review/login?lang={lang}")  # signed in: on to the proposals, in that language
    sign_in_page = new_page(viewport=viewport)
    sign_in_page.goto(f"{site['base']}/review/login?lang={lang}")
    problems += wcag_violations(sign_in_page)
    for path in pages(site):
        page.goto(f"{site['base']}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert page.locator("main").count() == 1, path
        problems += wcag_violations(page)
        if viewport is PHONE and (wide := _too_wide(page)):
            problems.append(wide)
    link = new_page(viewport=viewport)
    link.goto(f"{site['base']}/v/{site['link']}?lang={lang}")
    problems += wcag_violations(link)
    assert not problems, "\n".join(problems)


def test_on_a_phone_the_header_leaves_the_screen_to_the_page(site, new_page):
    page = new_page(viewport=PHONE)
    _sign_in(page, site["base"], site["coordinator"])
    for path in ("/review/", "/review/dashboard", "/desk"):
        page.goto(f"{site['base']}{path}")
        header = page.locator("header.top").bounding_box()
        assert header["height"] <= PHONE["height"] * 0.2, f"{path}: header {header['height']}px tall"

"""Helpers for the review pages: sign in, post forms with the CSRF field, play matching
and notify, and drive headless chromium for end-to-end tests."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import session
from flask_wtf.csrf import generate_csrf
from intake_support import uow

from mienskip_intake.service_layer import events
from mienskip_shared.contracts import new_event, parse

CHROMIUM = os.environ.get("MIENSKIP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}  # a desk's screen
PHONE = {"width": 390, "height": 844}  # a phone's


# -- Flask test client -------------------------------------------------------------------------

def csrf_of(client) -> str:
    """What the pages' hidden ``csrf`` field holds for this client's session: its
    session token, signed as Flask-WTF renders it."""
    with client.session_transaction() as stored:
        raw = stored["csrf"]
    with client.application.test_request_context():
        session["csrf"] = raw
        return generate_csrf()


def sign_in(client, token: str, **form):
    """Open the sign-in page (it sets the CSRF token), then post the token."""
    client.get("/review/login")
    return client.post("/review/login", data={"csrf": csrf_of(client), "token": token, **form})


def post_form(client, path: str, data: dict | None = None, **kwargs):
    """A form post as the page sends it: with this session's CSRF field."""
    return client.post(path, data={"csrf": csrf_of(client), **(data or {})}, **kwargs)


def bearer_token(headers: dict) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def text_of(response) -> str:
    """The visible text of a page, roughly: tags dropped, whitespace squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# -- a proposed request ------------------------------------------------------------------------

IN_A_WEEK = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)


def request_body(start: datetime = IN_A_WEEK, category: str = "pets") -> dict:
    return {"resident": {"name": "Jan Hoekstra", "language": "fy", "phone": "+31587123456",
                         "address": "Tsjerkepaed 3, 9001 AB Grou"},
            "location": {"lat": 53.2251, "lon": 5.7530}, "category": category, "notes": "Rustige herder",
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}


def volunteer_body(name: str = "Anna de Vries") -> dict:
    """A volunteer; each case registers its own Anna (allow_duplicate: the same name and phone)."""
    return {"name": name, "language": "nl", "phone": "+31612345678", "home": {"lat": 53.2012, "lon": 5.7999},
            "skills": ["pets", "shopping"], "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}],
            "allow_duplicate": True}


def proposed_case(client, engine, kamer, *, start: datetime = IN_A_WEEK, category: str = "pets") -> dict[str, str]:
    """A request of ``kamer`` proposed to Anna, with Baukje as runner-up, 1.2 km further."""
    request_id = client.post("/v1/requests", json=request_body(start, category), headers=kamer.headers).get_json()["id"]
    volunteer_id = client.post("/v1/volunteers", json=volunteer_body(), headers=kamer.headers).get_json()["id"]
    runner_id = client.post("/v1/volunteers", json=volunteer_body("Baukje Bouma"), headers=kamer.headers).get_json()["id"]
    assignment_id = propose_with_explanation(engine, request_id, volunteer_id, kamer_id=kamer.id, runner_up={
        "volunteer_id": runner_id, "distance_km": 2.4, "reason": {"code": "further", "km": 1.2}, "rule": None})
    return {"request": request_id, "volunteer": volunteer_id, "runner_up": runner_id, "assignment": assignment_id}


# -- playing the other services ----------------------------------------------------------------

def propose_with_explanation(engine, request_id: str, volunteer_id: str, *, kamer_id: str = "k",
                             distance_km: float = 1.2, runner_up: dict | None = None, **more) -> str:
    """Deliver an ``assignment.proposed`` shaped as matching writes it, runner-up included
    (``more``: further explanation fields, e.g. ``continuity``)."""
    assignment_id = str(uuid.uuid4())
    explanation = {"distance_km": distance_km, "skills_matched": ["pets"], "availability": "tue 09:00-12:00",
                   "load_this_week": 0, "max_tasks_per_week": 2, "runner_up": runner_up, **more}
    event = new_event("assignment.proposed", {
        "assignment_id": assignment_id, "request_id": request_id, "volunteer_id": volunteer_id,
        "kamer_id": kamer_id, "region": "leeuwarden", "distance_km": distance_km, "explanation": explanation},
        correlation_id=request_id)
    events.on_assignment_proposed(parse(event.to_json()), uow(engine))
    return assignment_id


def report_unmatched(engine, request_id: str, kamer_id: str, reasons: dict[str, int],
                     considered: int | None = None) -> None:
    """Play matching: no volunteer for the request (``considered``: None as from an older matching)."""
    event = new_event("request.unmatched", {
        "request_id": request_id, "kamer_id": kamer_id, "region": "leeuwarden", "reasons": reasons,
        "considered": considered}, correlation_id=request_id)
    events.on_request_unmatched(parse(event.to_json()), uow(engine))


def report_failed_notification(engine, request_id: str, recipient_kind: str = "volunteer") -> None:
    event = new_event("notification.failed", {
        "notification_id": str(uuid.uuid4()), "source_event_id": str(uuid.uuid4()),
        "source_event_type": "assignment.approved", "request_id": request_id, "recipient_kind": recipient_kind,
        "channel": "email", "template": "offer", "language": "nl", "error": "550 mailbox unavailable",
        "attempts": 5}, correlation_id=request_id)
    events.on_notification_failed(parse(event.to_json()), uow(engine))


# -- headless chromium -------------------------------------------------------------------------

def chromium_or_skip() -> str:
    """Debian's chromium (CI installs it); without it skip, or fail where it is required."""
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return CHROMIUM
    message = f"{CHROMIUM} is not installed (apt-get install chromium); the UI tests drive it headless"
    if os.environ.get("MIENSKIP_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " -- required in CI")
    pytest.skip(message)


# -- accessibility -----------------------------------------------------------------------------

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def wcag_violations(page) -> list[str]:
    """What axe-core finds against WCAG 2.1 A and AA on the page as it is now, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA},
                                       "resultTypes": ["violations"]})
    return [f"{page.url}: {v['id']} ({v['impact']}): {v['help']} -- "
            + "; ".join(node["target"][0] if isinstance(node["target"][0], str) else str(node["target"])
                        for node in v["nodes"][:3])
            for v in results.response["violations"]]

"""A volunteer's private calendar feed (iCalendar): their tasks to come, for their
phone's calendar. The URL is ``/calendar/<token>.ics`` with token = an HMAC over the
volunteer's id and a feed version intake stores; a new link bumps the version, so the
old URL answers 404. An event says what (the category), when (UTC) and for which kamer;
the address only once the task is accepted; nothing else about anyone."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from icalendar import Calendar, Event

from mienskip_shared.i18n import Catalogue

PREFIX = "cf1"


class InvalidFeedToken(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), f"calendar-feed:{payload}".encode(), hashlib.sha256).digest())


def sign_feed(secret: str, volunteer_id: str, version: int) -> str:
    payload = f"{PREFIX}.{_b64(volunteer_id.encode())}.{version}"
    return f"{payload}.{_mac(secret, payload)}"


def verify_feed(secret: str, token: str) -> tuple[str, int]:
    """(volunteer id, version) of a token this secret signed; InvalidFeedToken otherwise."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[2].isdigit():
        raise InvalidFeedToken("not a calendar token")
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_mac(secret, payload), parts[3]):
        raise InvalidFeedToken("signature does not match")
    try:
        volunteer_id = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidFeedToken("malformed") from exc
    return volunteer_id, int(parts[2])


def feed(tasks: Iterable[Mapping[str, Any]], *, words: Catalogue, language: str, now: datetime) -> bytes:
    """The iCalendar text of ``tasks`` (``adapters.visit_reads.feed_tasks``), in ``language``."""
    calendar = Calendar()
    calendar.add("prodid", "-//Mienskip//calendar feed//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", words.text(language, "calendar.name"))
    for task in tasks:
        what = words.text(language, f"cat.{task['category']}")
        event = Event()
        event.add("uid", f"{task['assignment_id']}@mienskip")
        event.add("dtstamp", now)
        event.add("dtstart", task["window_start"])
        event.add("dtend", task["window_end"])
        event.add("summary", f"{what} · {task['kamer_name']}")
        event.add("categories", [what])
        event.add("status", "CONFIRMED" if task["status"] == "accepted" else "TENTATIVE")
        if task.get("address"):
            event.add("location", task["address"])
        calendar.add_component(event)
    return calendar.to_ical()

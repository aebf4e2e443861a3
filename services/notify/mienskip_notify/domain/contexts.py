"""What a message says: the values its template is rendered with, as facts (``facts``)
that the composer words in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from .contacts import KamerContact, Known
from .facts import Category, Distance, ProposalReasons, RuleCounts, TaskTime, UnmatchedSummary, local_date

# A volunteer's accept/decline link lasts until the task starts, at most this long.
LINK_VALIDITY = timedelta(days=7)


def review_url(public_url: str, request_id: str | None = None) -> str:
    """The request's own page for the kamer (the review pages when no request is named)."""
    base = f"{public_url.rstrip('/')}/review"
    return f"{base}/requests/{request_id}" if request_id else base


def volunteer_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/v/{token}"


def link_expiry(occurred_at: datetime, start: datetime | None) -> datetime:
    """When a volunteer's link stops working: at the task's start, at most a week after
    the offer. From the event's time, not the clock: a redelivery signs the same link."""
    latest = occurred_at + LINK_VALIDITY
    return min(start, latest) if start is not None else latest


def task_facts(data: Mapping[str, Any], known: Known) -> dict[str, Any]:
    """Category and time of the task, from the event or else from what notify remembers."""
    task = known.task
    category = data.get("category") or (task.category if task else None)
    window = data.get("window")
    start, end = (window["start"], window["end"]) if window else ((task.start, task.end) if task else (None, None))
    return {
        "category": Category(category) if category else None,
        "when": TaskTime(start, end) if start else None,
        "day": local_date(start) if start else None,
    }


def volunteer_first_name(data: Mapping[str, Any], known: Known) -> str | None:
    """The first name of the event's volunteer, for a message to the kamer: only a
    volunteer of that kamer is named (as on the pages: another kamer's stays anonymous)."""
    contact = known.volunteers.get(data.get("volunteer_id", ""))
    if contact is None or contact.kamer_id != known.kamer.kamer_id:
        return None
    return contact.first_name or None


def resident_facts(known: Known) -> dict[str, Any]:
    resident = known.resident
    return {
        "resident_first_name": resident.first_name if resident else None,
        "neighbourhood": resident.neighbourhood if resident else None,
    }


def assignment_ids(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"request_id": data["request_id"], "volunteer_id": data["volunteer_id"],
            "assignment_id": data["assignment_id"]}


def proposal_context(data, known: Known, occurred_at: datetime, public_url: str) -> dict[str, Any]:
    kamer = known.kamer
    return {
        "kamer_name": kamer.name,
        "request_id": data["request_id"],
        "volunteer_id": data["volunteer_id"],
        "volunteer_first_name": volunteer_first_name(data, known),
        "assignment_id": data.get("assignment_id"),
        "distance": Distance(float(data["distance_km"])),
        "why": ProposalReasons(data.get("explanation") or {}),
        "review_url": review_url(public_url, data["request_id"]),
        "proposed_at": occurred_at,
    }


def unmatched_context(data, kamer: KamerContact, occurred_at: datetime, public_url: str) -> dict[str, Any]:
    return {
        "kamer_name": kamer.name,
        "request_id": data["request_id"],
        "summary": UnmatchedSummary(data.get("reasons") or {}, data.get("considered")),
        "reasons": RuleCounts.most_first(data.get("reasons") or {}),
        "review_url": review_url(public_url, data["request_id"]),
        "reported_at": occurred_at,
    }


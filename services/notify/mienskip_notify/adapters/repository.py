"""Reads and writes of notify's tables, inside a transaction the caller owns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from mienskip_shared.clock import as_utc, utcnow
from mienskip_shared.contracts import Envelope

from ..domain.notifications import (
    PLEASE_CALL,
    TOLD_OF_TASK,
    VOLUNTEER,
    KamerContact,
    Notification,
    ResidentContact,
    Task,
    VolunteerContact,
)
from . import tables

MAX_ERROR_LENGTH = 500


def _save_newer(conn: Connection, table, key_column, key: str, values: dict[str, Any], as_of: datetime) -> bool:
    """Insert or update one row keyed by ``key``; False if a newer version is already stored."""
    values = {**values, "as_of": as_of.astimezone(UTC)}
    stored = conn.execute(select(table.c.as_of).where(key_column == key)).scalar_one_or_none()
    if stored is None:
        conn.execute(insert(table).values({key_column.name: key, **values}))
        return True
    if as_utc(stored) > as_of:
        return False  # events from one source may overtake each other
    conn.execute(update(table).where(key_column == key).values(**values))
    return True


def save_kamer(conn: Connection, kamer: KamerContact, as_of: datetime) -> bool:
    """Insert or update a kamer's contact; False if a newer version is already stored."""
    t = tables.kamers
    return _save_newer(conn, t, t.c.kamer_id, kamer.kamer_id, {
        "name": kamer.name, "email": kamer.email, "webhook_url": kamer.webhook_url, "language": kamer.language,
    }, as_of)


def kamer_contact(conn: Connection, kamer_id: str) -> KamerContact | None:
    return kamer_contacts(conn, [kamer_id]).get(kamer_id)


def kamer_contacts(conn: Connection, kamer_ids: Iterable[str]) -> dict[str, KamerContact]:
    t = tables.kamers
    rows = conn.execute(select(t).where(t.c.kamer_id.in_(set(kamer_ids)))).all()
    return {row.kamer_id: KamerContact(kamer_id=row.kamer_id, name=row.name, email=row.email,
                                       webhook_url=row.webhook_url, language=row.language) for row in rows}


# -- people (personal data: never logged) -------------------------------------------------

def save_volunteer(conn: Connection, contact: VolunteerContact, as_of: datetime) -> bool:
    t = tables.volunteers
    return _save_newer(conn, t, t.c.volunteer_id, contact.volunteer_id, {
        "kamer_id": contact.kamer_id, "first_name": contact.first_name, "email": contact.email,
        "phone": contact.phone, "language": contact.language,
    }, as_of)


def save_resident(conn: Connection, contact: ResidentContact, as_of: datetime) -> bool:
    t = tables.residents
    return _save_newer(conn, t, t.c.request_id, contact.request_id, {
        "kamer_id": contact.kamer_id, "first_name": contact.first_name, "phone": contact.phone,
        "language": contact.language, "address": contact.address, "neighbourhood": contact.neighbourhood,
    }, as_of)


def volunteer_contacts(conn: Connection, volunteer_ids: Iterable[str]) -> dict[str, VolunteerContact]:
    t = tables.volunteers
    ids = set(volunteer_ids)
    if not ids:
        return {}
    rows = conn.execute(select(t).where(t.c.volunteer_id.in_(ids))).all()
    return {r.volunteer_id: VolunteerContact(volunteer_id=r.volunteer_id, kamer_id=r.kamer_id,
                                             first_name=r.first_name, email=r.email, phone=r.phone,
                                             language=r.language) for r in rows}


def resident_contacts(conn: Connection, request_ids: Iterable[str]) -> dict[str, ResidentContact]:
    t = tables.residents
    ids = set(request_ids)
    if not ids:
        return {}
    rows = conn.execute(select(t).where(t.c.request_id.in_(ids))).all()
    return {r.request_id: ResidentContact(request_id=r.request_id, kamer_id=r.kamer_id, first_name=r.first_name,
                                          phone=r.phone, language=r.language, address=r.address,
                                          neighbourhood=r.neighbourhood) for r in rows}


def erase_person(conn: Connection, kind: str, subject_id: str) -> list[Row]:
    """Delete a person's contact and blank the addresses we sent to them (ids, status and
    times stay, for the history). Returns their notifications (kamer_id, key, channel)."""
    t = tables.notifications
    if kind == VOLUNTEER:
        conn.execute(delete(tables.volunteers).where(tables.volunteers.c.volunteer_id == subject_id))
    else:
        conn.execute(delete(tables.residents).where(tables.residents.c.request_id == subject_id))
    theirs = (t.c.subject_kind == kind, t.c.subject_id == subject_id, t.c.recipient_kind == kind)
    rows = conn.execute(select(t.c.kamer_id, t.c.key, t.c.channel).where(*theirs)).all()
    conn.execute(update(t).where(*theirs).values(recipient=""))
    return rows


# -- tasks and the volunteers told about them ---------------------------------------------

def remember_tasks(conn: Connection, facts: Mapping[str, tuple[str | None, Mapping | None]]) -> None:
    """Keep requests' category and time (request id -> (category, window)) from events that
    carry them; a missing part keeps what was known."""
    facts = {rid: (category, window) for rid, (category, window) in facts.items() if category or window}
    if not facts:
        return
    t = tables.tasks
    rows = [{"rid": rid, "category": category, "start": window["start"] if window else None,
             "end": window["end"] if window else None} for rid, (category, window) in facts.items()]
    known = set(conn.execute(select(t.c.request_id).where(t.c.request_id.in_(facts))).scalars())
    if known:
        conn.execute(
            update(t).where(t.c.request_id == bindparam("rid")).values(
                category=func.coalesce(bindparam("category", type_=t.c.category.type), t.c.category),
                window_start=func.coalesce(bindparam("start", type_=t.c.window_start.type), t.c.window_start),
                window_end=func.coalesce(bindparam("end", type_=t.c.window_end.type), t.c.window_end)),
            [r for r in rows if r["rid"] in known])
    new = [{"request_id": r["rid"], "category": r["category"], "window_start": r["start"],
            "window_end": r["end"]} for r in rows if r["rid"] not in known]
    if new:
        conn.execute(insert(t), new)


def lock_tasks(conn: Connection, request_ids: Iterable[str]) -> None:
    """Give these requests a row (no facts yet) if they have none, and hold the rows until
    the transaction ends: a cancellation and an approval or acceptance of one request that
    two notify processes handle at the same time are then planned one after the other, the
    later seeing what the earlier committed (the cancellation, or the offer it must follow).
    SQLite has one writer at a time anyway."""
    ids = sorted(set(request_ids))  # always in the same order: no deadlock between two batches
    if not ids:
        return
    t = tables.tasks
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # a row another transaction is inserting: waits for it, then does nothing
    conn.execute(dialect.insert(t).on_conflict_do_nothing(index_elements=[t.c.request_id]),
                 [{"request_id": rid} for rid in ids])
    if conn.dialect.name == "postgresql":
        conn.execute(select(t.c.request_id).where(t.c.request_id.in_(ids)).order_by(t.c.request_id)
                     .with_for_update())


def remember_cancelled(conn: Connection, cancelled: Mapping[str, datetime]) -> None:
    """Keep that requests were cancelled (request id -> the cancellation's occurred_at);
    the earliest time wins, so a redelivery changes nothing."""
    if not cancelled:
        return
    t = tables.tasks
    cancelled = {rid: at.astimezone(UTC) for rid, at in cancelled.items()}
    known = dict(conn.execute(select(t.c.request_id, t.c.cancelled_at).where(t.c.request_id.in_(cancelled))).all())
    new = [{"request_id": rid, "cancelled_at": at} for rid, at in cancelled.items() if rid not in known]
    if new:
        conn.execute(insert(t), new)
    for rid, at in cancelled.items():
        if rid in known and (known[rid] is None or as_utc(known[rid]) > at):
            conn.execute(update(t).where(t.c.request_id == rid).values(cancelled_at=at))


def tasks_of(conn: Connection, request_ids: Iterable[str]) -> dict[str, Task]:
    t = tables.tasks
    ids = set(request_ids)
    if not ids:
        return {}
    rows = conn.execute(select(t).where(t.c.request_id.in_(ids))).all()
    return {r.request_id: Task(r.request_id, r.category, r.window_start, r.window_end,
                               cancelled_at=r.cancelled_at) for r in rows}


def told_volunteers(conn: Connection, request_id: str) -> tuple[str, ...]:
    """Volunteers we offered or gave this request (directly or through the kamer's call)
    and who did not decline it since: the ones a cancellation must reach. The kamer's own
    message about a volunteer ("accepted") does not count: it told the kamer, not them."""
    t = tables.notifications
    rows = conn.execute(
        select(t.c.subject_id, t.c.source_event_type, t.c.recipient_kind, t.c.template)
        .where(t.c.request_id == request_id, t.c.subject_kind == VOLUNTEER)
        .order_by(t.c.id)
    ).all()
    told: dict[str, bool] = {}
    for row in rows:
        if row.source_event_type in TOLD_OF_TASK:
            if row.recipient_kind == VOLUNTEER or row.template == PLEASE_CALL:
                told[row.subject_id] = True
        elif row.source_event_type == "assignment.declined":
            told[row.subject_id] = False
    return tuple(volunteer_id for volunteer_id, still in told.items() if still)


# -- review messages held back for an auto-approval ---------------------------------------

def hold_review(conn: Connection, envelope: Envelope, due_at: datetime) -> None:
    data = envelope.data
    conn.execute(insert(tables.held_reviews).values(
        event_id=envelope.event_id, assignment_id=data["assignment_id"], request_id=data["request_id"],
        kamer_id=data["kamer_id"], body=envelope.to_json(), due_at=due_at, status="held", attempts=0))


def withdraw_reviews(conn: Connection, *, assignment_ids: Iterable[str] = (), request_ids: Iterable[str] = ()) -> int:
    """Held review messages of these assignments or requests are not sent after all."""
    h = tables.held_reviews
    withdrawn = 0
    for column, ids in ((h.c.assignment_id, set(assignment_ids)), (h.c.request_id, set(request_ids))):
        if ids:
            withdrawn += conn.execute(
                update(h).where(column.in_(ids), h.c.status == "held").values(status="withdrawn")).rowcount
    return withdrawn


def claim_inbox_all(conn: Connection, envelopes: Sequence[Envelope]) -> set[str]:
    """:func:`mienskip_shared.messaging.claim_inbox` for a batch of distinct events: returns
    the ids this call claimed (the others were handled before)."""
    inbox = tables.inbox
    ids = [e.event_id for e in envelopes]
    if not ids:
        return set()
    seen = set(conn.execute(select(inbox.c.event_id).where(inbox.c.event_id.in_(ids))).scalars())
    new = [e for e in envelopes if e.event_id not in seen]
    if new:
        now = utcnow()
        conn.execute(insert(inbox), [{"event_id": e.event_id, "event_type": e.event_type, "processed_at": now}
                                     for e in new])
    return {e.event_id for e in new}


def claim_due_reviews(conn: Connection, now: datetime, lease_until: datetime, limit: int) -> list[Row]:
    """Held reviews that are due, each leased to this caller until ``lease_until`` (a
    crashed releaser's lease runs out and another takes over)."""
    h = tables.held_reviews
    due = select(h.c.event_id, h.c.due_at, h.c.body, h.c.attempts).where(
        h.c.status == "held", h.c.due_at <= now).order_by(h.c.due_at).limit(limit)
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = conn.execute(due).all()
    if rows:
        conn.execute(update(h).where(h.c.event_id.in_([r.event_id for r in rows]), h.c.status == "held")
                     .values(due_at=lease_until))
    return rows


def review_released(conn: Connection, event_id: str) -> None:
    h = tables.held_reviews
    conn.execute(update(h).where(h.c.event_id == event_id, h.c.status == "held").values(status="released"))


def review_retry_at(conn: Connection, event_id: str, due_at: datetime, error: str) -> None:
    h = tables.held_reviews
    conn.execute(update(h).where(h.c.event_id == event_id, h.c.status == "held")
                 .values(due_at=due_at, attempts=h.c.attempts + 1, last_error=error[:MAX_ERROR_LENGTH]))


# -- notifications in bulk ------------------------------------------------------------------

def notifications_of_events(conn: Connection, event_ids: Iterable[str]) -> dict[str, list[Row]]:
    """Every notification already planned for these events, per event."""
    t = tables.notifications
    ids = set(event_ids)
    found: dict[str, list[Row]] = {event_id: [] for event_id in ids}
    if ids:
        rows = conn.execute(select(t.c.key, t.c.source_event_id, t.c.status, t.c.recipient_kind, t.c.template,
                                   t.c.subject_kind, t.c.subject_id).where(t.c.source_event_id.in_(ids))).all()
        for row in rows:
            found[row.source_event_id].append(row)
    return found


def plan_notifications(conn: Connection, notifications: Sequence[Notification]) -> None:
    """Record new notifications as pending, in one statement."""
    if notifications:
        created = utcnow()
        conn.execute(insert(tables.notifications), [_row(n, created) for n in notifications])


def _row(notification: Notification, created_at: datetime) -> dict[str, Any]:
    return {
        "key": notification.key,
        "source_event_id": notification.source_event_id,
        "source_event_type": notification.source_event_type,
        "request_id": notification.request_id,
        "kamer_id": notification.kamer_id,
        "recipient_kind": notification.recipient_kind,
        "recipient": notification.recipient,
        "channel": notification.channel,
        "template": notification.template,
        "language": notification.language,
        "status": "pending",
        "attempts": 0,
        "created_at": created_at,
        "subject_kind": notification.subject_kind,
        "subject_id": notification.subject_id,
    }


def mark_all_sent(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Move these pending notifications to 'sent'; return the keys this call moved."""
    if not keys:
        return set()
    t = tables.notifications
    result = conn.execute(
        update(t)
        .where(t.c.key.in_(keys), t.c.status == "pending")
        .values(status="sent", attempts=t.c.attempts + 1, last_error=None, sent_at=utcnow())
        .returning(t.c.key)
    )
    return set(result.scalars().all())


def add_all_to_outbox(conn: Connection, envelopes: Sequence[Envelope]) -> None:
    """Like :func:`mienskip_shared.messaging.add_to_outbox`, for many events in one statement."""
    if envelopes:
        created = utcnow()
        conn.execute(insert(tables.outbox), [{
            "event_id": e.event_id, "event_type": e.event_type, "correlation_id": e.correlation_id,
            "body": e.to_json(), "created_at": created} for e in envelopes])


def plan_notification(conn: Connection, notification: Notification) -> str:
    """Record ``notification`` as pending unless its key exists; return its status."""
    t = tables.notifications
    status = conn.execute(select(t.c.status).where(t.c.key == notification.key)).scalar_one_or_none()
    if status is not None:
        return status
    # Two consumers racing here: the UNIQUE key lets one commit; the other fails and is retried.
    conn.execute(insert(t).values(_row(notification, utcnow())))
    return "pending"


def record_failure(conn: Connection, key: str, error: str) -> int:
    """Count a failed attempt; the row stays 'pending' (the consumer retries). Returns the attempts so far."""
    t = tables.notifications
    conn.execute(
        update(t)
        .where(t.c.key == key, t.c.status == "pending")
        .values(attempts=t.c.attempts + 1, last_error=error[:MAX_ERROR_LENGTH])
    )
    return conn.execute(select(t.c.attempts).where(t.c.key == key)).scalar_one()


def mark_sent(conn: Connection, key: str) -> bool:
    """True if this call moved the notification to 'sent' (so it announces it once)."""
    t = tables.notifications
    result = conn.execute(
        update(t)
        .where(t.c.key == key, t.c.status == "pending")
        .values(status="sent", attempts=t.c.attempts + 1, last_error=None, sent_at=utcnow())
    )
    return result.rowcount == 1


def fail_for_good(conn: Connection, *, error: str, key: str | None = None,
                  source_event_id: str | None = None) -> list[Row]:
    """Move pending notifications (one ``key``, or all of a ``source_event_id``) to 'failed'.

    Returns the rows this call moved, as they are now, so each is announced once even
    when two consumers give up on the same event. A row's own ``last_error`` (the
    reason of its last attempt) wins over ``error``.
    """
    t = tables.notifications
    which = t.c.key == key if key is not None else t.c.source_event_id == source_event_id
    moved = []
    pending = select(t.c.key, t.c.last_error).where(which, t.c.status == "pending").order_by(t.c.id)
    for row in conn.execute(pending).all():
        result = conn.execute(
            update(t)
            .where(t.c.key == row.key, t.c.status == "pending")
            .values(status="failed", last_error=(row.last_error or error)[:MAX_ERROR_LENGTH])
        )
        if result.rowcount == 1:
            moved.append(conn.execute(select(t).where(t.c.key == row.key)).one())
    return moved


def reserve_sms(conn: Connection, key: str, kamer_id: str, month: str, limit: int) -> bool:
    """Take one place in the kamer's SMS budget for ``month`` for notification ``key``.

    True if the notification holds a place (now, or from an earlier attempt: a retry
    does not count twice); False when the budget is spent. The conditional increment
    is one statement, so concurrent consumers cannot both take the last place.
    """
    t, usage = tables.notifications, tables.sms_usage
    if conn.execute(select(t.c.sms_month).where(t.c.key == key)).scalar_one() is not None:
        return True
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(usage).values(kamer_id=kamer_id, month=month, used=0).on_conflict_do_nothing())
    taken = conn.execute(
        update(usage)
        .where(usage.c.kamer_id == kamer_id, usage.c.month == month, usage.c.used < limit)
        .values(used=usage.c.used + 1)
    ).rowcount == 1
    if taken:
        conn.execute(update(t).where(t.c.key == key).values(sms_month=month))
    return taken


def sms_used(conn: Connection, kamer_id: str, month: str) -> int:
    usage = tables.sms_usage
    used = conn.execute(
        select(usage.c.used).where(usage.c.kamer_id == kamer_id, usage.c.month == month)
    ).scalar_one_or_none()
    return used or 0

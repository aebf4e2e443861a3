"""Intake's use cases: plain functions of (input, engine). Each is one transaction.

State change, outbox event and (for consumed events) inbox row commit together, so
a 202 means the request and the event announcing it are both durably stored.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope, new_event
from mienskip_shared.messaging import add_to_outbox, claim_inbox

from ..adapters import tables as t
from ..domain.model import (
    IllegalTransition,
    Principal,
    Role,
    Status,
    can_transition,
    check_follows,
    check_window,
    coarse,
    first_name,
    neighbourhood_of,
    transition,
)
from .common import SYSTEM, Conflict, NotFound, audit, new_id, record_history
from .workflow import approve_by_policy, release_volunteer_in


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different body (API.md, 422)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- kamers and tokens ---------------------------------------------------------------

def register_kamer(engine: Engine, *, name: str, lat: float, lon: float, region: str = "leeuwarden",
                   email: str | None = None, webhook_url: str | None = None, language: str = "nl") -> str:
    kamer_id = new_id()
    with engine.begin() as tx:
        tx.execute(insert(t.kamers).values(
            id=kamer_id, name=name, region=region, lat=lat, lon=lon, email=email,
            webhook_url=webhook_url, language=language, created_at=utcnow()))
        add_to_outbox(tx, t.outbox, new_event("kamer.registered", {
            "kamer_id": kamer_id, "name": name, "region": region, "location": {"lat": lat, "lon": lon},
            "email": email, "webhook_url": webhook_url, "language": language,
        }, correlation_id=kamer_id, kamer_id=kamer_id))
    return kamer_id


def issue_token(engine: Engine, role: Role, *, kamer_id: str | None = None, region: str | None = None,
                label: str | None = None) -> tuple[str, str]:
    """A new random token; only its hash is stored, so it is shown exactly once."""
    if role is Role.KAMER and not kamer_id:
        raise ValueError("a kamer token needs a kamer")
    token = "msk_" + secrets.token_urlsafe(32)
    token_id = new_id()
    with engine.begin() as tx:
        if kamer_id is not None:
            kamer = tx.execute(select(t.kamers.c.region).where(t.kamers.c.id == kamer_id)).first()
            if kamer is None:
                raise NotFound(f"kamer {kamer_id}")
            region = region or kamer.region
        tx.execute(insert(t.tokens).values(
            id=token_id, token_hash=hash_token(token), role=role.value, kamer_id=kamer_id,
            region=region, label=label, created_at=utcnow()))
    return token_id, token


def revoke_token(engine: Engine, token_id: str) -> bool:
    with engine.begin() as tx:
        result = tx.execute(update(t.tokens).where(t.tokens.c.id == token_id, t.tokens.c.revoked_at.is_(None))
                            .values(revoked_at=utcnow()))
    return result.rowcount == 1


def authenticate(engine: Engine, token: str) -> Principal | None:
    with engine.begin() as tx:
        row = tx.execute(select(t.tokens).where(
            t.tokens.c.token_hash == hash_token(token), t.tokens.c.revoked_at.is_(None))).first()
    if row is None:
        return None
    return Principal(token_id=row.id, role=Role(row.role), kamer_id=row.kamer_id, region=row.region)


def _kamer_of(tx: Connection, principal: Principal):
    if principal.role is not Role.KAMER:
        raise PermissionError("only kamer staff register residents and volunteers")
    return tx.execute(select(t.kamers).where(t.kamers.c.id == principal.kamer_id)).one()


# -- volunteers ----------------------------------------------------------------------------

def register_volunteer(engine: Engine, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    volunteer_id = new_id()
    with engine.begin() as tx:
        kamer = _kamer_of(tx, principal)
        languages = list(dict.fromkeys([data["language"], *data.get("languages", [])]))
        row = {
            "id": volunteer_id, "kamer_id": kamer.id, "region": kamer.region,
            "name": data["name"], "email": data.get("email"), "phone": data.get("phone"),
            "language": data["language"], "languages": languages,
            "home_lat": data["home"]["lat"], "home_lon": data["home"]["lon"],
            "skills": list(dict.fromkeys(data["skills"])), "has_car": data["has_car"],
            "vog_checked_on": data.get("vog_checked_on"), "availability": data["availability"],
            "max_tasks_per_week": data["max_tasks_per_week"], "max_distance_km": data["max_distance_km"],
            "created_at": utcnow(),
        }
        tx.execute(insert(t.volunteers).values(**row))
        audit(tx, principal, "create", "volunteer", volunteer_id)
        add_to_outbox(tx, t.outbox, new_event("volunteer.registered", {
            "volunteer_id": volunteer_id, "kamer_id": kamer.id, "region": kamer.region,
            "home": coarse(row["home_lat"], row["home_lon"]), "languages": languages,
            "skills": row["skills"], "has_car": row["has_car"], "vog_checked_on": row["vog_checked_on"],
            "availability": row["availability"], "max_tasks_per_week": row["max_tasks_per_week"],
            "max_distance_km": row["max_distance_km"],
        }, correlation_id=volunteer_id, kamer_id=kamer.id))
        add_to_outbox(tx, t.outbox, new_event("contact.volunteer", {
            "volunteer_id": volunteer_id, "kamer_id": kamer.id, "first_name": first_name(row["name"]) or "",
            "email": row["email"], "phone": row["phone"], "language": row["language"],
        }, correlation_id=volunteer_id, kamer_id=kamer.id))
    return row


def get_volunteer(engine: Engine, principal: Principal, volunteer_id: str) -> dict[str, Any]:
    with engine.begin() as tx:
        row = tx.execute(select(t.volunteers).where(t.volunteers.c.id == volunteer_id)).first()
        if row is None or not principal.may_see_kamer(row.kamer_id, row.region):
            raise NotFound(volunteer_id)
        audit(tx, principal, "read", "volunteer", volunteer_id)
    return dict(row._mapping)


# -- requests ------------------------------------------------------------------------------

def body_fingerprint(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()


def submit_request(engine: Engine, principal: Principal, data: dict[str, Any], *,
                   idempotency_key: str | None = None, body_hash: str = "") -> tuple[int, dict[str, Any]]:
    """Store the request with its ``request.submitted`` event; answer (202, body).

    With an ``Idempotency-Key`` the first answer is stored in the same transaction
    and replayed for the same key and body; the same key with another body is refused.
    """
    with engine.begin() as tx:
        kamer = _kamer_of(tx, principal)
        if idempotency_key:
            replay = _replay(tx, kamer.id, idempotency_key, body_hash)
            if replay is not None:
                return replay
        stamp = utcnow()
        window = data["window"]
        _check_request(tx, kamer.id, data, stamp)
        request_id = new_id()
        resident = data["resident"]
        skills = list(dict.fromkeys([data["category"], *data.get("skills", [])]))
        tx.execute(insert(t.requests).values(
            id=request_id, kamer_id=kamer.id, region=kamer.region,
            resident_name=resident.get("name"), resident_phone=resident.get("phone"),
            resident_language=resident.get("language") or "nl", resident_address=resident.get("address"),
            lat=data["location"]["lat"], lon=data["location"]["lon"], category=data["category"],
            skills=skills, needs_vog=data.get("needs_vog", False), needs_language=data.get("needs_language"),
            window_start=window["start"], window_end=window["end"], recurrence=data.get("recurrence"),
            follows=data.get("follows"),
            urgency=data.get("urgency", "normal"), notes=data.get("notes"), status=Status.RECEIVED.value,
            created_at=stamp, updated_at=stamp))
        record_history(tx, request_id, Status.RECEIVED, f"token:{principal.token_id}", "submitted")
        audit(tx, principal, "create", "request", request_id)
        add_to_outbox(tx, t.outbox, new_event("request.submitted", {
            "request_id": request_id, "kamer_id": kamer.id, "region": kamer.region,
            "category": data["category"], "skills": skills, "needs_vog": data.get("needs_vog", False),
            "needs_language": data.get("needs_language"), "window": window,
            "location": coarse(data["location"]["lat"], data["location"]["lon"]),
            "urgency": data.get("urgency", "normal"), "recurrence": data.get("recurrence"),
            "follows": data.get("follows"),
        }, correlation_id=request_id, kamer_id=kamer.id))
        add_to_outbox(tx, t.outbox, new_event("contact.resident", {
            "request_id": request_id, "kamer_id": kamer.id, "first_name": first_name(resident.get("name")),
            "phone": resident.get("phone"), "language": resident.get("language") or "nl",
            "address": resident.get("address"), "neighbourhood": neighbourhood_of(resident.get("address")),
        }, correlation_id=request_id, kamer_id=kamer.id))
        answer = (202, {"id": request_id, "status": Status.RECEIVED.value})
        if idempotency_key:
            tx.execute(insert(t.idempotency_keys).values(
                kamer_id=kamer.id, key=idempotency_key, body_hash=body_hash,
                status_code=answer[0], response=answer[1], created_at=stamp))
    return answer


def validate_request(engine: Engine, principal: Principal, data: dict[str, Any]) -> None:
    """Every check :func:`submit_request` makes, storing nothing."""
    with engine.connect() as conn:
        _check_request(conn, principal.kamer_id, data, utcnow())


def _check_request(conn: Connection, kamer_id: str, data: dict[str, Any], at: datetime) -> None:
    """The domain's checks of a request that field validation cannot do: a window still
    to come; and the earlier request a recurring one follows is the same kamer's
    (another kamer's is as unknown as a missing one) and recurs the same way."""
    check_window(data["window"]["start"], data["window"]["end"], at)
    follows = data.get("follows")
    earlier = None if follows is None else conn.execute(select(t.requests.c.recurrence).where(
        t.requests.c.id == follows, t.requests.c.kamer_id == kamer_id)).first()
    check_follows(follows, data.get("recurrence"), False if earlier is None else earlier.recurrence)


def _replay(tx: Connection, kamer_id: str, key: str, body_hash: str) -> tuple[int, dict] | None:
    row = tx.execute(select(t.idempotency_keys).where(
        t.idempotency_keys.c.kamer_id == kamer_id, t.idempotency_keys.c.key == key)).first()
    if row is None:
        return None
    if row.body_hash != body_hash:
        raise IdempotencyKeyReused(key)
    return row.status_code, dict(row.response)


def get_request(engine: Engine, principal: Principal, request_id: str) -> dict[str, Any]:
    with engine.begin() as tx:
        row = tx.execute(select(t.requests).where(t.requests.c.id == request_id)).first()
        if row is None or not principal.may_see_kamer(row.kamer_id, row.region):
            raise NotFound(request_id)
        assignment = tx.execute(select(t.assignments).where(t.assignments.c.request_id == request_id)
                                .order_by(t.assignments.c.created_at.desc())).first()
        events = tx.execute(select(t.history).where(t.history.c.request_id == request_id)
                            .order_by(t.history.c.id)).all()
        audit(tx, principal, "read", "request", request_id)
    result = dict(row._mapping)
    result["assignment"] = dict(assignment._mapping) if assignment else None
    result["history"] = [dict(e._mapping) for e in events]
    return result


def cancel_request(engine: Engine, principal: Principal, request_id: str, reason: str | None = None) -> dict:
    with engine.begin() as tx:
        row = tx.execute(select(t.requests).where(t.requests.c.id == request_id)).first()
        if row is None or not principal.may_see_kamer(row.kamer_id, row.region):
            raise NotFound(request_id)
        try:
            status = transition(Status(row.status), Status.CANCELLED)
        except IllegalTransition as exc:
            raise Conflict(str(exc)) from exc
        tx.execute(update(t.requests).where(t.requests.c.id == request_id)
                   .values(status=status.value, updated_at=utcnow()))
        tx.execute(update(t.assignments).where(t.assignments.c.request_id == request_id)
                   .values(status=Status.CANCELLED.value, updated_at=utcnow()))
        record_history(tx, request_id, status, f"token:{principal.token_id}", reason)
        audit(tx, principal, "cancel", "request", request_id)
        add_to_outbox(tx, t.outbox, new_event("request.cancelled", {
            "request_id": request_id, "kamer_id": row.kamer_id, "reason": reason,
        }, correlation_id=request_id, kamer_id=row.kamer_id))
    return {"id": request_id, "status": status.value}


def _move(tx: Connection, request_id: str, wanted: Status, actor: str, note: str | None, **values) -> bool:
    """Apply a transition announced by another service; ignore it if it no longer fits."""
    row = tx.execute(select(t.requests.c.status).where(t.requests.c.id == request_id)).first()
    if row is None:
        return False
    if not can_transition(Status(row.status), wanted):
        record_history(tx, request_id, None, actor, f"ignored {wanted} while {row.status}")
        return False
    tx.execute(update(t.requests).where(t.requests.c.id == request_id)
               .values(status=wanted.value, updated_at=utcnow(), **values))
    record_history(tx, request_id, wanted, actor, note)
    return True


# -- events from other services ----------------------------------------------------------

def _is_newest_decision(tx: Connection, request_id: str, decision: int) -> bool:
    """Matching numbers its decisions per request; one overtaken by a newer one (they
    travel on separate queues) is history, not news."""
    if decision == 0:  # from a producer that does not number yet
        return True
    newer = tx.execute(update(t.requests).where(t.requests.c.id == request_id, t.requests.c.last_decision < decision)
                       .values(last_decision=decision))
    if newer.rowcount == 1:
        return True
    record_history(tx, request_id, None, "matching", f"ignored decision {decision}: a newer one came first")
    return False


def on_assignment_proposed(engine: Engine, envelope: Envelope) -> None:
    d = envelope.data
    with engine.begin() as tx:
        if not claim_inbox(tx, t.inbox, envelope):
            return
        if not _is_newest_decision(tx, d["request_id"], d["decision"]):
            return
        if _move(tx, d["request_id"], Status.PROPOSED, "matching", d["explanation"].get("why")):
            tx.execute(insert(t.assignments).values(
                id=d["assignment_id"], request_id=d["request_id"], volunteer_id=d["volunteer_id"],
                kamer_id=d["kamer_id"], status=Status.PROPOSED.value, distance_km=d["distance_km"],
                explanation=d["explanation"], created_at=utcnow(), updated_at=utcnow()))
            if _erased_volunteer(tx, d["volunteer_id"]):  # matching proposed before it heard of the erasure
                release_volunteer_in(tx, d["volunteer_id"], SYSTEM)
                return
            approve_by_policy(tx, d["request_id"], d["assignment_id"])


def _erased_volunteer(tx: Connection, volunteer_id: str) -> bool:
    return tx.execute(select(t.volunteers.c.erased_at).where(t.volunteers.c.id == volunteer_id)).scalar() is not None


def on_request_unmatched(engine: Engine, envelope: Envelope) -> None:
    d = envelope.data
    with engine.begin() as tx:
        if not claim_inbox(tx, t.inbox, envelope):
            return
        if not _is_newest_decision(tx, d["request_id"], d["decision"]):
            return
        _move(tx, d["request_id"], Status.UNMATCHED, "matching", d["summary"], reasons=d["reasons"])


def on_notification_sent(engine: Engine, envelope: Envelope) -> None:
    d = envelope.data
    with engine.begin() as tx:
        if not claim_inbox(tx, t.inbox, envelope):
            return
        if d.get("request_id"):
            exists = tx.execute(select(t.requests.c.id).where(t.requests.c.id == d["request_id"])).first()
            if exists:
                record_history(tx, d["request_id"], None, "notify",
                        f"{d['template']} sent to {d['recipient_kind']} by {d['channel']}")


def on_notification_failed(engine: Engine, envelope: Envelope) -> None:
    """A message that could not be delivered: the coordinator must see it."""
    d = envelope.data
    with engine.begin() as tx:
        if not claim_inbox(tx, t.inbox, envelope):
            return
        if d.get("request_id") and tx.execute(
                select(t.requests.c.id).where(t.requests.c.id == d["request_id"])).first():
            record_history(tx, d["request_id"], None, "notify",
                    f"FAILED: {d['template']} to {d['recipient_kind']} by {d['channel']} "
                    f"after {d['attempts']} attempts ({d['error']})")


def mark_queued(tx: Connection, published_rows: Sequence) -> None:
    """Relay hook: a request whose event is confirmed by the broker is queued."""
    ids = [r.correlation_id for r in published_rows if r.event_type == "request.submitted"]
    if ids:
        tx.execute(update(t.requests).where(t.requests.c.id.in_(ids), t.requests.c.status == Status.RECEIVED.value)
                   .values(status=Status.QUEUED.value, updated_at=utcnow()))


def record_duplicate_key_race(exc: IntegrityError) -> bool:
    """True when an insert lost a race on an Idempotency-Key (the other request won)."""
    return "idempotency" in str(exc.orig).lower()

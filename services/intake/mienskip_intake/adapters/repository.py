"""Intake's repositories and the unit of work around one transaction.

Each repository reads and writes one kind of record as the domain's dataclasses;
requests (with their assignments and history) live in :mod:`.request_repository`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mienskip_shared import unit_of_work
from mienskip_shared.db import append, contains_text

from ..domain.model import Kamer, Principal, Role, Volunteer
from ..domain.volunteers import name_key
from . import tables as t
from .accounts import AccountLinkRepository, PersonRepository, SignInFailures, WebSessionRepository
from .digests import DigestRepository
from .follow_ups import FollowUpRepository
from .import_repository import ImportRepository
from .read_models import scoped
from .referral_repository import ProviderRepository, ReferralRepository
from .request_repository import RequestRepository
from .visit_repository import VisitRepository

_VOLUNTEER_COLUMNS = [f.name for f in fields(Volunteer)]


def _volunteer(row) -> Volunteer:
    """A stored volunteer (``name_key`` is the table's own: a search key, not part of the record)."""
    return Volunteer(**{name: row._mapping[name] for name in _VOLUNTEER_COLUMNS})


class KamerRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, kamer: Kamer) -> None:
        self.conn.execute(insert(t.kamers).values(
            id=kamer.id, name=kamer.name, region=kamer.region, lat=kamer.lat, lon=kamer.lon, email=kamer.email,
            webhook_url=kamer.webhook_url, language=kamer.language, created_at=kamer.created_at, phone=kamer.phone,
            mileage_rate_cents=kamer.mileage_rate_cents, reminder_time=kamer.reminder_time,
            follow_up_days=kamer.follow_up_days))

    # Built once: every API call of a kamer reads its kamer, and building the WHERE clause
    # anew cost as much CPU as the query's execution.
    _BY_ID = select(t.kamers).where(t.kamers.c.id == bindparam("kamer_id"))

    def get(self, kamer_id: str | None) -> Kamer | None:
        row = self.conn.execute(self._BY_ID, {"kamer_id": kamer_id}).first()
        return None if row is None else Kamer(**row._mapping)

    # -- the auto-approve policy: categories whose proposals the kamer approves at once ------
    def auto_approve_categories(self, kamer_id: str) -> list[str]:
        p = t.auto_approve
        return sorted(row.category for row in self.conn.execute(select(p.c.category).where(p.c.kamer_id == kamer_id)))

    def auto_approves(self, kamer_id: str, category: str) -> bool:
        return bool(self.auto_approving([(kamer_id, category)]))

    def auto_approving(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Of these (kamer, category) pairs, those whose kamer approves the category at once."""
        wanted = set(pairs)
        if not wanted:
            return set()
        p = t.auto_approve
        rows = self.conn.execute(select(p.c.kamer_id, p.c.category).where(
            p.c.kamer_id.in_({kamer_id for kamer_id, _ in wanted})))
        return {(row.kamer_id, row.category) for row in rows} & wanted

    def update_settings(self, kamer_id: str, **values: Any) -> None:
        """The kamer's own settings (phone, mileage rate, reminder time, follow-up days)."""
        self.conn.execute(update(t.kamers).where(t.kamers.c.id == kamer_id).values(**values))

    def set_auto_approve_categories(self, kamer_id: str, categories: Sequence[str], set_by: str,
                                    at: datetime) -> None:
        p = t.auto_approve
        self.conn.execute(delete(p).where(p.c.kamer_id == kamer_id))
        for category in categories:
            self.conn.execute(insert(p).values(kamer_id=kamer_id, category=category, set_by=set_by, set_at=at))


class TokenRepository:
    """API tokens, kept only as hashes."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, token_id: str, token_hash: str, role: Role, *, kamer_id: str | None, region: str | None,
            label: str | None, at: datetime) -> None:
        self.conn.execute(insert(t.tokens).values(id=token_id, token_hash=token_hash, role=role.value,
                                                  kamer_id=kamer_id, region=region, label=label, created_at=at))

    def revoke(self, token_id: str, at: datetime) -> bool:
        """False if there is no such active token."""
        result = self.conn.execute(update(t.tokens).where(t.tokens.c.id == token_id, t.tokens.c.revoked_at.is_(None))
                                   .values(revoked_at=at))
        return result.rowcount == 1

    def principal_of(self, token_id: str) -> Principal | None:
        """The token's holder while it is not revoked (a page session signed in with it)."""
        row = self.conn.execute(select(t.tokens).where(
            t.tokens.c.id == token_id, t.tokens.c.revoked_at.is_(None))).first()
        if row is None:
            return None
        return Principal(token_id=row.id, role=Role(row.role), kamer_id=row.kamer_id, region=row.region)

    def principal_for(self, token_hash: str) -> Principal | None:
        row = self.conn.execute(select(t.tokens).where(
            t.tokens.c.token_hash == token_hash, t.tokens.c.revoked_at.is_(None))).first()
        if row is None:
            return None
        return Principal(token_id=row.id, role=Role(row.role), kamer_id=row.kamer_id, region=row.region)


class VolunteerRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, volunteer: Volunteer) -> None:
        self.conn.execute(insert(t.volunteers).values(
            {**{name: getattr(volunteer, name) for name in _VOLUNTEER_COLUMNS}, "name_key": name_key(volunteer.name)}))

    def get(self, volunteer_id: str, *, lock: bool = False) -> Volunteer | None:
        query = select(t.volunteers).where(t.volunteers.c.id == volunteer_id)
        row = self.conn.execute(query.with_for_update() if lock else query).first()
        return None if row is None else _volunteer(row)

    def get_all(self, volunteer_ids: Iterable[str]) -> dict[str, Volunteer]:
        ids = set(volunteer_ids)
        if not ids:
            return {}
        return {row.id: _volunteer(row) for row in self.conn.execute(select(t.volunteers).where(
            t.volunteers.c.id.in_(ids)))}

    def is_erased(self, volunteer_id: str) -> bool:
        v = t.volunteers
        return self.conn.execute(select(v.c.erased_at).where(v.c.id == volunteer_id)).scalar() is not None

    def may_be_proposed(self, volunteer_id: str, region: str) -> bool:
        """A volunteer of this region who has not been erased."""
        v = t.volunteers
        return self.conn.execute(select(v.c.id).where(v.c.id == volunteer_id, v.c.region == region,
                                                      v.c.erased_at.is_(None))).first() is not None

    def save_erasure(self, volunteer: Volunteer) -> None:
        """Store an erased volunteer (:meth:`Volunteer.erased`)."""
        self.conn.execute(update(t.volunteers).where(t.volunteers.c.id == volunteer.id).values(
            name=volunteer.name, email=volunteer.email, phone=volunteer.phone,
            vog_checked_on=volunteer.vog_checked_on, home_lat=volunteer.home_lat, home_lon=volunteer.home_lon,
            erased_at=volunteer.erased_at, away=volunteer.away, active=volunteer.active, home_exact_lookup=None,
            name_key=name_key(volunteer.name)))

    def save(self, volunteer: Volunteer) -> None:
        """Store a changed volunteer (every field a change may touch, and its revision)."""
        changeable = {name: getattr(volunteer, name) for name in _VOLUNTEER_COLUMNS
                      if name not in ("id", "kamer_id", "region", "created_at", "erased_at")}
        self.conn.execute(update(t.volunteers).where(t.volunteers.c.id == volunteer.id).values(
            {**changeable, "name_key": name_key(volunteer.name)}))

    def awaiting_exact_lookup(self, batch: int) -> list[Volunteer]:
        """Volunteers whose home was placed on its postcode area while the geocoder was away."""
        v = t.volunteers
        rows = self.conn.execute(select(v).where(v.c.home_exact_lookup.is_not(None), v.c.erased_at.is_(None))
                                 .order_by(v.c.created_at, v.c.id).limit(batch)).all()
        return [_volunteer(row) for row in rows]

    def named_alike(self, kamer_id: str, name: str) -> list[Volunteer]:
        """The kamer's volunteers (not erased) whose name is this one, whatever the case and
        however many spaces, theirs or this one's (the stored ``name_key``)."""
        v = t.volunteers
        rows = self.conn.execute(select(v).where(
            v.c.kamer_id == kamer_id, v.c.erased_at.is_(None), v.c.name_key == name_key(name))
            .order_by(v.c.created_at)).all()
        return [_volunteer(row) for row in rows]

    def page(self, principal: Principal, *, q: str | None, status: str | None, limit: int,
             after: tuple[str, str] | None) -> list[Volunteer]:
        """Up to ``limit`` + 1 volunteers the caller may see (the kamer's own, the coordinator's
        region), by name (the database's order), after ``(name, id)``; never an erased one."""
        v = t.volunteers
        query = select(v).where(v.c.erased_at.is_(None))
        query = scoped(query, principal, v.c.kamer_id, v.c.region)
        if q:
            query = query.where(contains_text(v.c.name, q))
        if status == "active":
            query = query.where(v.c.active.is_(True))
        elif status == "paused":
            query = query.where(v.c.active.is_(False), v.c.stopped_at.is_(None))
        elif status == "stopped":
            query = query.where(v.c.active.is_(False), v.c.stopped_at.is_not(None))
        if after is not None:
            name, last_id = after
            query = query.where(or_(v.c.name > name, and_(v.c.name == name, v.c.id > last_id)))
        rows = self.conn.execute(query.order_by(v.c.name, v.c.id).limit(limit + 1)).all()
        return [_volunteer(row) for row in rows]

    def with_vog(self, principal: Principal) -> list[Volunteer]:
        """Active volunteers the caller may see who have a VOG date, oldest VOG first."""
        v = t.volunteers
        query = select(v).where(v.c.erased_at.is_(None), v.c.active.is_(True), v.c.vog_checked_on.is_not(None))
        if principal.role is Role.KAMER:
            query = query.where(v.c.kamer_id == principal.kamer_id)
        elif principal.role is Role.COORDINATOR:
            query = query.where(v.c.region == principal.region) if principal.region else query
        else:
            return []
        return [_volunteer(row) for row in self.conn.execute(query.order_by(v.c.vog_checked_on, v.c.id))]

    def stopped_before(self, cutoff: datetime, batch: int) -> list[Volunteer]:
        """Volunteers who stopped before ``cutoff`` and are not erased yet (locked rows skipped)."""
        v = t.volunteers
        rows = self.conn.execute(select(v).where(v.c.erased_at.is_(None), v.c.stopped_at.is_not(None),
                                                 v.c.stopped_at < cutoff).order_by(v.c.stopped_at).limit(batch)
                                 .with_for_update(skip_locked=True)).all()
        return [_volunteer(row) for row in rows]


class AuditLog:
    """Who read or changed which personal record, and when (AVG: accountability)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def record(self, principal: Principal, action: str, subject_kind: str, subject_id: str, at: datetime) -> None:
        self.conn.execute(append(t.audit_log), {
            "at": at, "token_id": principal.token_id, "user_id": principal.user_id, "role": principal.role.value,
            "action": action, "subject_kind": subject_kind, "subject_id": subject_id})


class IdempotencyKeys:
    """The first answer to each kamer's ``Idempotency-Key``."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def answer_for(self, kamer_id: str, key: str) -> tuple[str, int, dict[str, Any]] | None:
        """``(body hash, status code, body)`` of the first answer, if any."""
        k = t.idempotency_keys
        row = self.conn.execute(select(k).where(k.c.kamer_id == kamer_id, k.c.key == key)).first()
        return None if row is None else (row.body_hash, row.status_code, dict(row.response))

    def remember(self, kamer_id: str, key: str, body_hash: str, status_code: int, response: dict[str, Any],
                 at: datetime) -> None:
        self.conn.execute(insert(t.idempotency_keys).values(kamer_id=kamer_id, key=key, body_hash=body_hash,
                                                            status_code=status_code, response=response,
                                                            created_at=at))


def lost_idempotency_race(exc: IntegrityError) -> bool:
    """True when an insert lost a race on an Idempotency-Key (the other request won)."""
    return "idempotency" in str(exc.orig).lower()


class IntakeUnitOfWork(unit_of_work.SqlUnitOfWork):
    """Intake's transaction: its repositories, outbox and inbox (see the shared base, which
    also logs each event written to the outbox once the transaction commits, ids only)."""

    outbox = t.outbox
    inbox = t.inbox
    kamers: KamerRepository
    tokens: TokenRepository
    volunteers: VolunteerRepository
    requests: RequestRepository
    audit: AuditLog
    idempotency: IdempotencyKeys
    imports: ImportRepository
    people: PersonRepository
    account_links: AccountLinkRepository
    web_sessions: WebSessionRepository
    sign_in_failures: SignInFailures
    visits: VisitRepository
    follow_ups: FollowUpRepository
    digests: DigestRepository
    providers: ProviderRepository
    referrals: ReferralRepository

    def _open(self, conn: Connection) -> None:
        self.kamers = KamerRepository(conn)
        self.tokens = TokenRepository(conn)
        self.volunteers = VolunteerRepository(conn)
        self.requests = RequestRepository(conn)
        self.audit = AuditLog(conn)
        self.idempotency = IdempotencyKeys(conn)
        self.imports = ImportRepository(conn)
        self.people = PersonRepository(conn)
        self.account_links = AccountLinkRepository(conn)
        self.web_sessions = WebSessionRepository(conn)
        self.sign_in_failures = SignInFailures(conn)
        self.visits = VisitRepository(conn)
        self.follow_ups = FollowUpRepository(conn)
        self.digests = DigestRepository(conn)
        self.providers = ProviderRepository(conn)
        self.referrals = ReferralRepository(conn)

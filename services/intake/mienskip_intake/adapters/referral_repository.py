"""Care providers and referrals (domain.referrals): reading and writing them as domain records."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ..domain.model import Principal, Role
from ..domain.referrals import Provider, Referral, ReferralStatus
from . import tables as t

_PROVIDER_COLUMNS = [f.name for f in fields(Provider)]
_REFERRAL_COLUMNS = [f.name for f in fields(Referral)]


def provider_from_row(mapping) -> Provider:
    return Provider(**{name: mapping[name] for name in _PROVIDER_COLUMNS})


def referral_from_row(mapping) -> Referral:
    return Referral(**{name: mapping[name] for name in _REFERRAL_COLUMNS})


class ProviderRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, provider: Provider) -> None:
        self.conn.execute(insert(t.providers).values({name: getattr(provider, name) for name in _PROVIDER_COLUMNS}))

    def get(self, provider_id: str) -> Provider | None:
        row = self.conn.execute(select(t.providers).where(t.providers.c.id == provider_id)).first()
        return None if row is None else provider_from_row(row._mapping)

    def save(self, provider: Provider) -> None:
        self.conn.execute(update(t.providers).where(t.providers.c.id == provider.id).values(
            {name: getattr(provider, name) for name in _PROVIDER_COLUMNS if name not in ("id", "created_at")}))

    def visible_to(self, principal: Principal) -> list[Provider]:
        """A coordinator's region's providers; a kamer's region's that serve it. By name."""
        p = t.providers
        query = select(p).order_by(p.c.name, p.c.id)
        if principal.role is Role.COORDINATOR:
            query = query.where(p.c.region == principal.region) if principal.region else query
        elif principal.role is Role.KAMER:  # a staff member's principal names the kamer, not always its region
            region = self.conn.execute(select(t.kamers.c.region).where(t.kamers.c.id == principal.kamer_id)).scalar()
            query = query.where(p.c.region == region)
        else:
            return []
        found = [provider_from_row(row._mapping) for row in self.conn.execute(query)]
        if principal.role is Role.KAMER:
            found = [provider for provider in found if not provider.kamer_ids or principal.kamer_id in provider.kamer_ids]
        return found


class ReferralRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, referral: Referral) -> None:
        self.conn.execute(insert(t.referrals).values({name: getattr(referral, name) for name in _REFERRAL_COLUMNS}))

    def get(self, referral_id: str, *, lock: bool = False) -> Referral | None:
        query = select(t.referrals).where(t.referrals.c.id == referral_id)
        row = self.conn.execute(query.with_for_update() if lock else query).first()
        return None if row is None else referral_from_row(row._mapping)

    def current_of(self, request_id: str) -> Referral | None:
        """The request's newest referral, if any."""
        r = t.referrals
        row = self.conn.execute(select(r).where(r.c.request_id == request_id)
                                .order_by(r.c.sent_at.desc(), r.c.id.desc()).limit(1)).first()
        return None if row is None else referral_from_row(row._mapping)

    def of_request(self, request_id: str) -> list[Referral]:
        r = t.referrals
        return [referral_from_row(row._mapping) for row in self.conn.execute(
            select(r).where(r.c.request_id == request_id).order_by(r.c.sent_at, r.c.id))]

    def move(self, referral: Referral, was: str) -> bool:
        """Store a changed referral only if it still has the status that was read (two
        answers at once: one wins). False for the one that lost."""
        r = t.referrals
        values = {name: getattr(referral, name) for name in _REFERRAL_COLUMNS if name != "id"}
        return self.conn.execute(update(r).where(r.c.id == referral.id, r.c.status == was)
                                 .values(values)).rowcount == 1

    def due_before(self, now: datetime, batch: int) -> list[Referral]:
        """Sent, unanswered and past their due time (rows another replica holds are skipped)."""
        r = t.referrals
        rows = self.conn.execute(select(r).where(r.c.status == ReferralStatus.SENT.value, r.c.due_at <= now)
                                 .order_by(r.c.due_at, r.c.id).limit(batch).with_for_update(skip_locked=True))
        return [referral_from_row(row._mapping) for row in rows]

    def erase_for_request(self, request_id: str) -> None:
        self.conn.execute(update(t.referrals).where(t.referrals.c.request_id == request_id)
                          .values(note=None, answer_note=None, reason=None, who=None))

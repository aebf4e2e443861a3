"""People's accounts, their links, the pages' sessions and failed sign-ins, as the
domain's dataclasses (``domain.accounts``); and the argon2 password hasher."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from ..domain.accounts import AccountLink, LinkPurpose, Person, PersonRole, WebSession
from . import tables as t


class Argon2Passwords:
    """argon2id through argon2-cffi, at its current recommended parameters; a hash made
    with older parameters is flagged for rehashing at the next sign-in."""

    def __init__(self, hasher: PasswordHasher | None = None):
        self._hasher = hasher or PasswordHasher()

    @cached_property
    def _decoy(self) -> str:
        """What an unknown e-mail's password is checked against: the same work as a real
        one. Made at the first such sign-in, not when the app starts (a hash is ~0.1 s)."""
        return self._hasher.hash("a password nobody has")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


class PersonRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def _kamers(self, user_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        rows = self.conn.execute(select(t.user_kamers).where(t.user_kamers.c.user_id.in_(list(user_ids)))
                                 .order_by(t.user_kamers.c.position))
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row.user_id, []).append(row.kamer_id)
        return {user_id: tuple(kamers) for user_id, kamers in found.items()}

    def _person(self, row, kamers: dict[str, tuple[str, ...]] | None = None) -> Person:
        kamers = self._kamers([row.id]) if kamers is None else kamers
        return Person(id=row.id, email=row.email, role=PersonRole(row.role), region=row.region,
                      kamer_ids=kamers.get(row.id, ()), display_name=row.display_name,
                      lead=row.lead, password_hash=row.password_hash, active=row.active,
                      created_at=row.created_at, last_sign_in_at=row.last_sign_in_at)

    def add(self, person: Person) -> None:
        self.conn.execute(insert(t.users).values(
            id=person.id, email=person.email, display_name=person.display_name, role=person.role.value,
            region=person.region, lead=person.lead, password_hash=person.password_hash, active=person.active,
            created_at=person.created_at, last_sign_in_at=person.last_sign_in_at))
        for position, kamer_id in enumerate(person.kamer_ids):
            self.conn.execute(insert(t.user_kamers).values(user_id=person.id, kamer_id=kamer_id, position=position))

    def get(self, user_id: str) -> Person | None:
        row = self.conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
        return None if row is None else self._person(row)

    def by_email(self, email: str) -> Person | None:
        row = self.conn.execute(select(t.users).where(t.users.c.email == email)).first()
        return None if row is None else self._person(row)

    def listing(self, *, region: str | None = None, kamer_id: str | None = None) -> list[Person]:
        """People with pages (no operators), by e-mail: of a region (None: every region), or
        the staff of one kamer."""
        u = t.users
        query = select(u).where(u.c.role != PersonRole.OPERATOR.value).order_by(u.c.email)
        if kamer_id is not None:
            query = query.where(u.c.id.in_(select(t.user_kamers.c.user_id).where(t.user_kamers.c.kamer_id == kamer_id)))
        elif region is not None:
            query = query.where(u.c.region == region)
        rows = self.conn.execute(query).all()
        kamers = self._kamers([row.id for row in rows])
        return [self._person(row, kamers) for row in rows]

    def set_password(self, user_id: str, password_hash: str) -> None:
        self.conn.execute(update(t.users).where(t.users.c.id == user_id).values(password_hash=password_hash))

    def signed_in(self, user_id: str, at: datetime) -> None:
        self.conn.execute(update(t.users).where(t.users.c.id == user_id).values(last_sign_in_at=at))

    def set_active(self, user_id: str, active: bool) -> bool:
        return self.conn.execute(update(t.users).where(t.users.c.id == user_id).values(active=active)).rowcount == 1


class AccountLinkRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, link: AccountLink) -> None:
        self.conn.execute(insert(t.account_links).values(
            secret_hash=link.secret_hash, user_id=link.user_id, purpose=link.purpose.value,
            created_at=link.created_at, expires_at=link.expires_at, used_at=link.used_at))

    def get(self, secret_hash: str, *, lock: bool = False) -> AccountLink | None:
        query = select(t.account_links).where(t.account_links.c.secret_hash == secret_hash)
        row = self.conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            return None
        return AccountLink(secret_hash=row.secret_hash, user_id=row.user_id, purpose=LinkPurpose(row.purpose),
                           created_at=row.created_at, expires_at=row.expires_at, used_at=row.used_at)

    def use(self, secret_hash: str, at: datetime) -> bool:
        """Mark it used; False if it was used already (single use, even in a race)."""
        a = t.account_links
        return self.conn.execute(update(a).where(a.c.secret_hash == secret_hash, a.c.used_at.is_(None))
                                 .values(used_at=at)).rowcount == 1

    def forget_expired_before(self, cutoff: datetime) -> int:
        a = t.account_links
        return self.conn.execute(delete(a).where(a.c.expires_at < cutoff)).rowcount

    def end_all(self, user_id: str, at: datetime) -> None:
        """Every open link of the person stops working (a newer one was sent, or used)."""
        a = t.account_links
        self.conn.execute(update(a).where(a.c.user_id == user_id, a.c.used_at.is_(None)).values(used_at=at))


class WebSessionRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    @staticmethod
    def _session(row) -> WebSession:
        return WebSession(id_hash=row.id_hash, created_at=row.created_at, last_seen_at=row.last_seen_at,
                          user_id=row.user_id, token_id=row.token_id, kamer_id=row.kamer_id, ended_at=row.ended_at)

    def add(self, session: WebSession) -> None:
        self.conn.execute(insert(t.web_sessions).values(
            id_hash=session.id_hash, user_id=session.user_id, token_id=session.token_id, kamer_id=session.kamer_id,
            created_at=session.created_at, last_seen_at=session.last_seen_at, ended_at=session.ended_at))

    def get(self, id_hash: str) -> WebSession | None:
        row = self.conn.execute(select(t.web_sessions).where(t.web_sessions.c.id_hash == id_hash)).first()
        return None if row is None else self._session(row)

    def of_user(self, user_id: str) -> list[WebSession]:
        s = t.web_sessions
        rows = self.conn.execute(select(s).where(s.c.user_id == user_id, s.c.ended_at.is_(None))
                                 .order_by(s.c.last_seen_at.desc()))
        return [self._session(row) for row in rows]

    def touch(self, id_hash: str, at: datetime) -> None:
        s = t.web_sessions
        self.conn.execute(update(s).where(s.c.id_hash == id_hash).values(last_seen_at=at))

    def choose_kamer(self, id_hash: str, kamer_id: str) -> None:
        s = t.web_sessions
        self.conn.execute(update(s).where(s.c.id_hash == id_hash).values(kamer_id=kamer_id))

    def end(self, id_hash: str, at: datetime) -> None:
        s = t.web_sessions
        self.conn.execute(update(s).where(s.c.id_hash == id_hash, s.c.ended_at.is_(None)).values(ended_at=at))

    def end_for_user(self, user_id: str, at: datetime) -> int:
        s = t.web_sessions
        return self.conn.execute(update(s).where(s.c.user_id == user_id, s.c.ended_at.is_(None))
                                 .values(ended_at=at)).rowcount

    def forget_before(self, cutoff: datetime) -> int:
        """Delete sessions that ended, or began, before ``cutoff`` (dead either way)."""
        s = t.web_sessions
        return self.conn.execute(delete(s).where(or_(s.c.ended_at < cutoff, s.c.created_at < cutoff))).rowcount

    def end_for_token(self, token_id: str, at: datetime) -> int:
        s = t.web_sessions
        return self.conn.execute(update(s).where(s.c.token_id == token_id, s.c.ended_at.is_(None))
                                 .values(ended_at=at)).rowcount


class SignInFailures:
    """Failed sign-ins, per account (a hash of the e-mail) and per client address."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, email_key: str | None, address: str, at: datetime) -> None:
        self.conn.execute(insert(t.sign_in_failures).values(email_key=email_key, address=address[:64], at=at))

    def of_account(self, email_key: str, since: datetime) -> list[datetime]:
        f = t.sign_in_failures
        return [r.at for r in self.conn.execute(select(f.c.at).where(f.c.email_key == email_key, f.c.at >= since))]

    def of_address(self, address: str, since: datetime) -> list[datetime]:
        f = t.sign_in_failures
        return [r.at for r in self.conn.execute(select(f.c.at).where(f.c.address == address[:64], f.c.at >= since))]

    def count_of_address(self, address: str, since: datetime) -> int:
        f = t.sign_in_failures
        return self.conn.execute(select(func.count()).select_from(f).where(
            f.c.address == address[:64], f.c.at >= since)).scalar_one()

    def forget_before(self, cutoff: datetime) -> None:
        self.conn.execute(delete(t.sign_in_failures).where(t.sign_in_failures.c.at < cutoff))

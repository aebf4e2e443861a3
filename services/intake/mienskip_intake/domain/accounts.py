"""People's own accounts for the pages: who they are, their passwords, the links that
invite them or reset a password, their sessions, and the rules against guessing.

Stdlib only. The hashing itself (argon2) is a port the service layer is given; here are
the rules: what a good password is, when an account is locked, how long a sign-in is
slowed down, when a session or a link has run out.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from .model import Principal, Role


class PersonRole(StrEnum):
    """What a person is on the pages; each maps onto the API's :class:`Role`."""

    STAFF = "staff"  # a kamer's staff (of one kamer or several)
    COORDINATOR = "coordinator"  # a region's coordinator
    OPERATOR = "operator"  # runs the system: no personal data, so no pages

    @property
    def role(self) -> Role:
        return {PersonRole.STAFF: Role.KAMER, PersonRole.COORDINATOR: Role.COORDINATOR,
                PersonRole.OPERATOR: Role.OPERATOR}[self]


@dataclass(frozen=True)
class Person:
    """A person with an account. ``kamer_ids``: the kamers a staff member works for
    (the pages act for the first, or the one chosen); ``lead`` may invite that kamer's staff."""

    id: str
    email: str  # normalised: trimmed, lower case (unique)
    role: PersonRole
    region: str | None
    kamer_ids: tuple[str, ...] = ()
    display_name: str | None = None
    lead: bool = False
    password_hash: str | None = None  # None until the invitation is used
    active: bool = True
    created_at: datetime | None = None
    last_sign_in_at: datetime | None = None

    @property
    def name(self) -> str:
        return self.display_name or self.email

    def principal(self, kamer_id: str | None = None) -> Principal:
        """Who this person is to the service layer; staff act for one of their kamers."""
        chosen = kamer_id if kamer_id in self.kamer_ids else (self.kamer_ids[0] if self.kamer_ids else None)
        return Principal(token_id=None, role=self.role.role, kamer_id=chosen if self.role is PersonRole.STAFF
                         else None, region=self.region, user_id=self.id, name=self.name,
                         lead=self.lead and self.role is PersonRole.STAFF,
                         kamers=self.kamer_ids if self.role is PersonRole.STAFF else ())

    def may_invite(self, role: PersonRole, kamer_id: str | None, kamer_region: str | None) -> bool:
        """A coordinator invites staff of their region's kamers; a kamer's lead its own staff."""
        if not self.active or role is not PersonRole.STAFF or kamer_id is None:
            return False
        if self.role is PersonRole.COORDINATOR:
            return self.region is None or self.region == kamer_region
        return self.role is PersonRole.STAFF and self.lead and kamer_id in self.kamer_ids


def visible_to(by: Principal, person: Person) -> bool:
    """Whom the people page shows: a coordinator their region's staff and coordinators, a
    kamer's lead the staff of the kamer they work for now; never operators."""
    if person.role is PersonRole.OPERATOR:
        return False
    if by.role is Role.COORDINATOR:
        return by.region is None or person.region == by.region
    return by.role is Role.KAMER and by.lead and by.kamer_id in person.kamer_ids


def may_manage(by: Principal, person: Person) -> bool:
    """Who may deactivate or reactivate whom: anyone they are shown but themselves; a lead
    only staff all of whose kamers are the lead's own (deactivating shuts a person out of
    every kamer, so never out of one the lead does not run: the coordinator decides that)."""
    if not visible_to(by, person) or (by.user_id is not None and person.id == by.user_id):
        return False
    if by.role is Role.COORDINATOR:
        return True
    return person.role is PersonRole.STAFF and set(person.kamer_ids) <= set(by.kamers)


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$")


def normalise_email(address: str) -> str:
    return (address or "").strip().lower()


def valid_email(address: str) -> bool:
    return len(address) <= 320 and _EMAIL.match(address) is not None


def email_key(address: str) -> str:
    """What failed sign-ins are counted under: a hash, so an unknown address typed at
    the sign-in page is not stored."""
    return hashlib.sha256(normalise_email(address).encode()).hexdigest()


# -- passwords ------------------------------------------------------------------------

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # far above the 64 required; bounds the hashing work per attempt
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
_common: frozenset[str] | None = None


def common_passwords() -> frozenset[str]:
    global _common
    if _common is None:
        with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as f:
            _common = frozenset(line.strip().lower() for line in f if line.strip() and not line.startswith("#"))
    return _common


def _classes(password: str) -> int:
    kinds = (str.islower, str.isupper, str.isdigit)
    found = {i for c in password for i, kind in enumerate(kinds) if kind(c)}
    if any(not (c.islower() or c.isupper() or c.isdigit()) for c in password):
        found.add(len(kinds))  # spaces, punctuation, letters without case
    return len(found)


def password_problems(password: str, email: str) -> list[str]:
    """Why a new password will not do (codes, worded at the edge); empty when it is fine."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append("too_short")
    elif len(password) > MAX_PASSWORD:
        problems.append("too_long")
    if password and _classes(password) < 2:
        problems.append("one_kind")
    lowered = password.strip().lower()
    email = normalise_email(email)
    if lowered and (lowered == email or lowered == email.split("@", 1)[0]):
        problems.append("is_email")
    if lowered in common_passwords():
        problems.append("common")
    return problems


# -- links that invite or reset ----------------------------------------------------------

class LinkPurpose(StrEnum):
    INVITE = "invite"
    RESET = "reset"


LINK_LIFETIME = {LinkPurpose.INVITE: timedelta(days=7), LinkPurpose.RESET: timedelta(hours=1)}


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """Links and session ids are stored as this: a copy of the table opens nothing."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class AccountLink:
    secret_hash: str
    user_id: str
    purpose: LinkPurpose
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


# -- sessions -------------------------------------------------------------------------------

SESSION_IDLE = timedelta(minutes=30)
SESSION_ABSOLUTE = timedelta(hours=8)
SEEN_EVERY = timedelta(seconds=30)  # last_seen is written at most this often


@dataclass(frozen=True)
class WebSession:
    id_hash: str
    created_at: datetime
    last_seen_at: datetime
    user_id: str | None = None
    token_id: str | None = None
    kamer_id: str | None = None
    ended_at: datetime | None = None

    def alive(self, now: datetime, idle: timedelta = SESSION_IDLE, absolute: timedelta = SESSION_ABSOLUTE) -> bool:
        return (self.ended_at is None and now - self.last_seen_at < idle and now - self.created_at < absolute)

    def needs_touch(self, now: datetime) -> bool:
        return now - self.last_seen_at >= SEEN_EVERY


# -- guessing: lockout and slow-down ---------------------------------------------------------------

@dataclass(frozen=True)
class LockoutPolicy:
    """After ``account_failures`` within ``window`` an account is locked for ``lock_for``;
    an address gets ``address_failures`` in the same window, over all accounts. Each
    failure slows the next answer: ``base_delay`` doubling, at most ``max_delay``."""

    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)
    base_delay_s: float = 0.25
    max_delay_s: float = 2.0

    @property
    def remember(self) -> timedelta:
        """How far back failures matter."""
        return self.window + self.lock_for

    def locked(self, failures: list[datetime], now: datetime, limit: int | None = None) -> bool:
        """Locked while ``now`` is within ``lock_for`` of a failure that was the
        ``limit``-th within ``window``."""
        limit = limit or self.account_failures
        times = sorted(failures)
        for i in range(limit - 1, len(times)):
            if times[i] - times[i - limit + 1] <= self.window and now < times[i] + self.lock_for:
                return True
        return False

    def address_blocked(self, failures: list[datetime], now: datetime) -> bool:
        return self.locked(failures, now, self.address_failures)

    def delay_s(self, recent_failures: int) -> float:
        """How long to wait before answering after ``recent_failures`` failures."""
        if recent_failures <= 0:
            return 0.0
        return min(self.max_delay_s, self.base_delay_s * 2 ** min(recent_failures - 1, 16))

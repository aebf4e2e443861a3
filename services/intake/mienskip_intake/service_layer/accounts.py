"""People's accounts: invitations, passwords, signing in and out, sessions, lockout.

Plain functions of ``(command, uow, ...)`` like the other handlers; the clock (``now``),
the password hasher and the lockout policy are given, so tests choose them. Secrets
(link and session ids) leave here once, to the caller; only their hashes are stored.
An invitation or reset e-mail is an outbox event for notify in the same transaction
as the link it carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mienskip_shared.contracts import new_event

from ..domain import commands
from ..domain.accounts import (
    LINK_LIFETIME,
    SESSION_ABSOLUTE,
    AccountLink,
    LinkPurpose,
    LockoutPolicy,
    Person,
    PersonRole,
    WebSession,
    email_key,
    may_manage,
    new_secret,
    normalise_email,
    password_problems,
    secret_hash,
    valid_email,
    visible_to,
)
from ..domain.model import Principal, Role
from .common import SYSTEM, Conflict, NotFound, audit, new_id
from .unit_of_work import Passwords, UnitOfWork

LINK_PATH = "/account/password/"


class InvalidInvitation(ValueError):
    """The invitation cannot be made as asked; ``field`` names what is wrong."""

    def __init__(self, field: str, problem: str):
        super().__init__(problem)
        self.field, self.problem = field, problem


class WeakPassword(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__(", ".join(problems))
        self.problems = problems


class LinkNotUsable(Exception):
    """Unknown, used or expired: the three look the same."""


@dataclass(frozen=True)
class Invited:
    user_id: str
    link: str
    expires_at: datetime


@dataclass(frozen=True)
class SignInOutcome:
    """``session_id`` when signed in; else ``delay_s``, how long to wait before answering;
    ``no_pages``: the right password of an operator, who has no pages (no personal data)."""

    session_id: str | None = None
    principal: Principal | None = None
    delay_s: float = 0.0
    no_pages: bool = False


def _link(uow: UnitOfWork, person: Person, purpose: LinkPurpose, link_base: str, language: str,
          now: datetime) -> tuple[str, datetime]:
    """A fresh single-use link for ``person`` (earlier open ones stop working), and the
    e-mail notify sends with it."""
    secret = new_secret()
    expires_at = now + LINK_LIFETIME[purpose]
    uow.account_links.end_all(person.id, now)
    uow.account_links.add(AccountLink(secret_hash(secret), person.id, purpose, now, expires_at))
    link = link_base.rstrip("/") + LINK_PATH + secret
    event_type = "user.invited" if purpose is LinkPurpose.INVITE else "user.password_reset"
    uow.publish(new_event(event_type, {"email": person.email, "language": language, "link": link,
                                       "expires_at": expires_at},
                          correlation_id=person.id, kamer_id=person.kamer_ids[0] if person.kamer_ids else None))
    return link, expires_at


def invite(cmd: commands.InvitePerson, uow: UnitOfWork, now: datetime) -> Invited:
    """A new person (or again, one who has not set a password yet) gets an invitation link."""
    email = normalise_email(cmd.email)
    if not valid_email(email):
        raise InvalidInvitation("email", "not an e-mail address")
    try:
        role = PersonRole(cmd.role)
    except ValueError:
        raise InvalidInvitation("role", "staff, coordinator or operator") from None
    kamer_ids = tuple(dict.fromkeys(k for k in cmd.kamer_ids if k))
    region = cmd.region
    with uow:
        kamers = []
        for kamer_id in kamer_ids:
            kamer = uow.kamers.get(kamer_id)
            if kamer is None:
                raise InvalidInvitation("kamer", "no such kamer")
            kamers.append(kamer)
        if role is PersonRole.STAFF:
            if not kamers:
                raise InvalidInvitation("kamer", "staff belong to a kamer")
            if len({k.region for k in kamers}) > 1:
                raise InvalidInvitation("kamer", "the kamers are in different regions")
            region = kamers[0].region
        elif kamers:
            raise InvalidInvitation("kamer", "only staff belong to a kamer")
        elif role is PersonRole.COORDINATOR and not region:
            raise InvalidInvitation("region", "a coordinator has a region")
        if cmd.by is not None and not _may_invite(uow, cmd.by, role, kamers):
            raise PermissionError("may not invite this person")
        existing = uow.people.by_email(email)
        if existing is not None:
            if existing.password_hash is not None or existing.role is not role:
                raise Conflict("account_exists", "this e-mail address has an account already")
            person = existing
        else:
            person = Person(id=new_id(), email=email, role=role, region=region, kamer_ids=kamer_ids,
                            display_name=(cmd.display_name or "").strip() or None,
                            lead=cmd.lead and role is PersonRole.STAFF, created_at=now)
            uow.people.add(person)
        link, expires_at = _link(uow, person, LinkPurpose.INVITE, cmd.link_base, cmd.language, now)
        uow.commit()
    return Invited(person.id, link, expires_at)


def _may_invite(uow: UnitOfWork, by: Principal, role: PersonRole, kamers: list) -> bool:
    if by.user_id is None:  # a coordinator's API token signed in to the pages (the demo)
        return by.role is Role.COORDINATOR and role is PersonRole.STAFF and bool(kamers) and all(
            by.region is None or k.region == by.region for k in kamers)
    inviter = uow.people.get(by.user_id)
    return inviter is not None and bool(kamers) and all(inviter.may_invite(role, k.id, k.region) for k in kamers)


def link_person(secret: str, uow: UnitOfWork, now: datetime) -> Person:
    """Whose link this is, if it can still be used; else :class:`LinkNotUsable`."""
    with uow:
        link = uow.account_links.get(secret_hash(secret))
        person = uow.people.get(link.user_id) if link is not None and link.usable(now) else None
        if person is None or not person.active:
            raise LinkNotUsable()
        return person


def set_password(cmd: commands.SetPassword, uow: UnitOfWork, passwords: Passwords, now: datetime) -> str:
    """Use an invitation or reset link: the person's new password; every session they
    had ends (someone else may have had the old one). Returns the person's id."""
    with uow:
        link = uow.account_links.get(secret_hash(cmd.secret), lock=True)
        person = uow.people.get(link.user_id) if link is not None and link.usable(now) else None
        if person is None or not person.active:
            raise LinkNotUsable()
        problems = password_problems(cmd.password, person.email)
        if problems:
            raise WeakPassword(problems)
        if not uow.account_links.use(link.secret_hash, now):
            raise LinkNotUsable()  # used meanwhile, by another tab
        uow.account_links.end_all(person.id, now)
        uow.people.set_password(person.id, passwords.hash(cmd.password))
        uow.web_sessions.end_for_user(person.id, now)
        uow.commit()
    return person.id


def forgot_password(cmd: commands.ForgotPassword, uow: UnitOfWork, now: datetime) -> None:
    """A reset link by e-mail if the address has an active account; nothing otherwise.
    The caller answers the same either way."""
    email = normalise_email(cmd.email)
    if not valid_email(email):
        return
    with uow:
        person = uow.people.by_email(email)
        if person is None or not person.active or person.password_hash is None:
            return
        _link(uow, person, LinkPurpose.RESET, cmd.link_base, cmd.language, now)
        uow.commit()


def _start_session(uow: UnitOfWork, now: datetime, *, user_id: str | None = None, token_id: str | None = None,
                   kamer_id: str | None = None) -> str:
    session_id = new_secret()  # a new id at every sign-in: no fixation
    uow.web_sessions.add(WebSession(secret_hash(session_id), now, now, user_id=user_id, token_id=token_id,
                                    kamer_id=kamer_id))
    return session_id


def sign_in(cmd: commands.SignIn, uow: UnitOfWork, passwords: Passwords, policy: LockoutPolicy,
            now: datetime) -> SignInOutcome:
    """E-mail and password. A wrong password, an unknown or inactive account, a locked
    account and a blocked address all fail alike; each failure is counted per account and
    per address, and says how long to wait before answering."""
    key = email_key(cmd.email)
    since = now - policy.remember
    with uow:
        account_failures = uow.sign_in_failures.of_account(key, since)
        address_failures = uow.sign_in_failures.of_address(cmd.address, since)
        blocked = policy.locked(account_failures, now) or policy.address_blocked(address_failures, now)
        person = uow.people.by_email(normalise_email(cmd.email))
        # the hash is checked even when the answer is no already: the same time either way
        right = passwords.verify(person.password_hash if person else None, cmd.password[:4096])
        if blocked or not right or person is None or not person.active:
            uow.sign_in_failures.add(key, cmd.address, now)
            uow.sign_in_failures.forget_before(now - policy.remember)
            uow.commit()
            recent = sum(1 for at in account_failures if at > now - policy.window) + 1
            return SignInOutcome(delay_s=policy.delay_s(recent))
        if person.role is PersonRole.OPERATOR:
            return SignInOutcome(no_pages=True)
        if passwords.needs_rehash(person.password_hash):
            uow.people.set_password(person.id, passwords.hash(cmd.password))
        uow.people.signed_in(person.id, now)
        principal = person.principal()
        session_id = _start_session(uow, now, user_id=person.id, kamer_id=principal.kamer_id)
        uow.commit()
    return SignInOutcome(session_id=session_id, principal=principal)


def token_failure(address: str, uow: UnitOfWork, policy: LockoutPolicy, now: datetime) -> float:
    """A wrong API token typed at the demo's sign-in page: counted per address; the delay."""
    with uow:
        uow.sign_in_failures.add(None, address, now)
        recent = len(uow.sign_in_failures.of_address(address, now - policy.window))
        uow.commit()
    return policy.delay_s(recent)


def address_blocked(address: str, uow: UnitOfWork, policy: LockoutPolicy, now: datetime) -> bool:
    with uow:
        return policy.address_blocked(uow.sign_in_failures.of_address(address, now - policy.remember), now)


def sign_in_with_token(principal: Principal, uow: UnitOfWork, now: datetime) -> str:
    """The demo's sign-in with an API token: a server-side session like a person's."""
    with uow:
        session_id = _start_session(uow, now, token_id=principal.token_id, kamer_id=principal.kamer_id)
        uow.commit()
    return session_id


def current(session_id: str | None, uow: UnitOfWork, now: datetime) -> Principal | None:
    """Who holds this session now: None once it ended (logout, sign-out everywhere, a
    removed person, a revoked token) or ran out (idle, or too old)."""
    if not session_id:
        return None
    id_hash = secret_hash(session_id)
    with uow:
        session = uow.web_sessions.get(id_hash)
        if session is None or session.ended_at is not None:
            return None
        principal = None
        if session.alive(now):
            if session.user_id is not None:
                person = uow.people.get(session.user_id)
                principal = person.principal(session.kamer_id) if person is not None and person.active else None
            elif session.token_id is not None:
                principal = uow.tokens.principal_of(session.token_id)
        if principal is None:
            uow.web_sessions.end(id_hash, now)
        elif session.needs_touch(now):
            uow.web_sessions.touch(id_hash, now)
        uow.commit()
    return principal


def choose_kamer(session_id: str | None, kamer_id: str, uow: UnitOfWork, now: datetime) -> None:
    """Staff of several kamers: the pages of this session act for ``kamer_id`` from now on
    (remembered with the session on the server, so every tab follows). Only one of the
    person's own kamers, in a session still open; else :class:`PermissionError`, nothing changed."""
    id_hash = secret_hash(session_id or "")
    with uow:
        session = uow.web_sessions.get(id_hash) if session_id else None
        person = uow.people.get(session.user_id) if session is not None and session.user_id else None
        if (person is None or not person.active or not session.alive(now) or person.role is not PersonRole.STAFF
                or kamer_id not in person.kamer_ids):
            raise PermissionError("not one of this person's kamers")
        uow.web_sessions.choose_kamer(id_hash, kamer_id)
        uow.commit()


def sign_out(session_id: str | None, uow: UnitOfWork, now: datetime) -> None:
    if not session_id:
        return
    with uow:
        uow.web_sessions.end(secret_hash(session_id), now)
        uow.commit()


def sign_out_everywhere(user_id: str, uow: UnitOfWork, now: datetime) -> int:
    with uow:
        ended = uow.web_sessions.end_for_user(user_id, now)
        uow.commit()
    return ended


def sessions_of(user_id: str, uow: UnitOfWork, now: datetime) -> list[WebSession]:
    """The person's sessions still open (newest use first)."""
    with uow:
        return [s for s in uow.web_sessions.of_user(user_id) if s.alive(now)]


def people(by: Principal, uow: UnitOfWork) -> list[tuple[Person, bool]]:
    """The people page: whom ``by`` is shown (``domain.accounts.visible_to``), each with
    whether ``by`` may deactivate or reactivate them. Others than coordinators and kamer
    leads: :class:`PermissionError`."""
    if by.role is Role.COORDINATOR:
        scope = {"region": by.region}
    elif by.role is Role.KAMER and by.lead and by.kamer_id:
        scope = {"kamer_id": by.kamer_id}
    else:
        raise PermissionError("the people page is for coordinators and kamer leads")
    with uow:
        return [(person, may_manage(by, person)) for person in uow.people.listing(**scope)]


def _set_active(user_id: str, by: Principal | None, active: bool, uow: UnitOfWork, now: datetime) -> None:
    with uow:
        if by is not None:
            person = uow.people.get(user_id)
            if person is None or not visible_to(by, person):
                raise NotFound(f"person {user_id}")
            if not may_manage(by, person):
                raise PermissionError("may not deactivate or reactivate this person")
        if not uow.people.set_active(user_id, active):
            raise NotFound(f"person {user_id}")
        if not active:
            uow.web_sessions.end_for_user(user_id, now)
            uow.account_links.end_all(user_id, now)
        audit(uow, by or SYSTEM, "deactivate" if not active else "reactivate", "person", user_id)
        uow.commit()


def deactivate(cmd: commands.DeactivatePerson, uow: UnitOfWork, now: datetime) -> None:
    """The person can no longer sign in, and every session of theirs ends at once (from the
    command line, or ``cmd.by`` from the people page: checked, and named in the audit log)."""
    _set_active(cmd.user_id, cmd.by, False, uow, now)


def reactivate(cmd: commands.ReactivatePerson, uow: UnitOfWork, now: datetime) -> None:
    """The person may sign in again (with their password; their old sessions stay ended)."""
    _set_active(cmd.user_id, cmd.by, True, uow, now)


def forget_dead_sessions_and_links(uow: UnitOfWork, now: datetime) -> int:
    """Housekeeping: sessions and links that cannot be used any more go after a day (a
    session begun that long ago is past its 8 hours in any case)."""
    cutoff = now - max(timedelta(days=1), SESSION_ABSOLUTE)
    with uow:
        gone = uow.web_sessions.forget_before(cutoff) + uow.account_links.forget_expired_before(cutoff)
        uow.commit()
    return gone


def person(user_id: str, uow: UnitOfWork) -> Person | None:
    with uow:
        return uow.people.get(user_id)

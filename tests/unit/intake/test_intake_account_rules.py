"""People's accounts, as rules: the password policy, lockout and slow-down, sessions'
and links' lifetimes, who may invite whom, and how a person is named in history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mienskip_intake.domain.accounts import (
    AccountLink,
    LinkPurpose,
    LockoutPolicy,
    Person,
    PersonRole,
    WebSession,
    email_key,
    may_manage,
    normalise_email,
    password_problems,
    valid_email,
    visible_to,
)
from mienskip_intake.domain.model import Principal, Role

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
EMAIL = "hiltsje.bouma@example.org"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# -- passwords ----------------------------------------------------------------------------------

@pytest.mark.parametrize("password", [
    "Fryske greidfûgels 2026",  # a sentence with a space, digits and ĉ-style letters
    "tsjerkepaed-dyk-9001",
    "x" * 63 + "1",  # long is fine, no maximum under 64
    "Ab1" * 43,  # 129 characters
])
def test_good_passwords_pass(password):
    assert password_problems(password, EMAIL) == []


@pytest.mark.parametrize("password, problem", [
    ("Kort1!", "too_short"),
    ("abcdefghijklmnop", "one_kind"),  # sixteen lower-case letters only
    ("123456789012345", "one_kind"),
    ("Wachtwoord1234", "common"),  # in the shipped list, whatever its case
    ("Leeuwarden123", "common"),
    (EMAIL, "is_email"),
    (EMAIL.upper(), "is_email"),
    ("hiltsje.bouma", "is_email"),  # the part before the @
    ("a1" * 600, "too_long"),
])
def test_weak_passwords_say_why(password, problem):
    assert problem in password_problems(password, EMAIL)


def test_an_empty_password_is_too_short_only():
    assert password_problems("", EMAIL) == ["too_short"]


def test_email_addresses_are_compared_trimmed_and_in_lower_case():
    assert normalise_email("  Hiltsje.Bouma@Example.ORG ") == EMAIL
    assert email_key("HILTSJE.BOUMA@example.org") == email_key(EMAIL)
    assert valid_email(EMAIL) and not valid_email("hiltsje") and not valid_email("a@b") and not valid_email("a b@c.nl")


# -- lockout and slow-down ---------------------------------------------------------------------------

def test_five_failures_in_fifteen_minutes_lock_the_account_for_fifteen_minutes():
    policy = LockoutPolicy()
    failures = [NOW + minutes(i) for i in range(5)]  # the fifth at 10:04
    assert not policy.locked(failures[:4], NOW + minutes(4))
    assert policy.locked(failures, NOW + minutes(5))
    assert policy.locked(failures, NOW + minutes(18.9))
    assert not policy.locked(failures, NOW + minutes(19.1))  # 15 minutes after the fifth


def test_failures_spread_wider_than_the_window_do_not_lock():
    policy = LockoutPolicy()
    failures = [NOW + minutes(5 * i) for i in range(5)]  # 20 minutes from first to fifth
    assert not policy.locked(failures, NOW + minutes(21))


def test_an_address_gets_a_stricter_cap_on_the_total_over_all_accounts():
    policy = LockoutPolicy(address_failures=20)
    failures = [NOW + timedelta(seconds=10 * i) for i in range(20)]
    assert not policy.address_blocked(failures[:19], NOW + minutes(4))
    assert policy.address_blocked(failures, NOW + minutes(4))


def test_each_failure_slows_the_answer_more_up_to_a_bound():
    policy = LockoutPolicy(base_delay_s=0.25, max_delay_s=2.0)
    assert [policy.delay_s(n) for n in range(7)] == [0.0, 0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert policy.delay_s(10_000) == 2.0
    assert LockoutPolicy(max_delay_s=0).delay_s(5) == 0


# -- sessions and links -------------------------------------------------------------------------------

def test_a_session_ends_after_thirty_idle_minutes_or_eight_hours_in_all():
    session = WebSession("h", created_at=NOW, last_seen_at=NOW, user_id="u")
    assert session.alive(NOW + minutes(29))
    assert not session.alive(NOW + minutes(30))
    busy = WebSession("h", created_at=NOW, last_seen_at=NOW + timedelta(hours=7, minutes=59), user_id="u")
    assert busy.alive(NOW + timedelta(hours=7, minutes=59, seconds=30))
    assert not busy.alive(NOW + timedelta(hours=8))
    assert not WebSession("h", NOW, NOW, ended_at=NOW).alive(NOW)


def test_a_link_works_once_and_not_after_it_expires():
    link = AccountLink("h", "u", LinkPurpose.RESET, NOW, NOW + timedelta(hours=1))
    assert link.usable(NOW + minutes(59))
    assert not link.usable(NOW + minutes(60))
    assert not AccountLink("h", "u", LinkPurpose.INVITE, NOW, NOW + timedelta(days=7), used_at=NOW).usable(NOW)


# -- who may invite, and who acted --------------------------------------------------------------------

def person(role: PersonRole, **kwargs) -> Person:
    return Person(id="p1", email=EMAIL, role=role, region="leeuwarden", **kwargs)


def test_a_coordinator_invites_staff_of_their_regions_kamers_only():
    coordinator = person(PersonRole.COORDINATOR)
    assert coordinator.may_invite(PersonRole.STAFF, "k1", "leeuwarden")
    assert not coordinator.may_invite(PersonRole.STAFF, "k9", "sneek")
    assert not coordinator.may_invite(PersonRole.COORDINATOR, None, None)


def test_a_kamer_lead_invites_its_own_staff_and_other_staff_nobody():
    lead = person(PersonRole.STAFF, kamer_ids=("k1", "k2"), lead=True)
    assert lead.may_invite(PersonRole.STAFF, "k2", "leeuwarden")
    assert not lead.may_invite(PersonRole.STAFF, "k3", "leeuwarden")
    assert not person(PersonRole.STAFF, kamer_ids=("k1",)).may_invite(PersonRole.STAFF, "k1", "leeuwarden")
    assert not person(PersonRole.STAFF, kamer_ids=("k1",), lead=True, active=False).may_invite(
        PersonRole.STAFF, "k1", "leeuwarden")


def test_staff_act_as_a_kamer_of_theirs_and_history_names_the_person():
    staff = person(PersonRole.STAFF, kamer_ids=("k1", "k2"), display_name="Hiltsje")
    principal = staff.principal()
    assert principal.role is Role.KAMER and principal.kamer_id == "k1" and principal.token_id is None
    assert staff.principal("k2").kamer_id == "k2" and staff.principal("elsewhere").kamer_id == "k1"
    assert principal.actor == principal.credential == "user:p1" and principal.name == "Hiltsje"
    token = Principal(token_id="t1", role=Role.COORDINATOR)
    assert token.actor == "coordinator:t1" and token.credential == "token:t1"  # tokens as before


def test_who_is_shown_on_the_people_page_and_who_may_be_deactivated():
    anna = Person("u1", "anna@x.org", PersonRole.STAFF, "leeuwarden", ("k1",))
    both = Person("u2", "both@x.org", PersonRole.STAFF, "leeuwarden", ("k1", "k2"))
    boss = Person("u3", "boss@x.org", PersonRole.COORDINATOR, "leeuwarden")
    far = Person("u4", "far@x.org", PersonRole.COORDINATOR, "sudwest-fryslan")
    operator = Person("u5", "ops@x.org", PersonRole.OPERATOR, None)
    coordinator = boss.principal()
    assert [visible_to(coordinator, p) for p in (anna, both, boss, far, operator)] == [True, True, True, False, False]
    assert [may_manage(coordinator, p) for p in (anna, both, boss, far)] == [True, True, False, False]  # not oneself
    lead = Person("u6", "lead@x.org", PersonRole.STAFF, "leeuwarden", ("k1",), lead=True)
    assert [may_manage(lead.principal(), p) for p in (anna, both, boss, lead)] == [True, False, False, False]
    assert visible_to(lead.principal(), both) and not visible_to(lead.principal(), boss)
    assert not visible_to(anna.principal(), both)  # staff who are no lead see nobody
    token = Principal(token_id="t1", role=Role.COORDINATOR, region="leeuwarden")  # the demo's token sign-in
    assert may_manage(token, boss) and not may_manage(token, far)


def test_staff_act_for_the_chosen_kamer_if_it_is_theirs():
    both = Person("u2", "both@x.org", PersonRole.STAFF, "leeuwarden", ("k1", "k2"))
    assert both.principal().kamer_id == "k1" and both.principal("k2").kamer_id == "k2"
    assert both.principal("k9").kamer_id == "k1" and both.principal().kamers == ("k1", "k2")
    assert Person("u3", "boss@x.org", PersonRole.COORDINATOR, "leeuwarden").principal().kamers == ()

"""People with accounts on the pages, through Flask's test client: invited, their
password set, signed in."""

from __future__ import annotations

from intake_support import uow
from ui_support import post_form

from mienskip_intake.domain.commands import InvitePerson
from mienskip_intake.service_layer import accounts
from mienskip_shared.clock import utcnow

PASSWORD = "Greidfûgels yn 'e maaie"
COOKIE = "mienskip_review"
LINK_BASE = "https://mienskip.example"


def browser(intake):
    return intake.wsgi_app.test_client()


def invite(intake, email, role="staff", **kwargs) -> accounts.Invited:
    return accounts.invite(InvitePerson(email=email, role=role, link_base=LINK_BASE, **kwargs),
                           uow(intake.engine), utcnow())


def path_of(invited: accounts.Invited) -> str:
    return invited.link.removeprefix(LINK_BASE)


def set_password(client, invited, password=PASSWORD, repeat=None):
    client.get(path_of(invited))
    return post_form(client, path_of(invited), {"password": password, "repeat": password if repeat is None else repeat})


def log_in(client, email, password=PASSWORD, **form):
    client.get("/login")
    return post_form(client, "/login", {"email": email, "password": password, **form})


def person_of(intake, email="anna@example.org", role="staff", **kwargs) -> tuple[str, object]:
    """A person who has set their password; returns (user id, their signed-in browser)."""
    invited = invite(intake, email, role, **kwargs)
    client = browser(intake)
    assert set_password(client, invited).status_code == 303
    assert log_in(client, email).status_code == 303
    return invited.user_id, client

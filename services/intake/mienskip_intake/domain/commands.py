"""What people and the command line ask intake to do: one small dataclass per use case.

The service layer's handlers take one of these (or, for what other services announce,
the event's envelope) and a unit of work. ``correlation_id`` is the caller's own
(an ``X-Correlation-Id`` header); without one, a request's events are correlated by the
request's id, as they always were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .model import Principal, Role


@dataclass(frozen=True)
class RegisterKamer:
    name: str
    lat: float
    lon: float
    region: str = "leeuwarden"
    email: str | None = None
    webhook_url: str | None = None
    language: str = "nl"
    phone: str | None = None
    mileage_rate_cents: int = 30  # after the match (issue 17): mileage, reminders, follow-up
    reminder_time: str = "18:00"
    follow_up_days: int = 3


@dataclass(frozen=True)
class IssueToken:
    role: Role
    kamer_id: str | None = None
    region: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class RevokeToken:
    token_id: str


@dataclass(frozen=True)
class RegisterVolunteer:
    principal: Principal
    data: dict[str, Any]  # VolunteerSchema's loaded form
    correlation_id: str | None = None


@dataclass(frozen=True)
class ShowVolunteer:
    """Reading a volunteer's record is logged (AVG), so it is a use case, not a query."""

    principal: Principal
    volunteer_id: str


@dataclass(frozen=True)
class UpdateVolunteer:
    """Change a volunteer: any field of the volunteer body, ``away`` periods, ``active``.
    ``changes`` holds only what the caller sent (the patch schema's loaded form)."""

    principal: Principal
    volunteer_id: str
    changes: dict[str, Any]
    correlation_id: str | None = None


@dataclass(frozen=True)
class StopVolunteering:
    """The volunteer stops (from their link, or the kamer for them): open offers end as a
    decline would, and their data is erased after the retention period."""

    principal: Principal
    volunteer_id: str
    correlation_id: str | None = None


@dataclass(frozen=True)
class ShowOwnPage:
    """A volunteer opens their link: their tasks to come, their week and their time away."""

    principal: Principal


@dataclass(frozen=True)
class ListVolunteers:
    """The kamer's volunteers, or the coordinator's region's; by name, a page at a time."""

    principal: Principal
    q: str | None = None
    status: str | None = None  # active | paused | stopped
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class SubmitRequest:
    principal: Principal
    data: dict[str, Any]  # RequestSchema's loaded form
    idempotency_key: str | None = None
    body_hash: str = ""
    correlation_id: str | None = None


@dataclass(frozen=True)
class ValidateRequest:
    principal: Principal
    data: dict[str, Any]


@dataclass(frozen=True)
class ShowRequest:
    principal: Principal
    request_id: str


@dataclass(frozen=True)
class CancelRequest:
    principal: Principal
    request_id: str
    reason: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class Approve:
    principal: Principal
    assignment_id: str
    correlation_id: str | None = None


@dataclass(frozen=True)
class Reject:
    principal: Principal
    assignment_id: str
    reason: str
    correlation_id: str | None = None


@dataclass(frozen=True)
class Accept:
    principal: Principal
    assignment_id: str
    correlation_id: str | None = None


@dataclass(frozen=True)
class Decline:
    principal: Principal
    assignment_id: str
    reason: str | None = None
    at: datetime | None = None  # when it was said; now if not given
    correlation_id: str | None = None


@dataclass(frozen=True)
class Reassign:
    principal: Principal
    assignment_id: str
    volunteer_id: str
    correlation_id: str | None = None


@dataclass(frozen=True)
class BulkApprove:
    principal: Principal
    assignment_ids: list[str]
    correlation_id: str | None = None


@dataclass(frozen=True)
class ShowAutoApprove:
    principal: Principal
    kamer_id: str


@dataclass(frozen=True)
class SetAutoApprove:
    principal: Principal
    kamer_id: str
    categories: list[str]


@dataclass(frozen=True)
class ShowVolunteerTask:
    """A volunteer opens their link: after accepting, that reads the resident's address."""

    principal: Principal


@dataclass(frozen=True)
class EraseResident:
    request_id: str
    by: Principal | None = None  # who erases; intake itself if not given


@dataclass(frozen=True)
class EraseVolunteer:
    volunteer_id: str
    by: Principal | None = None


@dataclass(frozen=True)
class ApplyRetention:
    keep_for: timedelta
    at: datetime | None = None
    batch: int = 500


@dataclass(frozen=True)
class LookUpExactLocations:
    """Requests and volunteers placed on their postcode area while the address service was away: look again."""

    batch: int = 50
# -- people's accounts (domain.accounts; service_layer.accounts) ----------------------------

@dataclass(frozen=True)
class InvitePerson:
    """Invite a person (``by``: who invites from the pages; None from the command line).
    ``link_base``: the address the link starts with (the server's public URL)."""

    email: str
    role: str  # a PersonRole value
    link_base: str
    kamer_ids: tuple[str, ...] = ()
    region: str | None = None
    lead: bool = False
    display_name: str | None = None
    language: str = "nl"
    by: Principal | None = None


@dataclass(frozen=True)
class SetPassword:
    secret: str  # from the invitation or reset link
    password: str


@dataclass(frozen=True)
class SignIn:
    email: str
    password: str
    address: str  # the client's, for the per-address count


@dataclass(frozen=True)
class ForgotPassword:
    email: str
    link_base: str
    language: str = "nl"


@dataclass(frozen=True)
class DeactivatePerson:
    """``by``: who deactivates from the pages (checked, and named in the audit log); None
    from the command line (the operator)."""

    user_id: str
    by: Principal | None = None


@dataclass(frozen=True)
class ReactivatePerson:
    user_id: str
    by: Principal | None = None


@dataclass(frozen=True)
class ContinueSeries:
    """Make the next week's request of every weekly series that is due (``now``: the clock, in tests)."""

    batch: int = 50
    now: datetime | None = None


# -- importing a kamer's volunteer list from a spreadsheet ------------------------------------

@dataclass(frozen=True)
class StageImport:
    """Keep an uploaded sheet for its preview (the person's own, for an hour)."""

    principal: Principal
    sheet: Any  # domain.imports.Sheet
    kind: str = "volunteers"  # or "requests": a sheet of open requests


@dataclass(frozen=True)
class MapColumns:
    principal: Principal
    import_id: str
    mapping: tuple[str | None, ...]  # a target per column, None: ignore it


@dataclass(frozen=True)
class PreviewImport:
    principal: Principal
    import_id: str


@dataclass(frozen=True)
class ConfirmImport:
    """Import every row, or none. ``choices``: per row number of a likely duplicate,
    ``skip`` (the default), ``add`` or ``merge:<volunteer id>``."""

    principal: Principal
    import_id: str
    choices: dict[int, str]


# -- after the task (issue 17) -----------------------------------------------------------------

@dataclass(frozen=True)
class CompleteAssignment:
    """The visit record: done (hours, km, note) or not done (reason)."""

    principal: Principal
    assignment_id: str
    done: bool
    hours: float | None = None
    km: float | None = None
    note: str | None = None
    reason: str | None = None
    at: datetime | None = None  # now, unless a test moves the clock
    correlation_id: str | None = None


@dataclass(frozen=True)
class ChangeKamerSettings:
    """A kamer's lead (or a coordinator) sets its phone, mileage rate, reminder time and follow-up days."""

    principal: Principal
    kamer_id: str
    phone: str | None
    mileage_rate_cents: int
    reminder_time: str
    follow_up_days: int


@dataclass(frozen=True)
class ApproveMileage:
    """Freeze a volunteer's open km of a month into an approved claim; ``expected_km``: what
    the person saw (a visit recorded meanwhile makes it a conflict: look again)."""

    principal: Principal
    kamer_id: str
    volunteer_id: str
    month: str
    expected_km: float | None = None


@dataclass(frozen=True)
class MarkMileagePaid:
    principal: Principal
    claim_id: str

"""Events published by intake (exchange ``mienskip.events``, routing key = event type).

Only what consumers need travels: ids, category, skills, window, coarse location
(rounded to about 100 m), language needs. Names, phone numbers, addresses and notes
stay in intake (DOMAIN.md, "Privacy").
"""

from marshmallow import fields, validate

from .common import Payload, Point, WeeklySlot, Window, language_field, skills_field
from .envelope import register
from .matching import Proposal
from .vocabulary import CATEGORIES, DECLINE_CODES, HELPERS, URGENCIES


@register("kamer.registered")
class KamerRegistered(Payload):
    """A kamer is an organisation: its name and contact points are not personal data."""

    kamer_id = fields.Str(required=True)
    name = fields.Str(required=True)
    region = fields.Str(required=True)
    location = fields.Nested(Point, required=True)
    email = fields.Str(load_default=None, allow_none=True)
    webhook_url = fields.Str(load_default=None, allow_none=True)
    language = language_field(load_default="nl")
    phone = fields.Str(load_default=None, allow_none=True)  # whom a volunteer calls with a question
    # After the match: reminders go the day before at this local time (Europe/Amsterdam);
    # the resident is asked "did the help come?" this many days after the task.
    reminder_time = fields.Str(load_default="18:00", validate=validate.Regexp(r"^\d\d:\d\d$"))
    follow_up_days = fields.Int(load_default=3, validate=validate.Range(min=1, max=30))


class AwayPeriod(Payload):
    """Days (inclusive) a volunteer is away: holidays, illness. Never proposed then."""

    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")


@register("volunteer.registered")
class VolunteerRegistered(Payload):
    """Everything matching needs of a volunteer; ``volunteer.updated`` carries the same,
    whole, after every change. ``revision`` counts the changes (0 at registration): a
    consumer keeps the highest it has seen, so an older event never overwrites a newer one
    whichever queue brings it first."""

    volunteer_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    home = fields.Nested(Point, required=True)  # rounded to ~100 m by the producer
    languages = fields.List(language_field(), required=True)
    skills = skills_field(required=True)
    has_car = fields.Bool(required=True)
    vog_checked_on = fields.Date(load_default=None, allow_none=True)
    availability = fields.List(fields.Nested(WeeklySlot), required=True)
    max_tasks_per_week = fields.Int(required=True, validate=validate.Range(min=0, max=50))
    max_distance_km = fields.Float(required=True, validate=validate.Range(min=0, max=200))
    away = fields.List(fields.Nested(AwayPeriod), load_default=list)
    active = fields.Bool(load_default=True)  # False: paused or stopped, never proposed
    revision = fields.Int(load_default=0, validate=validate.Range(min=0))


@register("volunteer.updated")
class VolunteerUpdated(VolunteerRegistered):
    """A volunteer's record changed (an edit, away periods, paused, resumed or stopped): the
    whole matching-relevant state as it is now, with a higher ``revision``."""


@register("request.submitted")
class RequestSubmitted(Payload):
    request_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    category = fields.Str(required=True, validate=validate.OneOf(CATEGORIES))
    skills = skills_field(required=True)
    needs_vog = fields.Bool(required=True)
    needs_language = language_field(load_default=None, allow_none=True)
    window = fields.Nested(Window, required=True)
    location = fields.Nested(Point, required=True)  # rounded to ~100 m by the producer
    urgency = fields.Str(required=True, validate=validate.OneOf(URGENCIES))
    recurrence = fields.Str(load_default=None, allow_none=True)
    follows = fields.Str(load_default=None, allow_none=True)  # an earlier request of the same series
    # "both": a professional helps too (a referral runs beside the match); intake never
    # sends a "professional"-only request to matching.
    helper = fields.Str(load_default="volunteer", validate=validate.OneOf(HELPERS))


@register("request.relocated")
class RequestRelocated(Payload):
    """A request placed on its postcode area's centre (the address service was away) has
    its exact location now; rounded as every location that travels."""

    request_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    location = fields.Nested(Point, required=True)


@register("request.cancelled")
class RequestCancelled(Payload):
    request_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    reason = fields.Str(load_default=None, allow_none=True)


class _AssignmentRef(Payload):
    assignment_id = fields.Str(required=True)
    request_id = fields.Str(required=True)
    volunteer_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    actor = fields.Str(required=True)  # "coordinator", "kamer", "volunteer", "policy": a role, never a name
    category = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(CATEGORIES))
    window = fields.Nested(Window, load_default=None, allow_none=True)


@register("assignment.approved")
class AssignmentApproved(_AssignmentRef):
    auto = fields.Bool(load_default=False)


@register("assignment.review_requested")
class ReviewRequested(Proposal):
    """Intake took matching's proposal and a person must review it (the kamer's policy does
    not approve it by itself). The kamer is told "proposal ready for review"; a proposal
    approved by policy gets ``assignment.approved`` with ``auto`` instead, never this.
    ``urgency`` is the request's: an urgent one is mailed at once, never held for a digest."""

    urgency = fields.Str(load_default="normal", validate=validate.OneOf(URGENCIES))


@register("assignment.rejected")
class AssignmentRejected(_AssignmentRef):
    """A person said no to the proposal: matching looks again, without this volunteer."""

    reason = fields.Str(load_default=None, allow_none=True)


@register("assignment.accepted")
class AssignmentAccepted(_AssignmentRef):
    pass


@register("assignment.declined")
class AssignmentDeclined(_AssignmentRef):
    """The volunteer said no, before or after accepting.

    ``rematch`` is False for a late decline (task within 48 h): the coordinator
    decides then, rather than the next volunteer being asked silently.
    """

    reason = fields.Str(load_default=None, allow_none=True)  # what the volunteer said, in their words
    # Why, when it was not the volunteer's own "no": a code each consumer words itself.
    reason_code = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(DECLINE_CODES))
    after_accept = fields.Bool(load_default=False)
    rematch = fields.Bool(required=True)


@register("assignment.reassign_requested")
class ReassignRequested(Payload):
    """A person picked another volunteer: matching checks the hard rules and proposes."""

    request_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    volunteer_id = fields.Str(required=True)
    replaces_assignment_id = fields.Str(load_default=None, allow_none=True)


@register("request.escalated")
class RequestEscalated(Payload):
    request_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    reason = fields.Str(required=True)
    urgent = fields.Bool(required=True)


@register("personal_data.erased")
class PersonalDataErased(Payload):
    """A person's data was erased at intake (on request, or by retention): every
    service that keeps anything about them removes it too."""

    subject_kind = fields.Str(required=True, validate=validate.OneOf(["resident", "volunteer"]))
    subject_id = fields.Str(required=True)  # a request id for a resident, a volunteer id
    kamer_id = fields.Str(required=True)
    reason = fields.Str(required=True, validate=validate.OneOf(["request", "retention"]))


# -- contact details, for notify only ---------------------------------------------------
# The one place personal contact data travels (issue: "carried in the event only to
# notify"). Only notify subscribes; it keeps them until personal_data.erased.


@register("contact.volunteer")
class VolunteerContact(Payload):
    volunteer_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    first_name = fields.Str(required=True)
    email = fields.Str(load_default=None, allow_none=True)
    phone = fields.Str(load_default=None, allow_none=True)
    language = language_field(required=True)


@register("contact.resident")
class ResidentContact(Payload):
    request_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    first_name = fields.Str(load_default=None, allow_none=True)
    phone = fields.Str(load_default=None, allow_none=True)
    language = language_field(required=True)
    address = fields.Str(load_default=None, allow_none=True)  # told to the volunteer only after accepting
    neighbourhood = fields.Str(load_default=None, allow_none=True)


# -- people's accounts, for notify only -------------------------------------------------------
# An invitation or a password reset, sent by notify as an e-mail. The address and the link
# (a secret) travel only to notify, which keeps them in the message it sends and nowhere else.


class _AccountLink(Payload):
    email = fields.Email(required=True)
    language = language_field(required=True)
    link = fields.Url(required=True, require_tld=False)
    expires_at = fields.AwareDateTime(required=True)


@register("user.invited")
class UserInvited(_AccountLink):
    pass


@register("user.password_reset")
class PasswordReset(_AccountLink):
    pass

"""Intake's tables (prefix ``intake_``). Personal data lives only here."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

from mienskip_shared.db import UtcDateTime
from mienskip_shared.messaging import inbox_table, outbox_table

metadata = MetaData()

kamers = Table(
    "intake_kamers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("region", String(100), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("email", String(320)),
    Column("webhook_url", String(2000)),
    Column("language", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("phone", String(20)),  # the kamer's number: volunteers see it on their page
    # After the match (issue 17): mileage paid per km in cents, reminders' local time, follow-up days.
    Column("mileage_rate_cents", Integer, nullable=False, server_default="30"),
    Column("reminder_time", String(5), nullable=False, server_default="18:00"),
    Column("follow_up_days", Integer, nullable=False, server_default="3"),
)

tokens = Table(
    "intake_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("kamer_id", String(36), ForeignKey("intake_kamers.id")),
    Column("region", String(100)),
    Column("label", String(200)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

volunteers = Table(
    "intake_volunteers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kamer_id", String(36), ForeignKey("intake_kamers.id"), nullable=False),
    Column("region", String(100), nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text),
    Column("phone", Text),
    Column("language", String(8), nullable=False),
    Column("languages", JSON, nullable=False),
    Column("home_lat", Float, nullable=False),
    Column("home_lon", Float, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("has_car", Boolean, nullable=False),
    Column("vog_checked_on", Date),
    Column("availability", JSON, nullable=False),
    Column("max_tasks_per_week", Integer, nullable=False),
    Column("max_distance_km", Float, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("erased_at", UtcDateTime),
    Column("away", JSON, nullable=False, server_default="[]"),  # [{"from": "2026-12-20", "to": "2027-01-03"}]
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("stopped_at", UtcDateTime),
    Column("revision", Integer, nullable=False, server_default="0"),
    Column("updated_at", UtcDateTime),
    Column("home_precision", String(16), nullable=False, server_default="given"),
    Column("home_exact_lookup", JSON(none_as_null=True)),  # placed on its postcode area while PDOK was away
    Column("name_key", Text),  # the name, spaces collapsed and case folded (domain.volunteers.name_key)
    Index("ix_intake_volunteers_kamer", "kamer_id"),
    Index("ix_intake_volunteers_kamer_name_key", "kamer_id", "name_key"),
)

requests = Table(
    "intake_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kamer_id", String(36), ForeignKey("intake_kamers.id"), nullable=False),
    Column("region", String(100), nullable=False),
    Column("resident_name", Text),
    Column("resident_phone", Text),
    Column("resident_language", String(8), nullable=False),
    Column("resident_address", Text),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("category", String(30), nullable=False),
    Column("skills", JSON, nullable=False),
    Column("needs_vog", Boolean, nullable=False),
    Column("needs_language", String(8)),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("recurrence", String(100)),
    Column("follows", String(64)),  # the earlier request of its series: matching prefers that volunteer
    Column("urgency", String(20), nullable=False),
    Column("notes", Text),
    Column("status", String(20), nullable=False),
    Column("reasons", JSON),
    Column("considered", Integer),  # unmatched: the volunteers matching looked at (None before it said)
    Column("urgent", Boolean, nullable=False, server_default=false()),  # needs the coordinator now
    Column("erased_at", UtcDateTime),  # personal data removed (on request or by retention)
    Column("last_decision", Integer, nullable=False, server_default="0"),  # matching's newest, applied
    Column("resident_email", Text),
    Column("location_precision", String(10), nullable=False, server_default="given"),  # exact, postcode4, given
    # The address to look up exactly once the outside geocoder is back (personal data: erased with the rest).
    Column("exact_lookup", JSON(none_as_null=True)),
    Column("helper", String(20), nullable=False, server_default="volunteer"),  # volunteer, professional, both
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_intake_requests_kamer_status", "kamer_id", "status"),
    Index("ix_intake_requests_follows", "follows"),  # a weekly series' next request
)

assignments = Table(
    "intake_assignments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("request_id", String(36), ForeignKey("intake_requests.id"), nullable=False),
    Column("volunteer_id", String(36), nullable=False),
    Column("kamer_id", String(36), nullable=False),
    Column("status", String(20), nullable=False),
    Column("distance_km", Float, nullable=False),
    Column("explanation", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_intake_assignments_request", "request_id"),
    Index("ix_intake_assignments_kamer_status", "kamer_id", "status"),
)

history = Table(
    "intake_request_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("request_id", String(36), ForeignKey("intake_requests.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("status", String(20)),
    Column("actor", String(100), nullable=False),
    Column("note", Text),  # free text: what a person typed, or another system's error
    Column("note_code", String(50)),  # what intake says, worded where it is read (domain.model.Note)
    Column("note_params", JSON),
    Index("ix_intake_history_request", "request_id", "id"),
)

idempotency_keys = Table(
    "intake_idempotency_keys",
    metadata,
    Column("kamer_id", String(36), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("body_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("kamer_id", "key", name="uq_intake_idempotency"),
)

audit_log = Table(
    "intake_audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("token_id", String(36)),  # the API token, or (None) ...
    Column("user_id", String(36)),  # ... the person signed in to the pages
    Column("role", String(20), nullable=False),
    Column("action", String(50), nullable=False),
    Column("subject_kind", String(30), nullable=False),
    Column("subject_id", String(36), nullable=False),
    Index("ix_intake_audit_subject", "subject_kind", "subject_id"),
)

auto_approve = Table(
    "intake_auto_approve",
    metadata,
    # Categories whose proposals a kamer approves at once (e.g. shopping, pets).
    Column("kamer_id", String(36), ForeignKey("intake_kamers.id"), primary_key=True),
    Column("category", String(30), primary_key=True),
    Column("set_by", String(36), nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
)

# -- people's accounts and the pages' sessions (domain.accounts) -------------------------------

users = Table(
    "intake_users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),  # normalised to lower case: unique regardless of case
    Column("display_name", String(200)),
    Column("role", String(20), nullable=False),  # domain.accounts.PersonRole
    Column("region", String(100)),
    Column("lead", Boolean, nullable=False, server_default=false()),  # may invite their kamer's staff
    Column("password_hash", String(255)),  # argon2; None until the invitation is used
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_sign_in_at", UtcDateTime),
)

user_kamers = Table(
    "intake_user_kamers",
    metadata,
    Column("user_id", String(36), ForeignKey("intake_users.id"), primary_key=True),
    Column("kamer_id", String(36), ForeignKey("intake_kamers.id"), primary_key=True),
    Column("position", Integer, nullable=False),  # the first is the one the pages act for by default
)

account_links = Table(
    "intake_account_links",
    metadata,
    Column("secret_hash", String(64), primary_key=True),  # sha256 of the link's secret, never the secret
    Column("user_id", String(36), ForeignKey("intake_users.id"), nullable=False),
    Column("purpose", String(10), nullable=False),  # invite | reset
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Index("ix_intake_account_links_user", "user_id"),
)

web_sessions = Table(
    "intake_web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the id in the cookie
    Column("user_id", String(36), ForeignKey("intake_users.id")),
    Column("token_id", String(36), ForeignKey("intake_tokens.id")),  # a demo sign-in with an API token
    Column("kamer_id", String(36)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Index("ix_intake_web_sessions_user", "user_id"),
    Index("ix_intake_web_sessions_token", "token_id"),
)

sign_in_failures = Table(
    "intake_sign_in_failures",
    metadata,
    # Counted per account (a hash of the e-mail typed: an unknown one is not stored) and per
    # client address, in the database so every web worker sees the same counts.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("email_key", String(64)),
    Column("address", String(64), nullable=False),
    Index("ix_intake_sign_in_failures_email", "email_key", "at"),
    Index("ix_intake_sign_in_failures_address", "address", "at"),
)

imports = Table(
    "intake_imports",
    metadata,
    # A spreadsheet between its preview and its import: one person's, for an hour at most
    # (personal data must not linger); after the import only the counts stay, for a resend.
    Column("id", String(36), primary_key=True),
    Column("kamer_id", String(36), ForeignKey("intake_kamers.id"), nullable=False),
    Column("uploaded_by", String(64), nullable=False),  # user:<id> or token:<id>: only they see it
    Column("kind", String(20), nullable=False),  # volunteers, requests
    Column("status", String(20), nullable=False),  # staged, imported
    Column("headers", JSON(none_as_null=True)),
    Column("rows", JSON(none_as_null=True)),
    Column("mapping", JSON(none_as_null=True)),
    Column("result", JSON(none_as_null=True)),  # {"imported", "merged", "skipped"}
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Index("ix_intake_imports_created", "created_at"),
)

visits = Table(
    "intake_visits",
    metadata,
    # The visit record of one assignment (issue 17): done or not, hours, km. One row per
    # assignment, so a weekly series has one per visit. The note is for the kamer only.
    Column("assignment_id", String(36), ForeignKey("intake_assignments.id"), primary_key=True),
    Column("request_id", String(36), ForeignKey("intake_requests.id"), nullable=False),
    Column("volunteer_id", String(36), nullable=False),
    Column("kamer_id", String(36), ForeignKey("intake_kamers.id"), nullable=False),
    Column("window_start", UtcDateTime, nullable=False),  # when the task was: the month it counts in
    Column("done", Boolean, nullable=False),
    Column("hours", Float),
    Column("km", Float),
    Column("note", Text),  # the volunteer's words for the kamer
    Column("reason", Text),  # not done: why
    Column("recorded_by", String(100), nullable=False),  # as history's actor: a role and who
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_intake_visits_kamer_window", "kamer_id", "window_start"),
    Index("ix_intake_visits_volunteer_window", "volunteer_id", "window_start"),
)

mileage_claims = Table(
    "intake_mileage_claims",
    metadata,
    # A volunteer's km of one month, approved by kamer staff: km, rate and amount frozen then.
    # A visit recorded after an approval makes a new line for the difference, never a change here.
    Column("id", String(36), primary_key=True),
    Column("kamer_id", String(36), ForeignKey("intake_kamers.id"), nullable=False),
    Column("volunteer_id", String(36), nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM, Europe/Amsterdam
    Column("km", Float, nullable=False),
    Column("visits", Integer, nullable=False),
    Column("rate_cents", Integer, nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("approved_by", String(100), nullable=False),
    Column("approved_at", UtcDateTime, nullable=False),
    Column("paid_by", String(100)),
    Column("paid_at", UtcDateTime),
    Index("ix_intake_mileage_claims_kamer_month", "kamer_id", "month"),
)

calendar_feeds = Table(
    "intake_calendar_feeds",
    metadata,
    # A volunteer's private calendar feed: its URL signs (volunteer id, version); a new link
    # bumps the version, so the old URL answers 404.
    Column("volunteer_id", String(36), ForeignKey("intake_volunteers.id"), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)


providers = Table(
    "intake_providers",
    metadata,
    # Care organisations a kamer refers to (domain.referrals.Provider): not personal data.
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("categories", JSON, nullable=False),
    Column("region", String(100), nullable=False),
    Column("kamer_ids", JSON, nullable=False),  # empty: every kamer of the region
    Column("email", String(320)),
    Column("phone", String(20)),
    Column("webhook_url", String(2000)),
    Column("language", String(8), nullable=False),
    Column("answer_within_days", Integer, nullable=False),  # working days
    Column("active", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_intake_providers_region", "region"),
)

referrals = Table(
    "intake_referrals",
    metadata,
    # The professional part of a request (domain.referrals.Referral). The note, the
    # provider's answer and reason may name the resident: erased with them.
    Column("id", String(36), primary_key=True),
    Column("request_id", String(36), ForeignKey("intake_requests.id"), nullable=False),
    Column("provider_id", String(36), ForeignKey("intake_providers.id"), nullable=False),
    Column("kamer_id", String(36), nullable=False),
    Column("region", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("note", Text),
    Column("who", Text),
    Column("visit_at", UtcDateTime),
    Column("answer_note", Text),
    Column("reason", Text),
    Column("answered_at", UtcDateTime),
    Column("answered_by", String(20)),
    Index("ix_intake_referrals_request", "request_id", "sent_at"),
    Index("ix_intake_referrals_status_due", "status", "due_at"),
    Index("ix_intake_referrals_provider", "provider_id"),
)

outbox = outbox_table(metadata, "intake")
inbox = inbox_table(metadata, "intake")

# -- after the match: the resident's follow-up answer, the weekly digest (issue 17) ---------

follow_ups = Table(
    "intake_follow_ups",
    metadata,
    # The resident's answer to "did the help come? do you need more?": one per request,
    # the first one counts. The text is theirs, for the kamer only (erased with the request).
    Column("request_id", String(36), ForeignKey("intake_requests.id"), primary_key=True),
    Column("assignment_id", String(36), nullable=False),
    Column("kamer_id", String(36), ForeignKey("intake_kamers.id"), nullable=False),
    Column("answer", String(10), nullable=False),  # domain.follow_ups.Answer: yes, no, more
    Column("text", Text),
    Column("answered_at", UtcDateTime, nullable=False),
    Index("ix_intake_follow_ups_kamer_answered", "kamer_id", "answered_at"),
)

digest_runs = Table(
    "intake_digest_runs",
    metadata,
    # One row per (region, week) claimed before the week's attention.digest events are
    # written: a second run, or a second worker, finds it and writes nothing.
    Column("region", String(100), primary_key=True),
    Column("week", Date, primary_key=True),  # the Monday of the week
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("digests", Integer, nullable=False),
)

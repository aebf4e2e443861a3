"""Matching's own tables (prefix ``matching_``): a read model of volunteers, the open
requests, proposals, unmatched records, and the outbox/inbox.

``migrations/versions/0001_initial.py`` creates the same tables; keep them in step.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    true,
)

from mienskip_shared.db import UtcDateTime
from mienskip_shared.messaging import inbox_table, outbox_table

metadata = MetaData()

volunteers = Table(
    "matching_volunteers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kamer_id", String(64), nullable=False),
    Column("region", String(64), nullable=False, index=True),
    Column("home_lat", Float, nullable=False),
    Column("home_lon", Float, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("has_car", Boolean, nullable=False),
    Column("vog_checked_on", Date, nullable=True),
    Column("availability", JSON, nullable=False),  # [{"day": "tue", "from": "09:00", "to": "12:00"}]
    Column("max_tasks_per_week", Integer, nullable=False),
    Column("max_distance_km", Float, nullable=False),
    # Optimistic lock: every proposal for this volunteer bumps it, so two matching
    # processes that both read the old value cannot both book the volunteer.
    Column("version", Integer, nullable=False, server_default="0"),
    Column("away", JSON, nullable=False, server_default="[]"),  # [{"from": "2026-12-20", "to": "2027-01-03"}]
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("revision", Integer, nullable=False, server_default="0"),  # intake's: the newest event's
    Column("registered_at", UtcDateTime, nullable=False),  # occurred_at of the newest event
    Column("updated_at", UtcDateTime, nullable=False),
)

requests = Table(
    "matching_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kamer_id", String(64), nullable=False),
    Column("region", String(64), nullable=False),
    Column("category", String(32), nullable=False),
    Column("skills", JSON, nullable=False),
    Column("needs_vog", Boolean, nullable=False),
    Column("needs_language", String(8), nullable=True),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("recurrence", String(100), nullable=True),
    # the earlier request of its series (continuity); indexed: which series have no follow-up yet
    Column("follows", String(64), nullable=True, index=True),
    Column("status", String(16), nullable=False),  # open | proposed | unmatched | cancelled
    Column("decisions", Integer, nullable=False, server_default="0"),  # announced so far
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

proposals = Table(
    "matching_proposals",
    metadata,
    Column("assignment_id", String(36), primary_key=True),
    # One proposal per request: a racing duplicate fails here and retries into the stored one.
    Column("request_id", String(64), nullable=False, unique=True),
    Column("volunteer_id", String(64), nullable=False),
    Column("kamer_id", String(64), nullable=False),
    Column("region", String(64), nullable=False),
    Column("distance_km", Float, nullable=False),
    Column("explanation", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # proposed | cancelled
    # Copied from the request: capacity and overlap checks read only this table.
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_matching_proposals_volunteer_status", "volunteer_id", "status"),
)

unmatched = Table(
    "matching_unmatched",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("kamer_id", String(64), nullable=False),
    Column("region", String(64), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("considered", Integer, nullable=True),  # null for rows from before reason codes
    Column("created_at", UtcDateTime, nullable=False),
)

past_proposals = Table(
    "matching_past_proposals",
    metadata,
    # A proposal that a person ended (rejected, declined, replaced): kept for the record;
    # it no longer books the volunteer.
    Column("assignment_id", String(36), primary_key=True),
    Column("request_id", String(64), nullable=False, index=True),
    Column("volunteer_id", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),  # rejected | declined | superseded
    Column("proposed_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
)

exclusions = Table(
    "matching_exclusions",
    metadata,
    # Never offer this request to this volunteer again (DOMAIN.md: declined or rejected).
    Column("request_id", String(64), primary_key=True),
    Column("volunteer_id", String(64), primary_key=True),
    Column("reason", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

erased_volunteers = Table(
    "matching_erased_volunteers",
    metadata,
    # Tombstones: volunteers erased at intake (GDPR). Only the id and when, nothing
    # personal. A volunteer event that arrives after the erasure (another queue, a
    # redelivery, a replay from the DLQ) must not bring them back into the pool.
    Column("id", String(64), primary_key=True),
    Column("erased_at", UtcDateTime, nullable=False),
)

outbox = outbox_table(metadata, "matching")
inbox = inbox_table(metadata, "matching")

"""Matching's first tables: volunteers read model, requests, proposals, unmatched, outbox, inbox.

Revision ID: matching_0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matching_volunteers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kamer_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("home_lat", sa.Float, nullable=False),
        sa.Column("home_lon", sa.Float, nullable=False),
        sa.Column("skills", sa.JSON, nullable=False),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("has_car", sa.Boolean, nullable=False),
        sa.Column("vog_checked_on", sa.Date, nullable=True),
        sa.Column("availability", sa.JSON, nullable=False),
        sa.Column("max_tasks_per_week", sa.Integer, nullable=False),
        sa.Column("max_distance_km", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_matching_volunteers_region", "matching_volunteers", ["region"])

    op.create_table(
        "matching_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kamer_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("skills", sa.JSON, nullable=False),
        sa.Column("needs_vog", sa.Boolean, nullable=False),
        sa.Column("needs_language", sa.String(8), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("recurrence", sa.String(100), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "matching_proposals",
        sa.Column("assignment_id", sa.String(36), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("volunteer_id", sa.String(64), nullable=False),
        sa.Column("kamer_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("distance_km", sa.Float, nullable=False),
        sa.Column("explanation", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_matching_proposals_volunteer_status", "matching_proposals", ["volunteer_id", "status"])

    op.create_table(
        "matching_unmatched",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("kamer_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )

    # Same columns as mienskip_shared.messaging.outbox_table / inbox_table.
    op.create_table(
        "matching_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_matching_outbox_unpublished", "matching_outbox", ["published_at", "id"])

    op.create_table(
        "matching_inbox",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("matching_inbox")
    op.drop_index("ix_matching_outbox_unpublished", table_name="matching_outbox")
    op.drop_table("matching_outbox")
    op.drop_table("matching_unmatched")
    op.drop_index("ix_matching_proposals_volunteer_status", table_name="matching_proposals")
    op.drop_table("matching_proposals")
    op.drop_table("matching_requests")
    op.drop_index("ix_matching_volunteers_region", table_name="matching_volunteers")
    op.drop_table("matching_volunteers")

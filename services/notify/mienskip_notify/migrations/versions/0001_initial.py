"""notify: kamer contacts, notifications, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notify_kamers",
        sa.Column("kamer_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("webhook_url", sa.String(2000), nullable=True),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "notify_notifications",
        sa.Column("id", BIGINT_ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("source_event_id", sa.String(36), nullable=False),
        sa.Column("source_event_type", sa.String(100), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=True),
        sa.Column("kamer_id", sa.String(100), nullable=False),
        sa.Column("recipient_kind", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("key", name="uq_notify_notifications_key"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_notify_notifications_status"),
    )
    op.create_index("ix_notify_notifications_source_event_id", "notify_notifications", ["source_event_id"])
    op.create_index("ix_notify_notifications_request_id", "notify_notifications", ["request_id"])

    # Same columns as mienskip_shared.messaging.outbox_table / inbox_table.
    op.create_table(
        "notify_outbox",
        sa.Column("id", BIGINT_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_notify_outbox_unpublished", "notify_outbox", ["published_at", "id"])
    op.create_table(
        "notify_inbox",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notify_inbox")
    op.drop_index("ix_notify_outbox_unpublished", table_name="notify_outbox")
    op.drop_table("notify_outbox")
    op.drop_index("ix_notify_notifications_request_id", table_name="notify_notifications")
    op.drop_index("ix_notify_notifications_source_event_id", table_name="notify_notifications")
    op.drop_table("notify_notifications")
    op.drop_table("notify_kamers")

"""notify: 'failed' means given up for good; SMS counted per kamer and month.

Until now a row went to 'failed' after any failed attempt and back to 'sent' on a
later success. From here on a row stays 'pending' while it is retried, and 'failed' is
final (announced by notification.failed). Rows that are 'failed' now were mid-retry under
the old meaning, so they become 'pending' again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notify_notifications") as batch:
        batch.add_column(sa.Column("sms_month", sa.String(7), nullable=True))
    op.execute("UPDATE notify_notifications SET status = 'pending' WHERE status = 'failed'")
    op.create_table(
        "notify_sms_usage",
        sa.Column("kamer_id", sa.String(100), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kamer_id", "month", name="pk_notify_sms_usage"),
    )


def downgrade() -> None:
    op.drop_table("notify_sms_usage")
    with op.batch_alter_table("notify_notifications") as batch:
        batch.drop_column("sms_month")

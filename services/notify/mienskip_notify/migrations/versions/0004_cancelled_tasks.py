"""notify: when a request was cancelled, so an offer or confirmation arriving after the
cancellation (on another queue) is not sent.

Cancellations handled before this revision are remembered where they left a trace: the
messages they planned (their planning time standing in for the event's). One that told
nobody left none; its request is simply not known as cancelled.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notify_tasks") as batch:
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("""
        UPDATE notify_tasks SET cancelled_at = (
            SELECT MIN(n.created_at) FROM notify_notifications n
            WHERE n.request_id = notify_tasks.request_id AND n.source_event_type = 'request.cancelled')
        WHERE cancelled_at IS NULL
    """)
    op.execute("""
        INSERT INTO notify_tasks (request_id, cancelled_at)
        SELECT n.request_id, MIN(n.created_at) FROM notify_notifications n
        WHERE n.source_event_type = 'request.cancelled' AND n.request_id IS NOT NULL
          AND n.request_id NOT IN (SELECT t.request_id FROM notify_tasks t)
        GROUP BY n.request_id
    """)


def downgrade() -> None:
    with op.batch_alter_table("notify_tasks") as batch:
        batch.drop_column("cancelled_at")

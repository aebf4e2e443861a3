"""the outbox announces its own inserts (PostgreSQL)

A statement trigger on notify_outbox sends NOTIFY notify_outbox_written in each transaction
that inserts rows, delivered at commit: relays in other processes wake up as before,
and a writing transaction no longer makes a round trip for it
(mienskip_shared.messaging.outbox.announce_trigger_ddl). Nothing on SQLite, whose relay
runs in the writer's process and is woken directly.

Revision ID: 0008_outbox_announces_itself
Revises: 0007_schedule
Create Date: 2026-12-05 13:30:00
"""
from alembic import op

from mienskip_shared.messaging.outbox import set_announce_trigger

revision = "0008_outbox_announces_itself"
down_revision = "0007_schedule"
branch_labels = None
depends_on = None

TABLE = "notify_outbox"


def upgrade() -> None:
    set_announce_trigger(op.get_bind(), TABLE)


def downgrade() -> None:
    set_announce_trigger(op.get_bind(), TABLE, present=False)

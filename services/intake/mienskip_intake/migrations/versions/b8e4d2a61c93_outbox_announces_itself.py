"""the outbox announces its own inserts (PostgreSQL)

A statement trigger on intake_outbox sends NOTIFY intake_outbox_written in each transaction
that inserts rows, delivered at commit: relays in other processes wake up as before,
and a writing transaction no longer makes a round trip for it
(mienskip_shared.messaging.outbox.announce_trigger_ddl). Nothing on SQLite, whose relay
runs in the writer's process and is woken directly.

Revision ID: b8e4d2a61c93
Revises: c7f3a9e21d64
Create Date: 2026-12-05 13:30:00
"""
from alembic import op

from mienskip_shared.messaging.outbox import set_announce_trigger

revision = "b8e4d2a61c93"
down_revision = "c7f3a9e21d64"
branch_labels = None
depends_on = None

TABLE = "intake_outbox"


def upgrade() -> None:
    set_announce_trigger(op.get_bind(), TABLE)


def downgrade() -> None:
    set_announce_trigger(op.get_bind(), TABLE, present=False)

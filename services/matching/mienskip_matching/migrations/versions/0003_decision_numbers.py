"""Number each decision about a request, so consumers can drop stale ones.

Revision ID: matching_0003
Revises: matching_0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0003"
down_revision = "matching_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matching_requests") as batch:
        batch.add_column(sa.Column("decisions", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("matching_requests") as batch:
        batch.drop_column("decisions")

"""A volunteer's away periods, whether they are active, and intake's revision of the record
(an older volunteer event never overwrites a newer one).

Revision ID: matching_0008
Revises: matching_0007_series
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0008"
down_revision = "matching_0007_series"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matching_volunteers") as batch:
        batch.add_column(sa.Column("away", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("matching_volunteers") as batch:
        batch.drop_column("revision")
        batch.drop_column("active")
        batch.drop_column("away")

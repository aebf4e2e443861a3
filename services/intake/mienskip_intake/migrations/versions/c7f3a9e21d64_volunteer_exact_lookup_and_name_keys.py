"""a volunteer's home still to look up exactly

A volunteer whose home was placed on its postcode area's centre while the outside
geocoder was away keeps the address to look up again (``home_exact_lookup``), as a
request does (``exact_lookup``).

Revision ID: c7f3a9e21d64
Revises: 0b7d2e4c9a15
Create Date: 2026-12-05 05:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c7f3a9e21d64'
down_revision = '0b7d2e4c9a15'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_exact_lookup', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('intake_volunteers', schema=None) as batch_op:
        batch_op.drop_column('home_exact_lookup')

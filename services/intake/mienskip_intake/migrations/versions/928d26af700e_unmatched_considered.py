"""unmatched requests keep how many volunteers matching considered

Matching no longer sends a sentence with its reasons, but the size of the pool it looked
at; the pages word both ("3 volunteers have the skill; 2 x too far"). None for requests
found unmatched before.

Revision ID: 928d26af700e
Revises: b698b8bafa7a
Create Date: 2026-12-05 00:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '928d26af700e'
down_revision = 'b698b8bafa7a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('considered', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.drop_column('considered')

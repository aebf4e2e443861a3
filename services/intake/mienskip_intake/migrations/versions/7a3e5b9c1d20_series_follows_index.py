"""An index on intake_requests.follows: intake finds the weekly series whose next week is due.

Revision ID: 7a3e5b9c1d20
Revises: d5e1c0a7f3b2
Create Date: 2026-12-05 03:20:00
"""
from alembic import op

revision = '7a3e5b9c1d20'
down_revision = 'd5e1c0a7f3b2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_intake_requests_follows', 'intake_requests', ['follows'])


def downgrade() -> None:
    op.drop_index('ix_intake_requests_follows', table_name='intake_requests')

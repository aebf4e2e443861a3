"""after the match: the resident's follow-up answers and the weekly digest's (region, week) claims

Revision ID: 9353fc2e32e4
Revises: c4f1a9e7d25b
Create Date: 2026-12-05 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '9353fc2e32e4'
down_revision = 'c4f1a9e7d25b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'intake_follow_ups',
        sa.Column('request_id', sa.String(length=36), nullable=False),
        sa.Column('assignment_id', sa.String(length=36), nullable=False),
        sa.Column('kamer_id', sa.String(length=36), nullable=False),
        sa.Column('answer', sa.String(length=10), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['intake_requests.id']),
        sa.ForeignKeyConstraint(['kamer_id'], ['intake_kamers.id']),
        sa.PrimaryKeyConstraint('request_id'),
    )
    op.create_index('ix_intake_follow_ups_kamer_answered', 'intake_follow_ups', ['kamer_id', 'answered_at'])
    op.create_table(
        'intake_digest_runs',
        sa.Column('region', sa.String(length=100), nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('digests', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('region', 'week'),
    )


def downgrade() -> None:
    op.drop_table('intake_digest_runs')
    op.drop_index('ix_intake_follow_ups_kamer_answered', table_name='intake_follow_ups')
    op.drop_table('intake_follow_ups')

"""visit records: done or not, hours and km of each assignment after its time

Revision ID: 0b7d2e4c9a15
Revises: e3a9c4d1b7f0
Create Date: 2026-12-05 05:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0b7d2e4c9a15'
down_revision = 'e3a9c4d1b7f0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'intake_visits',
        sa.Column('assignment_id', sa.String(length=36), nullable=False),
        sa.Column('request_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('kamer_id', sa.String(length=36), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done', sa.Boolean(), nullable=False),
        sa.Column('hours', sa.Float(), nullable=True),
        sa.Column('km', sa.Float(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('recorded_by', sa.String(length=100), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['assignment_id'], ['intake_assignments.id']),
        sa.ForeignKeyConstraint(['request_id'], ['intake_requests.id']),
        sa.ForeignKeyConstraint(['kamer_id'], ['intake_kamers.id']),
        sa.PrimaryKeyConstraint('assignment_id'),
    )
    op.create_index('ix_intake_visits_kamer_window', 'intake_visits', ['kamer_id', 'window_start'])
    op.create_index('ix_intake_visits_volunteer_window', 'intake_visits', ['volunteer_id', 'window_start'])


def downgrade() -> None:
    op.drop_index('ix_intake_visits_volunteer_window', table_name='intake_visits')
    op.drop_index('ix_intake_visits_kamer_window', table_name='intake_visits')
    op.drop_table('intake_visits')

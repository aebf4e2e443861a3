"""after the visit: the kamer's mileage rate, reminder time and follow-up days; approved
mileage claims; the version of each volunteer's calendar feed

Revision ID: c4f1a9e7d25b
Revises: 0b7d2e4c9a15
Create Date: 2026-12-05 05:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4f1a9e7d25b'
down_revision = '0b7d2e4c9a15'  # main's head when this branch started; the lead re-chains heads when merging
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_kamers') as batch:
        batch.add_column(sa.Column('mileage_rate_cents', sa.Integer(), nullable=False, server_default='30'))
        batch.add_column(sa.Column('reminder_time', sa.String(length=5), nullable=False, server_default='18:00'))
        batch.add_column(sa.Column('follow_up_days', sa.Integer(), nullable=False, server_default='3'))
    op.create_table(
        'intake_mileage_claims',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('kamer_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('km', sa.Float(), nullable=False),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.Column('rate_cents', sa.Integer(), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('approved_by', sa.String(length=100), nullable=False),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('paid_by', sa.String(length=100), nullable=True),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['kamer_id'], ['intake_kamers.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_intake_mileage_claims_kamer_month', 'intake_mileage_claims', ['kamer_id', 'month'])
    op.create_table(
        'intake_calendar_feeds',
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['volunteer_id'], ['intake_volunteers.id']),
        sa.PrimaryKeyConstraint('volunteer_id'),
    )


def downgrade() -> None:
    op.drop_table('intake_calendar_feeds')
    op.drop_index('ix_intake_mileage_claims_kamer_month', table_name='intake_mileage_claims')
    op.drop_table('intake_mileage_claims')
    with op.batch_alter_table('intake_kamers') as batch:
        batch.drop_column('follow_up_days')
        batch.drop_column('reminder_time')
        batch.drop_column('mileage_rate_cents')

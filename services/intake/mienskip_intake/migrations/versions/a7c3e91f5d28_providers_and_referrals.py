"""providers and referrals: who helps (volunteer, professional, both) and the referral to a care provider

Revision ID: a7c3e91f5d28
Revises: 9353fc2e32e4
Create Date: 2026-12-05 05:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e91f5d28'
down_revision = '9353fc2e32e4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_requests') as batch:
        batch.add_column(sa.Column('helper', sa.String(length=20), nullable=False, server_default='volunteer'))
    op.create_table(
        'intake_providers',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('categories', sa.JSON(), nullable=False),
        sa.Column('region', sa.String(length=100), nullable=False),
        sa.Column('kamer_ids', sa.JSON(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('webhook_url', sa.String(length=2000), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('answer_within_days', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_intake_providers_region', 'intake_providers', ['region'])
    op.create_table(
        'intake_referrals',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('request_id', sa.String(length=36), nullable=False),
        sa.Column('provider_id', sa.String(length=36), nullable=False),
        sa.Column('kamer_id', sa.String(length=36), nullable=False),
        sa.Column('region', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('who', sa.Text(), nullable=True),
        sa.Column('visit_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answer_note', sa.Text(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_by', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['intake_requests.id']),
        sa.ForeignKeyConstraint(['provider_id'], ['intake_providers.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_intake_referrals_request', 'intake_referrals', ['request_id', 'sent_at'])
    op.create_index('ix_intake_referrals_status_due', 'intake_referrals', ['status', 'due_at'])
    op.create_index('ix_intake_referrals_provider', 'intake_referrals', ['provider_id'])


def downgrade() -> None:
    op.drop_index('ix_intake_referrals_provider', table_name='intake_referrals')
    op.drop_index('ix_intake_referrals_status_due', table_name='intake_referrals')
    op.drop_index('ix_intake_referrals_request', table_name='intake_referrals')
    op.drop_table('intake_referrals')
    op.drop_index('ix_intake_providers_region', table_name='intake_providers')
    op.drop_table('intake_providers')
    with op.batch_alter_table('intake_requests') as batch:
        batch.drop_column('helper')

"""initial intake tables

Revision ID: a8991f48c2b4
Revises:
Create Date: 2026-11-25 21:43:01.204628
"""
import sqlalchemy as sa
from alembic import op

revision = 'a8991f48c2b4'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('subject_kind', sa.String(length=30), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intake_audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_intake_audit_subject', ['subject_kind', 'subject_id'], unique=False)

    op.create_table('intake_idempotency_keys',
    sa.Column('kamer_id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kamer_id', 'key'),
    sa.UniqueConstraint('kamer_id', 'key', name='uq_intake_idempotency')
    )
    op.create_table('intake_inbox',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('intake_kamers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('webhook_url', sa.String(length=2000), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('intake_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('correlation_id', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('intake_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_intake_outbox_unpublished', ['published_at', 'id'], unique=False)

    op.create_table('intake_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kamer_id', sa.String(length=36), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('resident_name', sa.Text(), nullable=True),
    sa.Column('resident_phone', sa.Text(), nullable=True),
    sa.Column('resident_language', sa.String(length=8), nullable=False),
    sa.Column('resident_address', sa.Text(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('needs_vog', sa.Boolean(), nullable=False),
    sa.Column('needs_language', sa.String(length=8), nullable=True),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recurrence', sa.String(length=100), nullable=True),
    sa.Column('urgency', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kamer_id'], ['intake_kamers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.create_index('ix_intake_requests_kamer_status', ['kamer_id', 'status'], unique=False)

    op.create_table('intake_tokens',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('kamer_id', sa.String(length=36), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['kamer_id'], ['intake_kamers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('intake_volunteers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kamer_id', sa.String(length=36), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('home_lat', sa.Float(), nullable=False),
    sa.Column('home_lon', sa.Float(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('has_car', sa.Boolean(), nullable=False),
    sa.Column('vog_checked_on', sa.Date(), nullable=True),
    sa.Column('availability', sa.JSON(), nullable=False),
    sa.Column('max_tasks_per_week', sa.Integer(), nullable=False),
    sa.Column('max_distance_km', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['kamer_id'], ['intake_kamers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intake_volunteers', schema=None) as batch_op:
        batch_op.create_index('ix_intake_volunteers_kamer', ['kamer_id'], unique=False)

    op.create_table('intake_assignments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('volunteer_id', sa.String(length=36), nullable=False),
    sa.Column('kamer_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('distance_km', sa.Float(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['intake_requests.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intake_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_intake_assignments_kamer_status', ['kamer_id', 'status'], unique=False)
        batch_op.create_index('ix_intake_assignments_request', ['request_id'], unique=False)

    op.create_table('intake_request_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['intake_requests.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intake_request_history', schema=None) as batch_op:
        batch_op.create_index('ix_intake_history_request', ['request_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('intake_request_history', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_history_request')

    op.drop_table('intake_request_history')
    with op.batch_alter_table('intake_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_assignments_request')
        batch_op.drop_index('ix_intake_assignments_kamer_status')

    op.drop_table('intake_assignments')
    with op.batch_alter_table('intake_volunteers', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_volunteers_kamer')

    op.drop_table('intake_volunteers')
    op.drop_table('intake_tokens')
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_requests_kamer_status')

    op.drop_table('intake_requests')
    with op.batch_alter_table('intake_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_outbox_unpublished')

    op.drop_table('intake_outbox')
    op.drop_table('intake_kamers')
    op.drop_table('intake_inbox')
    op.drop_table('intake_idempotency_keys')
    with op.batch_alter_table('intake_audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_audit_subject')

    op.drop_table('intake_audit_log')

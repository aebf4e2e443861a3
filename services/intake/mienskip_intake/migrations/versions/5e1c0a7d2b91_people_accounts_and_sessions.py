"""people's accounts and server-side sessions

People sign in to the pages as themselves (issue 16): accounts with argon2 password
hashes, the kamers a staff member works for, invitation and reset links (hashes only),
the pages' sessions (hashed ids, ended by logout, revocation and inactivity) and failed
sign-ins for lockout. The audit log names the person (``user_id``) or, as before, the
API token.

Revision ID: 5e1c0a7d2b91
Revises: 5c1d7e0a9b21
Create Date: 2026-12-05 02:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '5e1c0a7d2b91'
down_revision = '5c1d7e0a9b21'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('intake_users',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('lead', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('intake_user_kamers',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('kamer_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['kamer_id'], ['intake_kamers.id']),
    sa.ForeignKeyConstraint(['user_id'], ['intake_users.id']),
    sa.PrimaryKeyConstraint('user_id', 'kamer_id')
    )
    op.create_table('intake_account_links',
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['intake_users.id']),
    sa.PrimaryKeyConstraint('secret_hash')
    )
    op.create_index('ix_intake_account_links_user', 'intake_account_links', ['user_id'], unique=False)
    op.create_table('intake_web_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('token_id', sa.String(length=36), nullable=True),
    sa.Column('kamer_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['token_id'], ['intake_tokens.id']),
    sa.ForeignKeyConstraint(['user_id'], ['intake_users.id']),
    sa.PrimaryKeyConstraint('id_hash')
    )
    op.create_index('ix_intake_web_sessions_user', 'intake_web_sessions', ['user_id'], unique=False)
    op.create_index('ix_intake_web_sessions_token', 'intake_web_sessions', ['token_id'], unique=False)
    op.create_table('intake_sign_in_failures',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('email_key', sa.String(length=64), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_intake_sign_in_failures_email', 'intake_sign_in_failures', ['email_key', 'at'], unique=False)
    op.create_index('ix_intake_sign_in_failures_address', 'intake_sign_in_failures', ['address', 'at'], unique=False)
    with op.batch_alter_table('intake_audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.String(length=36), nullable=True))
        batch_op.alter_column('token_id', existing_type=sa.String(length=36), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('intake_audit_log', schema=None) as batch_op:
        batch_op.alter_column('token_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_column('user_id')
    op.drop_index('ix_intake_sign_in_failures_address', table_name='intake_sign_in_failures')
    op.drop_index('ix_intake_sign_in_failures_email', table_name='intake_sign_in_failures')
    op.drop_table('intake_sign_in_failures')
    op.drop_index('ix_intake_web_sessions_token', table_name='intake_web_sessions')
    op.drop_index('ix_intake_web_sessions_user', table_name='intake_web_sessions')
    op.drop_table('intake_web_sessions')
    op.drop_index('ix_intake_account_links_user', table_name='intake_account_links')
    op.drop_table('intake_account_links')
    op.drop_table('intake_user_kamers')
    op.drop_table('intake_users')

"""notify: care providers' contact points (issue 13), and a kamer's phone for the
messages that say whom to call with a question.

Revision ID: 0006_providers
Revises: 0005
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_providers"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notify_kamers") as batch:
        batch.add_column(sa.Column("phone", sa.String(50), nullable=True))
    op.create_table(
        "notify_providers",
        sa.Column("provider_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("webhook_url", sa.String(2000), nullable=True),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notify_providers")
    with op.batch_alter_table("notify_kamers") as batch:
        batch.drop_column("phone")
